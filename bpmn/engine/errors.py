"""Errors the engine raises. Plain Python: the service layer maps them to HTTP."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Self

# Every code a ``ValidationIssue`` can have, with the variants of its message (a code whose
# sites say different things names which in ``params["variant"]``). The interfaces word
# each (code, variant) in the user's language from ``params`` (core.messages "model.*"),
# and a test fails when one here has no such text: a new code must be listed to be used.
ISSUE_CODES: dict[str, frozenset[str]] = {
    code: frozenset(variants)
    for code, variants in {
        "bpmn-invalid": (
            "one-start-event",
            "no-start-event",
            "several-outgoing",
            "multi-instance-both",
            "multi-instance-none",
            "dmn",
            "no-called-element",
            "data-store",
            "service-task",
            "service-task-topic",
            "other",
        ),
        "conflicting-category": (),
        "dangling-flow": ("no-end", "unknown", "not-a-node", "other-container"),
        "doctype": (),
        "duplicate-id": (),
        "called-duplicate-id": (),
        "embedded-id": (),
        "empty-timer": (),
        "interrupting-event-subprocess": (),
        "invalid-category": (),
        "invalid-condition": ("empty", "syntax"),
        "invalid-default-flow": ("unknown", "not-outgoing"),
        "invalid-date-range": (),
        "invalid-due-in": (),
        "invalid-enum-labels": (),
        "invalid-expression": (),
        "invalid-form": (),
        "invalid-field-schema": (),
        "invalid-field-format": ("type", "spelling"),
        "invalid-inherit": (),
        "invalid-lane-map": (),
        "invalid-outcome-role": (),
        "invalid-pattern": (),
        "invalid-ref": (),
        "invalid-script": (),
        "invalid-share": ("value", "category"),
        "invalid-valid-days": ("value", "category"),
        "invalid-timer": ("several", "value"),
        "message-field-unknown": (),
        "message-sender-unknown": (),
        "message-senders-missing": (),
        "message-start-event": (),
        "missing-called-process": (),
        "missing-condition": (),
        "missing-default-flow": (),
        "missing-form": ("empty", "not-deployed"),
        "missing-script": (),
        "nested-category": (),
        "form-level-category": (),
        "naive-timer-date": (),
        "no-executable-process": ("no-process", "none-executable", "all-called"),
        "no-lanes": (),
        "not-well-formed": ("empty", "syntax"),
        "recursive-call-activity": ("self", "mutual"),
        "recursive-ref": (),
        "ref-fanout": (),
        "schema-too-deep": (),
        "remote-ref": (),
        "reserved-id": (),
        "several-executable-processes": ("no-collaboration", "undeclared-pool"),
        "task-without-lane": (),
        "timer-date-out-of-range": (),
        "timer-start-event": (),
        "too-large": (),
        "unbounded-loop": ("cycle", "no-maximum", "bad-maximum"),
        "unbounded-timer-cycle": (),
        "long-timer-cycle": (),
        "unknown-group": (),
        "unknown-lane": ("unknown", "unnamed"),
        "unknown-lane-kind": (),
        "unresolvable-ref": (),
        "unrouted-connector": (),
        "unrouted-task": (),
        "unsafe-expression": (),
        "unsafe-script": (),
        "unsupported": (),
        "wrong-namespace": (),
    }.items()
}


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found in a model, pointing at the element that has it.

    ``message`` is English, for developers and logs. ``params`` are the model's own words
    the message is built from (ids, names, a parser's technical text), so that the
    interfaces can say it in the user's language; ``params["variant"]`` picks one of the
    code's messages (``ISSUE_CODES``)."""

    code: str  # short stable identifier, e.g. "doctype", "duplicate-id", "missing-form"
    message: str  # human-readable, names the element and the reason
    element_id: str | None = None
    line: int | None = None
    file: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        variants = ISSUE_CODES.get(self.code)
        if variants is None:
            raise ValueError(f"unknown validation issue code {self.code!r}: list it in ISSUE_CODES")
        variant = self.params.get("variant")
        if (variant is None) != (not variants) or (variant is not None and variant not in variants):
            raise ValueError(f"issue code {self.code!r} has the variants {sorted(variants)}, not {variant!r}")

    @property
    def variant(self) -> str | None:
        variant = self.params.get("variant")
        return str(variant) if variant is not None else None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None and value != {}}

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.line:
            where.append(f"line {self.line}")
        if self.element_id:
            where.append(f"element {self.element_id!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


# The codes of the engine's own run-time texts (a limit of the expression sandbox, of the
# data a script leaves, of a parallel multi-instance, of a computed cycle; a function of the
# sandbox given what it does not take). An error with one says it in the reader's language
# from ``code`` and ``params`` (core.messages "engine.<code>"; a test fails when one has no
# text there). Params are the model's words and the limits, never a value of case data nor a
# size or length measured from it (that is a value too: "a count of 9,999,999").
ENGINE_CODES = frozenset(
    {
        "time-limit",
        "step-time-limit",
        "iteration-limit",
        "allocation-limit",
        "sequence-limit",
        "integer-limit",
        "text-conversion-limit",
        "walked-limit",
        "format-width-limit",
        "format-star",
        "format-spec-limit",
        "generator-outside",
        "saved-itself",
        "saved-depth",
        "saved-limit",
        "walked-itself",
        "walked-depth",
        "sum-numbers",
        "round-limit",
        "int-text-limit",
        "expects-date-text",
        "expects-datetime-text",
        "expects-date",
        "time-zone-name",
        "time-zone-unknown",
        "months-expected",
        "months-limit",
        "date-out-of-range",
        "timer-date-out-of-range",
        "days-limit",
        "clock-expected",
        "repeat-times",
        "repeat-interval",
        "no-method",
        "no-attribute",
        "source-limit",
        "nested-too-deeply",
        "cycle-limit",
        "parallel-instances-limit",
        "service-task-gone",
        "service-task-state",
        "unsafe-construct",
        "unsafe-name",
        "unsafe-function-assignment",
        "unsafe-literal",
        "unsafe-integer-literal",
        "unsafe-private-attribute",
        "unsafe-format-method",
        "unsafe-attribute-assignment",
        "unsafe-method-value",
        "unsafe-attribute",
        "unsafe-call",
        "unsafe-method-call",
        "unsafe-call-result",
        "unsafe-unpacking",
        "unsafe-comprehension-fors",
        "unsafe-slice-assignment",
        "unsafe-target",
        "unsafe-delete",
        "unsafe-operator",
    }
)


class EngineError(Exception):
    """Base class of everything the engine raises on purpose.

    ``code`` and ``params``: how the interfaces say the error in the reader's language
    (``ENGINE_CODES``); None for an error that carries only its English text."""

    code: str | None = None
    params: Mapping[str, Any] = {}  # read-only default; instances set their own

    def with_code(self, code: str, **params: Any) -> Self:
        if code not in ENGINE_CODES:
            raise ValueError(f"unknown engine error code {code!r}: list it in ENGINE_CODES")
        self.code, self.params = code, params
        return self


class BpmnValidationError(EngineError):
    """A model was refused at deploy time. Carries every issue found, not only the first."""

    def __init__(self, issues: list[ValidationIssue]):
        if not issues:
            raise ValueError("BpmnValidationError needs at least one issue")
        self.issues = list(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))


