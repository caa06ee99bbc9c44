"""``Idempotency-Key`` for unsafe requests: the first successful answer is replayed.

The key row is written in the same transaction as the action, keyed per user with a
unique constraint. A concurrent second request with the same key blocks on the unique
index until the first commits, then finds its row and replays the stored answer; if the
first failed (nothing happened), its key is gone and the second simply runs.

A key answers replays for ``IDEMPOTENCY_KEY_HOURS`` (24 by default, as payment APIs
do); after that it is free for a new request, and ``purge_expired`` deletes the rows.

A replay is an answer given now: before it, ``still_allowed()`` decides again whether the
caller may still act on what the key's request acted on, and raises (404 where existence
is secret, 403 where the object is visible) as a fresh request would. An agency withdrawn
from the case, or a caller who lost their role in it, gets no stored answer back. What the
stored answer names that rests on more than that (the case's next tasks on a branch a consent
opened to the caller) is decided again too (``shown_now``): a consent withdrawn ends at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from rest_framework.response import Response

from api.models import IdempotencyKey
from core.errors import Conflict, InvalidInput, field_error
from workflows import input_limits

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(
    row: IdempotencyKey,
    fingerprint: str,
    still_allowed: Callable[[], object],
    shown_now: Callable[[Any], Any] | None,
) -> Response:
    still_allowed()  # first: a caller without access learns nothing, not even of the key's use
    if row.fingerprint != fingerprint:
        raise Conflict("idempotency.reused", header=HEADER, errors=[field_error(HEADER, "field.new_key")])
    body = row.response_body if shown_now is None else shown_now(row.response_body)
    response = Response(body, status=row.status_code)
    response["Idempotency-Replayed"] = "true"
    return response


def idempotent(
    request,
    action: Callable[[], Response],
    *,
    still_allowed: Callable[[], object],
    shown_now: Callable[[Any], Any] | None = None,
) -> Response:
    """Run ``action()`` (returning a Response) at most once per (user, key). A replay first
    calls ``still_allowed()``, which raises the refusal a fresh request would get, then gives
    the stored body through ``shown_now`` (when given): what of it the caller may still be
    shown, decided now (a consent withdrawn since the first answer ends what it opened)."""
    key = request.headers.get(HEADER)
    if key is None:
        return action()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not input_limits.storable(key):
        raise InvalidInput(
            "idempotency.bad_key",
            header=HEADER,
            limit=MAX_KEY_LENGTH,
            errors=[field_error(HEADER, "field.invalid_key")],
        )
    fingerprint = _fingerprint(request)
    existing = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    if existing is not None:
        if existing.created_at >= expiry_cutoff():
            return _replay(existing, fingerprint, still_allowed, shown_now)
        existing.delete()  # expired: the key is free again
    try:
        with transaction.atomic():
            # Claim the key first: a concurrent request with the same key waits here.
            row = IdempotencyKey.objects.create(
                user=request.user,
                key=key,
                method=request.method,
                path=request.path[:500],
                fingerprint=fingerprint,
                status_code=0,
                response_body={},
            )
            response = action()
            row.status_code, row.response_body = response.status_code, response.data
            row.save(update_fields=["status_code", "response_body"])
            return response
    except IntegrityError:
        existing = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if existing is None:  # pragma: no cover - the other request failed and rolled back
            raise Conflict("idempotency.in_progress", header=HEADER) from None
        return _replay(existing, fingerprint, still_allowed, shown_now)


def expiry_cutoff():
    """Keys created before this no longer answer replays."""
    return timezone.now() - timedelta(hours=settings.BROBYGGER["IDEMPOTENCY_KEY_HOURS"])


def forget_erased_case(sender, case, **kwargs) -> dict[str, int]:
    """Erasure (``retention.signals.case_erased``): the stored answers about ``case`` go with
    it, since a replay would give back what was erased (a completion's answer names the person
    and the case data). The completions of its tasks, and any answer naming its reference."""
    task_paths = [reverse("api-task-complete", kwargs={"pk": pk}) for pk in case.tasks.values_list("pk", flat=True)]
    about_case = IdempotencyKey.objects.annotate(answer=Cast("response_body", TextField())).filter(
        Q(path__in=task_paths) | Q(answer__contains=case.reference)
    )
    return {"idempotency_answers": about_case.delete()[0]}


def purge_expired() -> int:
    """Delete the keys that no longer answer replays; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=expiry_cutoff()).delete()
    return deleted
