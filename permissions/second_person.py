"""The decision shared by every change that waits for a second person (``SecondPersonRequest``:
``permissions.role_requests``, ``accounts.account_requests``): the request is locked, then
re-checked, so that of two decisions at once exactly one is made and the other finds it
decided. Each service calls ``take_pending`` and ``record_decision`` in its own transaction,
does its own change between them (reading the locked row, never the caller's copy), and says
what it saves beyond the decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db.models import QuerySet
from django.utils import timezone

from permissions.models import RequestStatus, SecondPersonRequest

DECISION_FIELDS = ("status", "decided_by", "decided_at")

Request = TypeVar("Request", bound=SecondPersonRequest)


class RequestRefused(Exception):
    """Why a request cannot be decided by this user now (``take_pending``: ``decided``,
    ``not_allowed``, ``requester``); a service may add its own reasons."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def take_pending(
    requests: QuerySet[Request],
    *,
    actor,
    request_id: int,
    status: str,
    may_decide: Callable[[object, Request], bool],
    still_asked: Callable[[Request], bool],
    refused: type[RequestRefused],
) -> Request:
    """The request ``request_id`` locked (in the caller's transaction) and decided in memory:
    ``status``, who decided and when, saved by ``record_decision``. Raises ``refused`` when it
    is decided already (``decided``), ``may_decide(actor, request)`` says no (``not_allowed``),
    or, for an approval, ``still_asked(request)`` says the one who asked may no longer ask
    (``requester``: it may still be refused)."""
    request = requests.select_for_update().get(pk=request_id)
    if request.status != RequestStatus.PENDING:
        raise refused("decided")
    if not may_decide(actor, request):
        raise refused("not_allowed")
    if status == RequestStatus.APPROVED and not still_asked(request):
        raise refused("requester")
    request.status = status
    request.decided_by = actor
    request.decided_at = timezone.now()
    return request


def record_decision(request: SecondPersonRequest, *also: str) -> None:
    """The decision saved, and the fields ``also`` the service changed with it (no other field:
    the row may have changed under it, a replaced membership's ``SET_NULL`` for one)."""
    request.save(update_fields=[*DECISION_FIELDS, *also])
