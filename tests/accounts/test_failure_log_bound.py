"""django-axes' log of failed sign-ins stays bounded (``accounts.failure_log``, a sweep the job
workers run with their pruning). A name that is no account is a username of its own, and the
names are the client's to choose: until 2026-12-06 every new name typed at the sign-in added a
row that stayed until a daily cleanup by age, so one client trying names grew the table without
a bound. The rows of accounts are kept (axes bounds them per account): they are what an admin
reads when a caseworker's sign-in is attacked."""

from datetime import timedelta

import pytest
from axes.models import AccessFailureLog
from django.test import Client
from django.utils import timezone

from core import hooks

from .conftest import web_login

pytestmark = pytest.mark.django_db


def _try_names(count: int, first: int = 0) -> None:
    """``count`` names that are no account, one failure each, from as many addresses (so that no
    address's lock stops them), as a client trying names does."""
    for index in range(first, first + count):
        web_login(Client(REMOTE_ADDR=f"203.0.113.{index + 1}"), f"navn-{index}", "gjett")


def test_the_workers_keep_only_the_newest_failures_of_names_that_are_no_account(users, settings):
    settings.LOGIN_FAILURE_LOG_UNKNOWN_ROWS = 3
    _try_names(4)
    web_login(Client(REMOTE_ADDR="198.51.100.40"), "nils", "gjett")  # an account's failure
    _try_names(3, first=4)
    unknown = AccessFailureLog.objects.filter(username__startswith="unknown-")
    assert unknown.count() == 7
    newest = list(unknown.order_by("-attempt_time", "-id").values_list("id", flat=True)[:3])

    hooks.sweep(hooks.EXPIRED_ROWS)  # what the workers run every few minutes

    assert sorted(unknown.values_list("id", flat=True)) == sorted(newest)
    assert AccessFailureLog.objects.filter(username="nils").count() == 1  # an account's rows are kept


def test_the_workers_delete_failures_older_than_the_days_kept(users, settings):
    settings.LOGIN_FAILURE_LOG_DAYS = 90
    for _ in range(2):
        web_login(Client(REMOTE_ADDR="198.51.100.41"), "nils", "gjett")
    old = AccessFailureLog.objects.order_by("id").first()
    AccessFailureLog.objects.filter(pk=old.pk).update(attempt_time=timezone.now() - timedelta(days=91))

    hooks.sweep(hooks.EXPIRED_ROWS)

    assert list(AccessFailureLog.objects.values_list("username", flat=True)) == ["nils"]
    assert not AccessFailureLog.objects.filter(pk=old.pk).exists()


def test_a_flood_of_names_leaves_at_most_the_rows_kept_after_a_sweep(users, settings):
    """More rows than one batch of the sweep (1,000): it goes on to the bound in one turn."""
    settings.LOGIN_FAILURE_LOG_UNKNOWN_ROWS = 5
    now = timezone.now()
    AccessFailureLog.objects.bulk_create(
        AccessFailureLog(username=f"unknown-{index:024x}", ip_address="203.0.113.7", attempt_time=now)
        for index in range(2007)
    )
    hooks.sweep(hooks.EXPIRED_ROWS)
    assert AccessFailureLog.objects.count() == 5


def test_the_tries_refused_for_names_that_are_no_account_are_bounded_too(users, settings):
    """A name that is no account is refused (``RefusedSignIn``, *sign-ins refused during a
    lock*) while another try of it is tested, not only once axes' log holds its failures: a
    client sending three tries at once of each new name adds a refused row per name as fast as
    a failure, and the sweep above deletes those failures. The refused rows of such names are
    kept to the same bound (the newest); an account's are kept. Until 2026-12-06 they stayed
    until ``LOGIN_REFUSED_LOG_DAYS``, however many."""
    from accounts.models import RefusedSignIn

    settings.LOGIN_FAILURE_LOG_UNKNOWN_ROWS = 5
    now = timezone.now()
    RefusedSignIn.objects.bulk_create(
        RefusedSignIn(
            username=f"unknown-{index:024x}",
            ip_address="203.0.113.8",
            first_at=now - timedelta(seconds=index),
            last_at=now - timedelta(seconds=index),
        )
        for index in range(1207)
    )
    RefusedSignIn.objects.create(username="nils", ip_address="203.0.113.8", first_at=now, last_at=now)
    newest = [f"unknown-{index:024x}" for index in range(5)]

    hooks.sweep(hooks.EXPIRED_ROWS)

    assert sorted(RefusedSignIn.objects.values_list("username", flat=True)) == sorted([*newest, "nils"])
