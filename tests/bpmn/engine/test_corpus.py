"""Every file of the shared BPMN corpus deploys or is refused with a reason (issue 2).

The corpus (``../shared/bpmn-corpus/`` beside the repository: MIWG models and tool
exports, SpiffWorkflow's test models, Camunda examples; BPMN and DMN) is read in place,
never copied. For each file ``compile_definition`` must, within ``TIME_LIMIT`` seconds,
return a ``CompiledDefinition`` or raise ``BpmnValidationError`` whose issues each carry a
code and a message and point at an element (or, for file-wide problems, name the
reason). Any other exception or a hang fails with the file name. DMN files are decision
tables, not process models: they are refused as ``wrong-namespace`` naming the DMN
namespace. Deploying never evaluates or executes anything from a file.

Summary: ``.venv/bin/python -m tests.bpmn.engine.corpus_report`` (also printed by
``test_corpus_summary`` with ``-s``).
"""

from __future__ import annotations

import contextlib
import time

import pytest

from bpmn.engine.definition import CompiledDefinition, compile_definition
from bpmn.engine.errors import BpmnValidationError, ValidationIssue
from tests.bpmn.engine import corpus_report as report

if not report.corpus_available():
    pytest.skip(
        f"BPMN corpus not found at {report.CORPUS} (expected ../shared/bpmn-corpus beside the repository)",
        allow_module_level=True,
    )

FILES = report.corpus_files()
BPMN_FILES = [path for path in FILES if not report.is_dmn(path)]
DMN_FILES = [path for path in FILES if report.is_dmn(path)]
TIME_LIMIT = report.TIME_LIMIT


@pytest.fixture(scope="module", autouse=True)
def _warm():
    # Imports happen once here, so neither a file's time nor the execution guard sees them.
    report.warm_up()


@pytest.fixture
def guard():
    with report.no_code_execution() as calls:
        yield calls


def _compile(path, forms, variant):
    outcome = report.compile_file(path, forms=forms, variant=variant)
    where = f"{outcome.name} ({variant})"
    if outcome.kind == "timeout":
        pytest.fail(f"{where}: compile_definition {outcome.error} (hang)")
    if outcome.kind == "crashed":
        pytest.fail(f"{where}: raised something other than BpmnValidationError: {outcome.error}")
    assert outcome.seconds < TIME_LIMIT, f"{where}: took {outcome.seconds:.2f} s"
    return outcome


def _check_refusal(where: str, error: BpmnValidationError, raw: bytes) -> None:
    assert error.issues, f"{where}: BpmnValidationError without issues"
    for issue in error.issues:
        assert isinstance(issue, ValidationIssue), f"{where}: {issue!r} is not a ValidationIssue"
        assert isinstance(issue.code, str) and issue.code.strip(), f"{where}: issue without code: {issue}"
        assert isinstance(issue.message, str) and issue.message.strip(), f"{where}: issue without message: {issue}"
        assert "Traceback" not in issue.message, f"{where}: traceback in message: {issue.message}"
        assert issue.line is None or (isinstance(issue.line, int) and issue.line > 0), f"{where}: line {issue.line}"
        if issue.element_id is None:
            assert issue.code in report.FILE_LEVEL_CODES, (
                f"{where}: issue {issue.code!r} names no element: {issue.message}"
            )
            assert len(issue.message.split()) >= 5, f"{where}: message gives no reason: {issue.message!r}"
        else:
            assert issue.element_id.encode() in raw or "&" in issue.element_id or not issue.element_id.isascii(), (
                f"{where}: issue names element {issue.element_id!r}, which is not in the file"
            )
    for issue in error.issues:
        if issue.code == "no-executable-process" and issue.element_id is not None:
            # It lists the process ids it found, so the modeler knows which one to mark.
            assert f"'{issue.element_id}'" in issue.message, f"{where}: {issue.message}"


@pytest.mark.parametrize("path", BPMN_FILES, ids=report.relative)
def test_bpmn_file_deploys_or_is_refused_with_reason(path, guard):
    raw = path.read_bytes()
    for variant, forms in report.variants(path):
        outcome = _compile(path, forms, variant)
        where = f"{outcome.name} ({variant})"
        if outcome.kind == "deployed":
            compiled = outcome.result
            assert isinstance(compiled, CompiledDefinition), where
            assert compiled.process_id and compiled.spec_json.startswith("{"), where
        else:
            _check_refusal(where, outcome.result, raw)
    assert guard == [], f"{report.relative(path)}: code was evaluated while deploying: {guard}"


