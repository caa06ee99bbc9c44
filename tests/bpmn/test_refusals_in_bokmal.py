"""A refused model's problems in bokmål (issue 13): the engine keeps its English message and
gives the params it is built from; ``core.messages`` words every code the engine can raise,
and what a process admin reads names the element, in bokmål, with the fix."""

from __future__ import annotations

import pytest
from django.utils import translation

from bpmn.engine.definition import compile_definition
from bpmn.engine.errors import ISSUE_CODES, BpmnValidationError, ValidationIssue
from bpmn.services import issue_error, issue_message_codes
from core.errors import in_language
from core.messages import MESSAGES
from tests.bpmn.engine import corpus_report as report
from tests.bpmn.refused_models import REFUSED
from tests.english import english_in


def refused_issues(bpmn_xml: bytes | str, **kwargs) -> list[ValidationIssue]:
    data = bpmn_xml.encode() if isinstance(bpmn_xml, str) else bpmn_xml
    with pytest.raises(BpmnValidationError) as refused:
        compile_definition(data, **kwargs)
    return refused.value.issues


def in_bokmal(issues: list[ValidationIssue]) -> list[str]:
    with translation.override("nb"):
        return [
            error["message"] for error in in_language([issue_error(issue) for issue in issues], translation.gettext)
        ]


def what_is_wrong(issue: ValidationIssue, text: str, filename: str) -> list[str]:
    """Why ``text`` is not what the admin should read about ``issue`` (empty: it is)."""
    wrong = [f"English: {phrase!r}" for phrase in english_in(text)]
    if text == issue.message:
        wrong.append("the engine's English message")
    if issue.element_id and issue.element_id not in text and filename not in text:
        wrong.append(f"does not name {issue.element_id!r}")
    if not issue.element_id and filename not in text and "rutekartet" not in text and "banekartet" not in text:
        wrong.append(f"names neither an element nor the file {filename!r}")
    return wrong


def test_every_code_the_engine_can_raise_has_a_bokmal_text():
    model_codes = {code for code in MESSAGES if code.startswith("model.")}
    assert model_codes == issue_message_codes()
    with translation.override("nb"):
        untranslated = [code for code in sorted(model_codes) if translation.gettext(MESSAGES[code]) == MESSAGES[code]]
    assert untranslated == []


def test_a_code_not_listed_cannot_be_raised():
    """So a new refusal cannot reach an admin without its texts: the engine refuses to make
    it until it is listed in ISSUE_CODES, and the test above wants its text then."""
    with pytest.raises(ValueError, match="ISSUE_CODES"):
        ValidationIssue("brand-new-check", "the model is wrong")
    with pytest.raises(ValueError, match="variants"):
        ValidationIssue("dangling-flow", "the flow dangles", params={"variant": "brand-new"})
    with pytest.raises(ValueError, match="variants"):
        ValidationIssue("dangling-flow", "the flow dangles")
    assert set(ISSUE_CODES) >= {"doctype", "unsafe-script", "bpmn-invalid"}


@pytest.mark.parametrize(
    ("code", "bpmn_xml", "forms", "routing", "element"), REFUSED, ids=[case[0] for case in REFUSED]
)
def test_each_refusal_reads_in_bokmal_and_names_its_element(code, bpmn_xml, forms, routing, element):
    issues = refused_issues(bpmn_xml, forms=forms, routing=routing, filename="model.bpmn")
    assert code in {issue.code for issue in issues}
    assert element is None or element in {issue.element_id for issue in issues}
    texts = in_bokmal(issues)
    wrong = {text: what_is_wrong(issue, text, "model.bpmn") for issue, text in zip(issues, texts, strict=True)}
    assert {text: problems for text, problems in wrong.items() if problems} == {}


def test_a_parsers_words_are_quoted_inside_a_bokmal_sentence():
    [issue] = refused_issues(b"<bpmn:definitions><unclosed>", filename="model.bpmn")
    [text] = in_bokmal([issue])
    assert text.startswith("filen «model.bpmn» er ikke velformet XML (parseren sier: «")
    assert issue.params["detail"] in text and text.endswith("og last den opp igjen")


def test_the_engine_keeps_its_english_message():
    [issue] = refused_issues(b"", filename="model.bpmn")
    assert issue.message == "the file 'model.bpmn' is empty; upload the BPMN file itself"
    assert in_bokmal([issue]) == ["filen «model.bpmn» er tom; last opp selve BPMN-filen"]


@pytest.mark.skipif(not report.corpus_available(), reason="the BPMN corpus is not beside the repository")
@pytest.mark.parametrize("path", report.corpus_files() if report.corpus_available() else [], ids=report.relative)
def test_every_refusal_of_a_corpus_file_reads_in_bokmal(path):
    """The models admins bring from other tools: every refusal, as they would read it."""
    from tests.bpmn.engine.test_corpus_refusals import refusals

    issues = [issue for _, issue in refusals(path)]
    texts = in_bokmal(issues)
    wrong = [
        f"[{issue.code}] {text}: {', '.join(problems)}"
        for issue, text in zip(issues, texts, strict=True)
        if (problems := what_is_wrong(issue, text, issue.file or path.name))
    ]
    assert wrong == []


def test_a_forms_problem_names_the_field():
    case = next(case for case in REFUSED if case[0] == "remote-ref")
    issues = refused_issues(case[1], forms=case[2], filename="model.bpmn")
    [text] = in_bokmal([issue for issue in issues if issue.code == "remote-ref"])
    assert text.startswith("skjemaet «check.schema.json» for «Task_check» har en $ref ved «address» til en annen fil")


def test_a_timers_problem_quotes_the_models_time():
    case = next(case for case in REFUSED if case[0] == "invalid-timer")
    issues = refused_issues(case[1], forms=case[2], filename="model.bpmn")
    [text] = in_bokmal([issue for issue in issues if issue.code == "invalid-timer"])
    assert text.startswith("tidsfristen «Task_1» har timeDuration «every monday», som verken er en gyldig ISO-8601")
