"""Every error code raised in the product has a message, and errors carry no values."""

import ast
from pathlib import Path

import pytest

from bpmn.engine.errors import ENGINE_CODES
from bpmn.engine.forms_validation import FORM_PROBLEM_CODES
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError, field_error
from core.messages import MESSAGES, render

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("core", "bpmn", "permissions", "workflows", "retention", "web", "api", "config", "accounts")
RAISERS = {
    "NotFound",
    "Forbidden",
    "Conflict",
    "InvalidInput",
    "ServiceError",
    "InvalidModel",
    "field_error",
    "coded",  # api.exceptions: a serializer's error of one of our codes
    "translate",
    "__init__",
    # A stored message (a job's error) and what makes one.
    "Message",
    "JobError",
    "Refusal",
    "WebhookRefused",
    "HostUnknown",
    "ArchiveDeliveryFailed",
    "unreachable",  # workflows.jobs.errors: the one error of an address not reached
}


def _codes_in_source() -> dict[str, list[str]]:
    """Every string literal given as a code: the first argument of the error types (and of a
    subclass's ``super().__init__``), of ``web.pages.translate``, the second of
    ``field_error``, ``code=`` of ``InvalidNationalId``, of the error types and of the helpers
    that hand a code on, and the value of a ``"code"`` key in a dict of keyword arguments."""
    found: dict[str, list[str]] = {}
    for top in PRODUCT:
        for path in (REPO / top).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Dict):
                    args = [
                        value
                        for key, value in zip(node.keys, node.values, strict=True)
                        if isinstance(key, ast.Constant) and key.value == "code"
                    ]
                elif isinstance(node, ast.Call):
                    name = getattr(node.func, "id", getattr(node.func, "attr", None))
                    args = []
                    if name in RAISERS:
                        position = 1 if name == "field_error" else 0
                        args = node.args[position : position + 1]
                    if name in RAISERS or name in (
                        "InvalidNationalId",
                        "error_body",
                        "_valid_start_data",
                        "SignInRefused",
                        "refuse_when_full",
                    ):
                        args += [kw.value for kw in node.keywords if kw.arg == "code"]
                else:
                    continue
                for value in _literals(args):
                    found.setdefault(value, []).append(f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def _literals(nodes):
    """String constants, also both sides of ``"a" if x else "b"``; other expressions (an
    f-string built from a table, a variable) are not codes written out."""
    for node in nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.IfExp):
            yield from _literals([node.body, node.orelse])


def test_every_code_raised_has_a_message():
    codes = _codes_in_source()
    assert len(codes) > 80, "the walk found too few codes: is it still reading the calls?"
    unknown = {code: where for code, where in codes.items() if code not in MESSAGES}
    assert unknown == {}


def test_every_message_is_used_somewhere():
    used = set(_codes_in_source())
    # Codes built from the source's own structure rather than written out:
    used |= {f"schema.{keyword}" for keyword in __import__("workflows.forms").forms.SCHEMA_KEYWORDS}
    used |= {"schema.other"}
    versions = __import__("workflows.services.versions").services.versions
    used |= {f"migration.reason.{reason}" for reason in versions.REASONS}
    used |= {f"migration.count.{hidden}" for hidden in (versions.HIDDEN_SMALL, versions.HIDDEN_COMPLEMENTARY)}
    used |= __import__("bpmn.services").services.issue_message_codes()  # a refused model's problems
    used |= {f"form_problem.{code}" for code in FORM_PROBLEM_CODES}  # the editor's form preview
    used |= set(__import__("workflows.steps.runner").steps.runner.TASK_FAILURE_CODES.values())  # a failed task
    used |= {f"engine.{code}" for code in ENGINE_CODES}  # the engine's own words (workflows.steps.runner)
    used |= __import__("api.field_errors").field_errors.CODES  # DRF's own errors in our codes
    assert set(MESSAGES) - used == set()


def test_each_error_type_has_its_status():
    assert [cls("not_found").status_code for cls in (NotFound, Forbidden, Conflict, InvalidInput)] == [
        404,
        403,
        409,
        400,
    ]


def test_an_unknown_code_is_a_bug_not_a_message():
    with pytest.raises(KeyError, match="no message for error code"):
        ServiceError("no such code at all")


def test_detail_and_field_errors_render_their_params():
    exc = Conflict("task.claimed_by_other", name="nils")
    assert exc.detail == str(exc) == "the task is claimed by nils"
    error = field_error("age", "schema.minimum", limit=0)
    assert error == {"field": "age", "code": "schema.minimum", "message": "must be at least 0", "params": {"limit": 0}}


def test_type_names_are_words_only_in_translation():
    assert render("schema.type", {"type": "boolean"}) == "expected boolean"
    assert render("schema.type", {"type": "boolean"}, translate=lambda text: f"[{text}]") == "[expected [yes or no]]"
