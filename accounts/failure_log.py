"""django-axes' log of failed sign-ins (*Axes > Access failures*, ``AccessFailureLog``), kept
bounded by the job workers (a sweep of ``core.hooks.EXPIRED_ROWS``, every few minutes).

axes keeps at most ``AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT`` rows per username, but a name that
is no account is a username of its own (``accounts.lockout.attempted_username``: a digest of what
was typed), and the names are the client's to choose: every new name typed made a row until a
daily ``axes_reset_failure_logs`` deleted rows past their age, so until 2026-12-06 one client
trying names grew the table without a bound (a row per password tested: tens a second). Now:
rows older than ``LOGIN_FAILURE_LOG_DAYS`` go, and of names that are no account only the newest
``LOGIN_FAILURE_LOG_UNKNOWN_ROWS`` are kept. The rows of accounts are left to axes' bound per
account: they are what an admin looks for when a caseworker's sign-in is attacked."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessFailureLog
from django.conf import settings
from django.utils import timezone

# ``accounts.lockout.attempted_username``'s digest of a name that is no account.
UNKNOWN_NAME = r"^unknown-[0-9a-f]{24}$"
PRUNE_BATCH = 1000
PRUNE_BATCHES = 50  # a turn deletes at most 50,000 rows; the next turn goes on


def prune(*, batch: int = PRUNE_BATCH, batches: int = PRUNE_BATCHES) -> int:
    """Delete rows older than ``LOGIN_FAILURE_LOG_DAYS``, then rows of names that are no account
    past the newest ``LOGIN_FAILURE_LOG_UNKNOWN_ROWS``, ``batch`` at a time; and the same of the
    log of tries refused during a lock (``RefusedSignIn``); how many."""
    from accounts.models import RefusedSignIn

    logs = AccessFailureLog.objects.all()
    too_old = logs.filter(attempt_time__lt=timezone.now() - timedelta(days=settings.LOGIN_FAILURE_LOG_DAYS))
    unknown = logs.filter(username__regex=UNKNOWN_NAME).order_by("-attempt_time", "-id")
    # A name that is no account is refused while another try of it is tested
    # (``accounts.lockout.one_at_a_time``), not only once axes' log holds its failures: its rows
    # there were bounded by the failures' alone, which the lines above delete. Until 2026-12-06
    # a client trying new names, three at once each, grew this log without a bound.
    refused = RefusedSignIn.objects.filter(username__regex=UNKNOWN_NAME).order_by("-last_at", "-id")
    keep = settings.LOGIN_FAILURE_LOG_UNKNOWN_ROWS
    return (
        _delete(AccessFailureLog, lambda: too_old.values_list("id", flat=True)[:batch], batch, batches)
        + _delete(AccessFailureLog, lambda: unknown.values_list("id", flat=True)[keep : keep + batch], batch, batches)
        + _delete(RefusedSignIn, lambda: refused.values_list("id", flat=True)[keep : keep + batch], batch, batches)
    )


def _delete(model, ids_to_delete, batch: int, batches: int) -> int:
    deleted = 0
    for _ in range(batches):
        ids = list(ids_to_delete())
        if ids:
            deleted += model.objects.filter(id__in=ids).delete()[0]
        if len(ids) < batch:
            break
    return deleted