@pytest.mark.parametrize("path", DMN_FILES, ids=report.relative)
def test_dmn_file_is_refused_as_not_a_process(path, guard):
    outcome = _compile(path, {}, "no forms")
    assert outcome.kind == "refused", f"{outcome.name}: a DMN decision table deployed as a process"
    (issue,) = outcome.issues
    assert issue.code == "wrong-namespace", f"{outcome.name}: {issue}"
    assert "DMN" in issue.message and "'definitions'" in issue.message, issue.message
    assert guard == []


def test_corpus_is_complete():
    """The manifest and the folder agree, so no file is silently left out."""
    listed = set(report.manifest_paths())
    found = {report.relative(path) for path in FILES}
    assert found, "no model files found in the corpus"
    if listed:
        assert listed == found, (
            f"in manifest only: {sorted(listed - found)[:5]}; on disk only: {sorted(found - listed)[:5]}"
        )


def test_corpus_summary(capsys):
    with report.no_code_execution() as calls:
        outcomes = report.run_corpus()
    summary = report.summarize(outcomes)
    with capsys.disabled():
        print("\n" + report.format_report(outcomes))
    bad = [
        f"{o.name} ({o.variant}): {o.kind}: {o.error.splitlines()[0]}"
        for o in outcomes
        if o.kind in ("crashed", "timeout")
    ]
    assert bad == []
    assert calls == []
    assert summary["files"] == len(FILES)
    assert summary["kinds"].get("deployed", 0) + summary["kinds"].get("refused", 0) == len(outcomes)
    assert summary["kinds"].get("deployed", 0) > 0  # the executable examples do deploy


# --- the guards themselves -------------------------------------------------------------------


def test_watchdog_turns_a_hang_into_a_timeout():
    # A hang long beside the limit: cut short, the call ends in a fraction of it however
    # long a loaded machine takes to deliver the alarm.
    hang = 30
    started = time.perf_counter()
    with pytest.raises(report.CorpusTimeout):
        report.call_with_watchdog(lambda: time.sleep(hang), limit=0.2)
    assert time.perf_counter() - started < hang / 3


def test_watchdog_is_not_swallowed_by_except_exception():
    def stubborn():
        deadline = time.perf_counter() + 3
        while time.perf_counter() < deadline:
            with contextlib.suppress(Exception):  # what a careless engine might do
                time.sleep(0.05)

    with pytest.raises(report.CorpusTimeout):
        report.call_with_watchdog(stubborn, limit=0.2)


def test_execution_guard_sees_an_evaluation():
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

    with report.no_code_execution() as calls:
        eval(compile("1 + 1", "<model expression>", "eval"))  # the guard must see this
        with pytest.raises(AssertionError):
            PythonScriptEngine().evaluate(None, "1 + 1")
    assert any("exec" in call for call in calls)
    assert "PythonScriptEngine.evaluate" in calls
    assert PythonScriptEngine.evaluate.__name__ == "evaluate"  # restored


def test_scripts_and_conditions_in_a_model_are_not_run_at_deploy(guard):
    xml = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">
  <bpmn:process id="P" isExecutable="true">
    <bpmn:startEvent id="S"/>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Script"/>
    <bpmn:scriptTask id="Script"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="F2" sourceRef="Script" targetRef="G"/>
    <bpmn:exclusiveGateway id="G" default="F4"/>
    <bpmn:sequenceFlow id="F3" sourceRef="G" targetRef="E">
      <bpmn:conditionExpression>x == 1</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F4" sourceRef="G" targetRef="E"/>
    <bpmn:endEvent id="E"/>
  </bpmn:process>
