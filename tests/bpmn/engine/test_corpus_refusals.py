"""Every refusal of a corpus file names its element and a fix (issue 14's target).

A process admin who brings a model from another tool reads the refusal and must know
what to change and where: each issue's message quotes the element it is about (its id,
as the API's ``element_id`` also gives it) or, for a problem of the file as a whole, the
file's name, and says what to do about it (a clause in the imperative after the reason:
"...; give it a condition", "...; add to the routing map at import ..."). Checked for
every file of ``../shared/bpmn-corpus/`` as an admin deploys it: without a routing map,
and with the map ``corpus_run`` builds from the names the file uses and the called files
beside it.
"""

from __future__ import annotations

import re

import pytest

from bpmn.engine.definition import compile_definition
from bpmn.engine.errors import BpmnValidationError, ValidationIssue
from bpmn.loading import called_files
from tests.bpmn.engine import corpus_report as report
from tests.bpmn.engine.corpus_run import routing_map_for

if not report.corpus_available():
    pytest.skip(
        f"BPMN corpus not found at {report.CORPUS} (expected ../shared/bpmn-corpus beside the repository)",
        allow_module_level=True,
    )

# A fix is an instruction: after the reason (a ";" or ":" ends it) comes a verb in the
# imperative, possibly after "or"/"then"/"so" (", so start with ..." too).
FIX_VERBS = (
    "add",
    "choose",
    "connect",
    "correct",
    "declare",
    "define",
    "deploy",
    "draw",
    "give",
    "keep",
    "make",
    "mark",
    "move",
    "name",
    "put",
    "remove",
    "rename",
    "replace",
    "save",
    "set",
    "split",
    "start",
    "use",
    "write",
)
FIX = re.compile(
    r"(?:[;:.]\s+(?:(?:or|then|so|instead)\s+)?|,\s+(?:or|then|so)\s+)(?:" + "|".join(FIX_VERBS) + r")\b",
    re.IGNORECASE,
)


def has_fix(message: str) -> bool:
    return FIX.search(message) is not None


def names_element(issue: ValidationIssue, filename: str) -> bool:
    if issue.element_id is None:
        return repr(filename) in issue.message
    return repr(issue.element_id) in issue.message or f'"{issue.element_id}"' in issue.message


def refusals(path) -> list[tuple[str, ValidationIssue]]:
    data = path.read_bytes()
    called = [(entry["filename"], entry["bpmn_xml"]) for entry in called_files(path)]
    found = []
    for variant, kwargs in (
        ("no map", {}),
        ("routing map", {"routing": routing_map_for(data) or None, "called": called}),
    ):
        try:
            compile_definition(data, forms=report.forms_beside(path), filename=path.name, **kwargs)
        except BpmnValidationError as exc:
            found += [(variant, issue) for issue in exc.issues]
    return found


@pytest.mark.parametrize("path", report.corpus_files(), ids=report.relative)
def test_every_refusal_names_its_element_and_a_fix(path):
    bad = [
        f"{variant}: [{issue.code}] element {issue.element_id!r}: {issue.message}"
        for variant, issue in refusals(path)
        if not (names_element(issue, path.name) and has_fix(issue.message))
    ]
    assert bad == [], f"{report.relative(path)}: refusals without their element or a fix:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("message", "fix"),
    [
        ("sequence flow 'F1' has no condition; give it a condition", True),
        ("the id 'a' is used twice: by a task at line 3 and by a task at line 9", False),
        ("script: line 1, column 5: syntax error: invalid syntax", False),
        ("timer 'T' has no timeDuration; or set isInterrupting", True),
    ],
)
def test_the_fix_check_tells_an_instruction_from_a_reason(message, fix):
    assert has_fix(message) is fix
