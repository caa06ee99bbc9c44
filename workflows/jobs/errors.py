"""Why a job failed, said so that the process admin reads it in their own language.

A job's error is text (the worker logs it, ``Job.last_error`` and ``Incident.error`` keep
it, in English). Our own errors are a ``JobError``: that English text, and the code and
params of ``core.messages`` it is said from (``Message``), stored beside it
(``Job.last_error_message``, ``Incident.error_message``) and rendered in the reader's
language where it is shown (``workflows.selectors.incident_error``). What another system
or the engine said (an HTTP library's error, a script's, an agency's system's failure)
is a param (``detail``) or a plain ``str``: it is shown as it is, scrubbed of the case's
values. Rows written before errors had codes have no message: their text is shown.
"""

from __future__ import annotations

from typing import Any

from core.messages import Message

MAX_ERROR = 2000


class JobError(str):
    """Our own error of a job: its English text, with ``message`` to say it in another
    language."""

    message: Message

    def __new__(cls, code: str | Message, **params: Any) -> JobError:
        message = code if isinstance(code, Message) else Message(code, params)
        error = super().__new__(cls, str(message)[:MAX_ERROR])
        error.message = message
        return error


class Refusal(JobError):
    """A call's error that no retry changes (the model, the connector or the agency's webhook
    must change first): nothing was sent, and the job fails at once with an incident instead
    of backing off."""


def message_of(error: str | None) -> dict | None:
    """What to store beside an error's text: its message (``as_json``), None for a text of
    another system's (or no error)."""
    return error.message.as_json() if isinstance(error, JobError) else None


def detail(text: str) -> str:
    """Another system's text as a param: bounded, so the whole error fits ``MAX_ERROR``."""
    return text[: MAX_ERROR // 2]


def stored(text: str, message: Any) -> str:
    """The error a row stored (its text and its message) as it was made: a ``JobError``
    when it has a known message."""
    known = Message.from_json(message)
    return JobError(known) if known is not None else text