</bpmn:definitions>"""
    compiled = compile_definition(xml, forms={}, lanes=None, filename="scripted.bpmn")
    assert compiled.process_id == "P"
    assert guard == []


# --- regressions for what the corpus found ------------------------------------------------------

_SERVICE_TASK_WITH_QUOTE = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">
  <bpmn:process id="P" isExecutable="true">
    <bpmn:startEvent id="S"/>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Send&apos;it"/>
    <bpmn:serviceTask id="Send&apos;it"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Send&apos;it" targetRef="E"/>
    <bpmn:endEvent id="E"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_spiff_error_on_an_element_whose_id_has_a_quote_is_a_validation_error():
    # _line_of put the id into an XPath: lxml raised XPathSyntaxError (a SyntaxError), a 500.
    with pytest.raises(BpmnValidationError) as caught:
        compile_definition(_SERVICE_TASK_WITH_QUOTE, forms={}, lanes=None, filename="quote.bpmn")
    (issue,) = caught.value.issues
    assert issue.code == "bpmn-invalid"
    assert issue.element_id == "Send'it"
    assert issue.line == 6


_NO_IS_EXECUTABLE = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">
  <bpmn:process id="Exported">
    <bpmn:startEvent id="S"/>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="E"/>
    <bpmn:endEvent id="E"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_process_without_is_executable_attribute_deploys():
    # ARIS and IBM exports leave isExecutable out (it defaults to true, as the lint and
    # SpiffWorkflow treat it); the deploy said "the file has 0 executable top-level processes ()".
    compiled = compile_definition(_NO_IS_EXECUTABLE, forms={}, lanes=None, filename="aris.bpmn")
    assert compiled.process_id == "Exported"


def test_explicitly_executable_process_is_still_preferred():
    xml = _NO_IS_EXECUTABLE.replace(
        b"</bpmn:definitions>",
        b'<bpmn:process id="Main" isExecutable="true"><bpmn:startEvent id="S2"/></bpmn:process></bpmn:definitions>',
    )
    assert compile_definition(xml, forms={}, lanes=None, filename="two.bpmn").process_id == "Main"


def test_every_executable_process_called_is_refused_naming_them():
    xml = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">
  <bpmn:process id="Caller" isExecutable="false">
    <bpmn:callActivity id="Call" calledElement="Called"/>
  </bpmn:process>
  <bpmn:process id="Called" isExecutable="true">
    <bpmn:startEvent id="S"/>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="E"/>
    <bpmn:endEvent id="E"/>
  </bpmn:process>
</bpmn:definitions>"""
    with pytest.raises(BpmnValidationError) as caught:
        compile_definition(xml, forms={}, lanes=None, filename="called.bpmn")
    (issue,) = caught.value.issues
    assert issue.code == "no-executable-process"
    assert issue.element_id == "Called"
    assert "'Called'" in issue.message and "0 executable" not in issue.message


def _calling(inner: str) -> bytes:
    return f"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">
  <bpmn:process id="P" isExecutable="true">
    <bpmn:startEvent id="S"/>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Sub"/>
    <bpmn:subProcess id="Sub">
      <bpmn:startEvent id="SubStart"/>
      <bpmn:sequenceFlow id="F3" sourceRef="SubStart" targetRef="{inner}"/>
      <bpmn:callActivity id="{inner}" calledElement="Elsewhere"/>
      <bpmn:sequenceFlow id="F4" sourceRef="{inner}" targetRef="SubEnd"/>
      <bpmn:endEvent id="SubEnd"/>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="F2" sourceRef="Sub" targetRef="Call_top"/>
    <bpmn:callActivity id="Call_top" calledElement="Missing"/>
    <bpmn:sequenceFlow id="F5" sourceRef="Call_top" targetRef="E"/>
    <bpmn:endEvent id="E"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def test_call_activity_to_a_process_not_in_the_file_is_named():
    # SpiffWorkflow's "The process 'X' was not found" names no element (and below the top
    # level it ignores require_call_activity_specs); each call activity is now named.
    with pytest.raises(BpmnValidationError) as caught:
        compile_definition(_calling("Call_inner"), forms={}, lanes=None, filename="calls.bpmn")
    issues = caught.value.issues
    assert {issue.code for issue in issues} == {"missing-called-process"}
    assert {(issue.element_id, issue.line) for issue in issues} == {("Call_inner", 9), ("Call_top", 14)}
    by_id = {issue.element_id: issue.message for issue in issues}
    assert "'Elsewhere'" in by_id["Call_inner"] and "'Missing'" in by_id["Call_top"]
