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

import http.client
import logging
import re
import smtplib
from collections.abc import Iterable
from typing import Any

from bpmn.engine import scrub
from core.messages import Message

log = logging.getLogger(__name__)

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


def unreachable(code: str, exc: BaseException, job: Any) -> JobError:
    """The one error (``code``, no params) of a call whose address could not be reached: its
    host name resolves to nothing, the connection is refused, reset or never answered, TLS
    fails, or what answers speaks no HTTP. Which of these it was is said nowhere a person of
    the municipality reads (the job's error, the incident, the admin, the API): inside
    ``WEBHOOK_ALLOWED_NETWORKS`` it told an agency's access administrator, who sets its
    webhook's address, which ports answer on which hosts, and which host names the internal
    name servers know. The retry is as for any failed attempt (backed off, then an incident).

    The cause goes to the server's log, for the operator: the error's class and its text (the
    system's words about the name or the connection: no address, no case data); of an answer
    that is no HTTP only the class (its words are what the address said, which may echo what
    it was sent)."""
    said = "" if isinstance(exc, http.client.HTTPException) else f": {detail(str(exc))}"
    cause = f"{type(exc).__name__}{said}"
    log.warning("job %s (%s) could not reach its address: %s", job.pk, job.kind, cause)
    return JobError(code)


def stored(text: str, message: Any) -> str:
    """The error a row stored (its text and its message) as it was made: a ``JobError``
    when it has a known message."""
    known = Message.from_json(message)
    return JobError(known) if known is not None else text


# A mail server's enhanced status code at the head of its reply ("5.1.1 <kari@...>: ...").
_ENHANCED_STATUS = re.compile(rb"\s*([245]\.\d{1,3}\.\d{1,3})(?!\d)")


def mail_failure(exc: BaseException, addresses: Iterable[str] = ()) -> JobError:
    """Why sending a mail failed, naming no address nor anyone behind one. A mail server's
    refusal (``smtplib.SMTPResponseException``, ``SMTPRecipientsRefused``) says it in its own
    words, and they name the addresses (the refused recipient is the key of
    ``SMTPRecipientsRefused.recipients``; "<post@fengsel.example>: Recipient address
    rejected"; "mailbox of Kari Hansen is full"): only its class and its reply codes are
    kept ("550 5.1.1": the mailbox does not exist), which is what the operator acts on. Any
    other failure (the server went away, refused the connection) keeps its text without
    ``addresses`` (and their local parts) and without any e-mail address."""
    name = type(exc).__name__
    replies: list[tuple[int, bytes | str]] = []
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = [reply for reply in exc.recipients.values() if isinstance(reply, tuple) and len(reply) == 2]
    elif isinstance(exc, smtplib.SMTPResponseException):
        replies = [(exc.smtp_code, exc.smtp_error)]
    if replies or isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({_reply_code(code, said) for code, said in replies})
        return JobError("job.mail_refused", error_class=name, codes=", ".join(codes) or "-")
    text = f"{name}: {exc}"
    for address in sorted(set(addresses), key=len, reverse=True):
        if address:
            text = text.replace(address, scrub.MASK)
            local = address.split("@")[0]
            if len(local) >= scrub.MIN_TEXT:
                text = re.sub(re.escape(local), scrub.MASK, text, flags=re.IGNORECASE)
    return JobError("job.call_failed", detail=detail(scrub.scrub(text)))


def _reply_code(code: object, said: bytes | str) -> str:
    enhanced = _ENHANCED_STATUS.match(said.encode() if isinstance(said, str) else bytes(said or b""))
    shown = str(code) if isinstance(code, int) else "?"
    return f"{shown} {enhanced.group(1).decode()}" if enhanced else shown
