"""A user's sessions are found by user in SQL: a deactivation ends them at once, however it is
made, and the workers' sweep reads only the deactivated users' few rows.

Until 2026-12-06 the user id sat only inside the signed session data: a bulk deactivation (no
signal) left the sessions in the table until a worker's sweep decoded every live session, once
per new deactivation in every worker (1.3-1.7 s at 20,000 sessions), and a deactivation by a
save decoded them all in the admin's request. Now each row keeps its user's id
(``accounts.UserSession``, accounts 0012), the deactivation trigger deletes them with the
user's tokens, and the sweep decodes only the rows that carry no user id."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from knox.models import AuthToken

from accounts import sessions

from .conftest import token_login, web_login

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _signed_in(username):
    browser = Client()
    assert web_login(browser, username).status_code == 302
    assert browser.get(reverse("tasks")).status_code == 200
    return browser


def _deactivate_in_bulk(user):
    type(user).objects.filter(pk=user.pk).update(is_active=False)  # no signal, as a directory sync


def _keys():
    return set(Session.objects.values_list("pk", flat=True))


def test_a_bulk_deactivation_ends_the_users_sessions_and_tokens_at_once(users, api):
    """No sweep needed: the rows are gone in the deactivation's own transaction (before, they
    stayed until a worker's sweep, with what they held); another user's stay."""
    nils = _signed_in("nils")
    kari = _signed_in("kari")
    token = token_login(api, "nils").json()["token"]
    nils_key, kari_key = nils.session.session_key, kari.session.session_key

    _deactivate_in_bulk(users["nils"])

    assert nils_key not in _keys() and kari_key in _keys()
    assert not AuthToken.objects.filter(user=users["nils"]).exists()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(reverse("api-tasks")).status_code == 401
    assert nils.get(reverse("tasks"))["Location"].startswith(reverse("login"))
    assert kari.get(reverse("tasks")).status_code == 200


def test_each_session_row_names_its_user(users):
    from accounts.models import UserSession

    browser = _signed_in("kari")
    row = UserSession.objects.get(pk=browser.session.session_key)
    assert row.user_id == users["kari"].pk
    anonymous = sessions.SessionStore()
    anonymous["_language"] = "nb"
    anonymous.save()
    assert UserSession.objects.get(pk=anonymous.session_key).user_id == 0


def _live_rows(count, user_ids, *, with_column=True):
    """``count`` live sessions signed in as ``user_ids`` in turn, written as the store writes
    them (``with_column``) or as a process from before accounts 0012 did."""
    store = sessions.SessionStore()
    model = store.get_model_class()
    expire = timezone.now() + timedelta(hours=1)
    rows = []
    for number in range(count):
        row = model(
            session_key=get_random_string(32),
            session_data=store.encode({SESSION_KEY: str(user_ids[number % len(user_ids)])}),
            expire_date=expire,
        )
        if with_column:
            row.user_id = user_ids[number % len(user_ids)]
        rows.append(row)
    model.objects.bulk_create(rows)
    return {row.pk for row in rows}


def test_the_sweep_decodes_only_the_deactivated_users_sessions(users, monkeypatch):
    """300 live sessions of other users: the sweep after a bulk deactivation decoded every one
    of them (the cost that grew with every signed-in user); now none."""
    sessions._SWEPT.clear()
    others = _live_rows(300, [users["kari"].pk, users["bjorn"].pk])
    _signed_in("nils")
    decoded = []
    real = sessions.SessionStore.decode
    monkeypatch.setattr(sessions.SessionStore, "decode", lambda self, data: decoded.append(1) or real(self, data))

    _deactivate_in_bulk(users["nils"])
    sessions.end_deactivated_sessions()

    assert len(decoded) <= 1 and others <= _keys()


def test_the_workers_end_sessions_written_without_the_user_column(users):
    """A row written by a process not yet restarted onto accounts 0012 has no user id: the
    trigger cannot see it, the workers' sweep (within its period: the next session pruning)
    decodes it and ends it, and leaves another user's."""
    from accounts.models import UserSession
    from workflows.jobs.worker import Worker

    sessions._SWEPT.clear()
    stale = _live_rows(2, [users["nils"].pk], with_column=False)
    other = _live_rows(2, [users["kari"].pk], with_column=False)
    assert UserSession.objects.filter(pk__in=stale | other, user_id__isnull=True).count() == 4

    _deactivate_in_bulk(users["nils"])
    assert stale <= _keys()
    Worker(name="w").run(once=True)

    assert not stale & _keys() and other <= _keys()


def test_the_migration_fills_the_column_of_the_live_sessions(users):
    """Sessions signed in before accounts 0012 are found by user after it, and the anonymous
    ones are told apart (0), so the sweep decodes none of them again."""
    import importlib

    from django.apps import apps

    from accounts.models import UserSession

    migration = importlib.import_module("accounts.migrations.0012_session_user")
    signed_in = _live_rows(3, [users["nils"].pk, users["kari"].pk], with_column=False)
    anonymous = sessions.SessionStore()
    anonymous["_language"] = "nb"
    anonymous.save()
    UserSession.objects.filter(pk=anonymous.session_key).update(user_id=None)

    migration._fill(apps, None)

    filled = dict(UserSession.objects.filter(pk__in=signed_in).values_list("pk", "user_id"))
    assert set(filled.values()) == {users["nils"].pk, users["kari"].pk} and len(filled) == 3
    assert UserSession.objects.get(pk=anonymous.session_key).user_id == 0
