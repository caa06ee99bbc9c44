"""Errors of the use cases: what went wrong, said so that a caller can act on it.

Every error has a stable ``code`` (API clients may branch on it; the web pages translate
it), an HTTP ``status_code`` and ``params``: the values its message names. Params never
carry case data (values travel in no error text). ``errors`` lists the problems per field
(or per BPMN element) as dicts made by ``field_error``: ``{"field", "code", "message",
"params"}``, plus ``element_id``/``line`` and the ``message_code`` of its text for a
model's problems.

``detail`` and each ``message`` are the English text of the code (``core.messages``):
what the API answers. The pages, and the API for a client that asks for bokmål, translate
the code with its params instead (``in_language``), so a bokmål page never shows English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from core.messages import MESSAGES, render

FieldError = dict[str, Any]

# The most field errors one answer lists: a body of 70,000 unknown keys (0.9 MB) was answered
# with 40 MB, each error naming every field of the form.
MAX_FIELD_ERRORS = 100


def field_error(field: str | None, code: str, **params: Any) -> FieldError:
    """One problem with one field of the input (``field`` None: the input as a whole)."""
    return {"field": field, "code": code, "message": render(code, params), "params": params}


def in_language(errors: list[FieldError] | None, translate: Callable[[str], str]) -> list[FieldError]:
    """The errors with each ``message`` in the language of ``translate``: those whose
    ``message_code`` (a refused model's problem) or ``code`` has a text here; the web pages
    and an API client that asked for another language than English both read them so."""
    translated = []
    for error in errors or []:
        code = error.get("message_code") or error.get("code")
        if code in MESSAGES:
            error = {**error, "message": render(code, error.get("params") or {}, translate=translate)}
        translated.append(error)
    return translated


class ServiceError(Exception):
    """Base class. ``code`` names the message in ``core.messages``; unknown codes are a bug
    that a test finds (``tests/core/test_errors.py`` walks every code used in the source)."""

    status_code: ClassVar[int] = 400

    def __init__(self, code: str, *, errors: list[FieldError] | None = None, **params: Any):
        if code not in MESSAGES:
            raise KeyError(f"no message for error code {code!r}: add it to core.messages")
        self.code = code
        self.params: Mapping[str, Any] = params
        self.errors: list[FieldError] = list(errors or [])[:MAX_FIELD_ERRORS]
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        """The English text (what the API answers)."""
        return render(self.code, self.params)


class NotFound(ServiceError):
    """The object does not exist or is invisible to the caller (no existence leak)."""

    status_code = 404


class Forbidden(ServiceError):
    """The caller sees the object but may not do this to it."""

    status_code = 403


class Conflict(ServiceError):
    """The object is no longer in a state that allows this (completed, claimed by another)."""

    status_code = 409


def lost_to_another_writer(exc: BaseException) -> bool:
    """PostgreSQL rolled the transaction back for another's sake: a deadlock or a
    serialization failure (SQLSTATE class 40), reached through Django's wrapped error. The
    use cases take their rows in one order (README, "One lock order") so that this should
    not happen; where an order not yet found meets another, the caller is told to try again
    (409, nothing saved: the whole transaction was rolled back) rather than a 500."""
    cause = exc.__cause__
    return cause is not None and str(getattr(cause, "sqlstate", "") or "").startswith("40")


def row_gone_under_a_form(exc: BaseException) -> bool:
    """A foreign key failed when the transaction committed (PostgreSQL checks Django's at
    commit, SQLSTATE 23503): a row the form found and chose (a user, an agency) was deleted by
    another writer before the change was saved. The whole transaction was rolled back, as for
    a deadlock, and trying again tells the writer what is left to choose."""
    cause = exc.__cause__
    return cause is not None and str(getattr(cause, "sqlstate", "") or "") == "23503"


class InvalidInput(ServiceError):
    """The request data is wrong; ``errors`` says where."""

    status_code = 400


def combined(code: str, problems: list[InvalidInput]) -> InvalidInput:
    """One ``InvalidInput`` carrying the field errors of several: every problem at once."""
    return InvalidInput(code, errors=[error for problem in problems for error in problem.errors])
