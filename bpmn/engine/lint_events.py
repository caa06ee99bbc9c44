"""Deploy-time rule for start events: Brobygger opens cases explicitly.

A case is about one person and needs its participating agencies, so it is opened by a
person (``start_case``), never by a clock or an anonymous message. A top-level timer or
message start event would have to invent both, so it is refused with the way to model
it instead. Timer and message start events of *event sub-processes* are fine: they
react inside a running case.
"""

from __future__ import annotations

from .errors import ValidationIssue

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_ADVICE = {
    "timerEventDefinition": (
        "timer-start-event",
        "is a timer start event; Brobygger opens cases explicitly (a person and the "
        "participating agencies are needed), so start with a plain start event followed "
        "by a timer intermediate catch event to wait",
    ),
    "messageEventDefinition": (
        "message-start-event",
        "is a message start event; Brobygger opens cases explicitly (POST /cases/), so "
        "start with a plain start event and catch the message later with an intermediate "
        "or boundary message event",
    ),
}


def lint_start_events(root, *, filename: str) -> list[ValidationIssue]:
    issues = []
    for process in root.iter(f"{{{BPMN}}}process"):
        for start in process.findall(f"{{{BPMN}}}startEvent"):
            for tag, (code, reason) in _ADVICE.items():
                if start.find(f"{{{BPMN}}}{tag}") is not None:
                    element_id = start.get("id")
                    issues.append(ValidationIssue(
                        code, f"start event '{element_id}' {reason}", element_id, start.sourceline, filename,
                    ))
    return issues
