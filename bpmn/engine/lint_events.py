"""Deploy-time rule for start events: Brobygger opens cases explicitly.

A case is about one person and needs its participating agencies, so it is opened by
someone accountable who names them: a person (``start_case``, ``POST /cases/``) or an
agency's system sending the process's start message with them (``POST /messages/`` with
``start``). A top-level timer start event would have to invent both, so it is refused
with the way to model it instead. A top-level message start event is allowed, alone: the
process then starts only through the messages API. Timer and message start events of
*event sub-processes* are fine: they react inside a running case, as long as they do not
interrupt it: SpiffWorkflow 3.2 runs an interrupting event sub-process beside the main
flow without cancelling it (its ``EventSubprocess`` is a plain sub-workflow), so such a
model would silently do something other than it says and is refused.
"""

from __future__ import annotations

from lxml import etree

from .errors import ValidationIssue

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_TIMER_ADVICE = (
    "is a timer start event; Brobygger opens cases explicitly (a person and the "
    "participating agencies are needed), so start with a plain start event followed "
    "by a timer intermediate catch event to wait. Only message start events are allowed, "
    "started by POST /api/v1/messages/ with `start` (the person and the agencies)"
)
_INTERRUPTING = (
    "starts an interrupting event sub-process, which SpiffWorkflow 3.2 does not interrupt "
    'with: the main flow would go on beside it. Set isInterrupting="false" on the start '
    "event, or use an interrupting boundary event on the task to stop"
)
_NOT_ALONE = (
    "is a message start event beside other start events; a process that starts on a "
    "message must have that one start event (it is started only by POST /api/v1/messages/ "
    "with `start`): remove the other start events, or make this one a plain start event "
    "followed by a message catch event"
)


def lint_start_events(root: etree._Element, *, filename: str) -> list[ValidationIssue]:
    issues = []
    for process in root.iter(f"{{{BPMN}}}process"):
        starts = process.findall(f"{{{BPMN}}}startEvent")
        for start in starts:
            element_id = start.get("id")
            if start.find(f"{{{BPMN}}}timerEventDefinition") is not None:
                issues.append(
                    ValidationIssue(
                        "timer-start-event",
                        f"start event '{element_id}' {_TIMER_ADVICE}",
                        element_id,
                        start.sourceline,
                        filename,
                    )
                )
            elif start.find(f"{{{BPMN}}}messageEventDefinition") is not None and len(starts) > 1:
                issues.append(
                    ValidationIssue(
                        "message-start-event",
                        f"start event '{element_id}' {_NOT_ALONE}",
                        element_id,
                        start.sourceline,
                        filename,
                    )
                )
    for sub_process in root.iter(f"{{{BPMN}}}subProcess"):
        if sub_process.get("triggeredByEvent") != "true":
            continue
        for start in sub_process.findall(f"{{{BPMN}}}startEvent"):
            # BPMN's default is interrupting: only an explicit "false" is safe.
            if start.get("isInterrupting", "true") != "false":
                element_id = start.get("id")
                issues.append(
                    ValidationIssue(
                        "interrupting-event-subprocess",
                        f"start event '{element_id}' {_INTERRUPTING}",
                        element_id,
                        start.sourceline,
                        filename,
                    )
                )
    return issues
