"""Errors the engine raises. Plain Python: the service layer maps them to HTTP."""

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found in a model, pointing at the element that has it."""

    code: str  # short stable identifier, e.g. "doctype", "duplicate-id", "missing-form"
    message: str  # human-readable, names the element and the reason
    element_id: str | None = None
    line: int | None = None
    file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

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


class EngineError(Exception):
    """Base class of everything the engine raises on purpose."""


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

    def __init__(self, message: str, *, element_id: str | None = None):
        self.element_id = element_id
        super().__init__(message)


class TaskStateError(EngineError):
    """The task asked for is not a ready user or manual task of this workflow."""


class StepLimitExceeded(EngineError):
    """The engine ran more steps than allowed without reaching a wait state."""


class TaskFailed(EngineError):
    """A task of the model failed while it ran: an expression, missing or wrong data (a
    multi-instance input collection, a data output, a data object), or a construct the
    engine cannot run. The task is left in ERROR and the workflow can still be saved: an
    incident names ``element_id``; after the data is fixed the task runs again.

    ``kind``: "expression-error" or "data-error" (fixable by setting data) or "engine-error".
    The message carries no value of the workflow's data (``bpmn.engine.scrub``).
    SpiffWorkflow's own exception types never leave ``bpmn.engine``: they become this.
    """

    def __init__(
        self, message: str, *, element_id: str | None = None, kind: str = "engine-error", error_class: str = ""
    ):
        self.element_id = element_id
        self.kind = kind
        self.error_class = error_class or type(self).__name__  # what the script raised (ValueError)
        super().__init__(message)


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