class UnsafeExpressionError(EngineError):
    """An expression or script uses something outside the restricted environment."""


class ExpressionError(EngineError):
    """An expression failed while running (bad data, unknown name, limit exceeded).

    Carries the element that evaluated it so an incident can point at it.
    """

    def __init__(self, message: str, *, element_id: str | None = None, code: str | None = None, **params: Any):
        self.element_id = element_id
        super().__init__(message)
        if code is not None:
            self.with_code(code, **params)


class TaskStateError(EngineError):
    """The task asked for is not a ready user or manual task of this workflow."""


class StepLimitExceeded(EngineError):
    """The engine ran more steps than allowed without reaching a wait state: more than
    ``step_cap``, the last at ``element_id`` (an incident says them in the reader's words)."""

    def __init__(self, message: str, *, step_cap: int = 0, element_id: str | None = None):
        self.step_cap, self.element_id = step_cap, element_id
        super().__init__(message)


class TaskFailed(EngineError):
    """A task of the model failed while it ran: an expression, missing or wrong data (a
    multi-instance input collection, a data output, a data object), or a construct the
    engine cannot run. The task is left in ERROR and the workflow can still be saved: an
    incident names ``element_id``; after the data is fixed the task runs again.

    ``kind``: "expression-error" or "data-error" (fixable by setting data) or "engine-error".
    The message carries no value of the workflow's data (``bpmn.engine.scrub``).
    SpiffWorkflow's own exception types never leave ``bpmn.engine``: they become this.
    ``detail``: what SpiffWorkflow or the script said, without the words ``message`` frames
    it in (an incident frames it in the reader's language); the message when none were added.
    ``code``/``params``: those of the engine's own error behind it (a limit of the sandbox),
    to say ``detail`` in the reader's language too; None when a script or SpiffWorkflow said it.
    """

    def __init__(
        self,
        message: str,
        *,
        element_id: str | None = None,
        kind: str = "engine-error",
        error_class: str = "",
        detail: str | None = None,
        cause: EngineError | None = None,
    ):
        self.element_id = element_id
        self.kind = kind
        self.error_class = error_class or type(self).__name__  # what the script raised (ValueError)
        self.detail = message if detail is None else detail
        super().__init__(message)
        if cause is not None and cause.code is not None:  # the engine's own text: said by its code
            self.with_code(cause.code, **cause.params)


class StateTooLarge(EngineError):
    """A workflow's saved state would be larger than allowed. ``element_id``: the element
    whose task holds the most data (the likely cause), when one does."""

    def __init__(self, size: int, limit: int, element_id: str | None = None):
        self.size, self.limit, self.element_id = size, limit, element_id
        where = f"; the most data is held by element {element_id!r}" if element_id else ""
        super().__init__(
            f"the workflow state would be {size:,} bytes, more than the {limit:,} allowed "
            f"(ENGINE_STATE_MAX_BYTES){where}; the step's engine work is not saved"
        )
