"""Patterns that RE2 matches in linear time, but with a factor in the thousands: a counted
repetition such as ``[^.]{1000}\\.`` (a thousand characters, then a full stop) searched in
non-ASCII text runs RE2's DFA out of memory, and its fallback steps every place of the
pattern for every byte (100,000 emoji took 4.3 s, a list of short texts as long). Texts
checked as ``format: regex`` cost RE2 milliseconds to compile whatever their length
(``\\pL{1000}``, nine characters: 44 ms). Each validation has a budget for both; a value past
it is a 400 naming the field, never matched (resource-exhaustion review)."""

import pytest

from bpmn.engine.forms_validation import PatternCost, form_validator, pattern_cost, work_budget
from core.errors import InvalidInput
from tests.timing import cpu_time
from workflows import services
from workflows.models import TaskStatus

from . import form_safety
from .helpers import open_tasks

pytestmark = pytest.mark.django_db

SENTENCE = r"[^.]{1000}\."  # looks harmless: a thousand characters, then a full stop
NAME = r"^[A-Za-zÆØÅæøå][A-Za-zÆØÅæøå '-]{0,99}$"
FORM = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "pattern": SENTENCE, "x-category": "coordination"},
        "unlike": {"type": "string", "not": {"pattern": SENTENCE}, "x-category": "coordination"},
        "sentences": {"type": "array", "items": {"type": "string", "pattern": SENTENCE}, "x-category": "coordination"},
        "names": {"type": "array", "items": {"type": "string", "pattern": NAME}, "x-category": "coordination"},
        "lines": {"type": "array", "items": {"type": "string", "pattern": "^[^<>]*$"}, "x-category": "coordination"},
        "filters": {"type": "array", "items": {"type": "string", "format": "regex"}, "x-category": "coordination"},
        **form_safety.FILL_FORM["properties"],
    },
}


@pytest.fixture
def task(users, agencies):
    form_safety.deploy(FORM)
    (task,) = open_tasks(form_safety.start(users, agencies))
    return task


def _refused(users, task, data):
    with cpu_time() as used, pytest.raises(InvalidInput) as raised:
        services.complete_task(actor=users["nils"], task_id=task.pk, data=data)
    return used.seconds, {(error["field"], error["code"]) for error in raised.value.errors}


def test_a_long_text_against_a_wide_pattern_is_refused_at_once_naming_the_field(users, task):
    seconds, errors = _refused(users, task, {"summary": "😀" * 100_000})
    assert seconds < 1.0  # 4.3 s before
    assert errors == {("summary", "schema.too_costly")}
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_a_check_cut_short_is_never_taken_for_an_answer(users, task):
    """``not`` turns a failed check into a pass: running out must fail the whole value."""
    seconds, errors = _refused(users, task, {"unlike": "😀" * 100_000})
    assert seconds < 1.0
    assert errors == {("unlike", "schema.too_costly")}


def test_many_shorter_texts_share_one_budget(users, task):
    seconds, errors = _refused(users, task, {"sentences": ["😀" * 1_500] * 40})
    assert seconds < 1.0  # 2.5 s before: 61 ms each
    assert "schema.too_costly" in {code for _, code in errors}


def test_the_fields_of_a_payload_validated_one_by_one_share_one_budget():
    """A message payload or start data is validated field by field: one budget for all."""
    field = form_validator(FORM).evolve(schema=FORM["properties"]["summary"])
    text = "😀" * 1_000
    with cpu_time() as used, work_budget():
        found = [next(field.iter_errors(text)).validator for _ in range(40)]
    assert used.seconds < 1.0
    assert found[0] == "pattern" and found[-1] == "x-brobygger-too-costly"


def test_texts_checked_as_regular_expressions_are_paid_for(users, task):
    seconds, errors = _refused(users, task, {"filters": [r"\pL{1000}"] * 300})
    assert seconds < 1.0  # 13 s before: 44 ms each
    # Too large for RE2's 256 KiB: each is refused until the budget runs out (the answer
    # lists the first 100 errors, all of them these).
    assert {code for _, code in errors} <= {"schema.format", "schema.too_costly"}
    seconds, errors = _refused(users, task, {"filters": ["a" * 1_001]})
    assert errors == {("filters.0", "schema.format")}


def test_ordinary_patterns_over_ordinary_data_pass(users, task):
    data = {
        "names": ["Åse Kari Ødegård-Nilsen"] * 100,
        "lines": ["ei linje med tekst, æøå " * 40] * 500,  # about 0.5 MB
        "summary": "a" * 1_000 + ".",
        "filters": [r"^\d{4}$", r"(?i)søknad.{0,200}innvilget"],
        "code": "aaa",
    }
    with cpu_time() as used:
        services.complete_task(actor=users["nils"], task_id=task.pk, data=data)
    assert used.seconds < 1.5
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


@pytest.mark.parametrize(
    ("pattern", "cost"),
    [
        (r".{1000}x", PatternCost(1001, None)),
        (NAME, PatternCost(100, 100)),
        (r"(.{100}|\p{L}{100}|\w{100})x", PatternCost(301, None)),
        (r"^\d{4}$", PatternCost(4, 4)),
        (r"(?i)^[a-z]{1,5}$", PatternCost(5, 5)),
        (r"^a|b{1000}", PatternCost(1001, None)),  # the second branch is not anchored
        (r"(?m)^a$", PatternCost(1, None)),  # ^ at every line
        (r"[]a{}]{3}", PatternCost(3, None)),
        (r"\Qa{b\E{2}", PatternCost(4, None)),
        (r"x{2,}", PatternCost(3, None)),
        (r"^(ab|c){2}$", PatternCost(6, 4)),
        (r"^(\w+\s?)*$", PatternCost(2, None)),
        (r"(?P<name>ab){3}", PatternCost(6, None)),
    ],
)
def test_the_cost_of_a_pattern_is_read_from_its_text(pattern, cost):
    assert pattern_cost(pattern) == cost
