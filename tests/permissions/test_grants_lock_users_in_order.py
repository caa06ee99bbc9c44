"""Roles given at once to several users on an agency's page lock the users' rows in id order
(PostgreSQL: row locks, real concurrency).

Each grant at once locks its user's row (``role_requests.give_at_once``, to end the credentials
set before a first case role). Row by row in the page's order, a page giving roles to two users
(the later one first) and a change that locks the two in id order (a bulk action making
enrolment links, ``accounts.account_requests.lock_users``, or another page) waited on each
other until PostgreSQL failed one: "nothing was saved, try again". Now the page locks them all
in id order before any row is saved, and waits its turn."""

import threading
import time

import pytest
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse

from accounts import account_requests
from permissions.models import Membership, Role
from tests.permissions.access_admins import agency_page_form

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HOLD = 2.5  # seconds the other change holds the first user before it takes the second


def _agency_page(agency, users) -> dict:
    """The agency's page as it stands, with a leader role given to each of ``users``."""
    rows = [
        {"id": str(m.pk), "agency": str(agency.pk), "user": str(m.user_id), "role": m.role}
        for m in Membership.objects.filter(agency=agency).order_by("pk")
    ]
    rows += [{"agency": str(agency.pk), "user": str(user.pk), "role": Role.LEADER} for user in users]
    return agency_page_form(agency, rows)


def test_a_page_giving_two_users_roles_waits_for_a_change_locking_them_in_id_order(
    django_user_model, admin_user, agencies
):
    first = django_user_model.objects.create_user("lås-forst", password="x")
    second = django_user_model.objects.create_user("lås-sist", password="x")
    assert first.pk < second.pk
    nav = agencies["nav"]
    data = _agency_page(nav, [second, first])  # the page's order: the later user first
    held = threading.Event()
    outcome: dict = {}

    def other_change():  # a bulk action on the two accounts: first, then second
        try:
            with transaction.atomic():
                account_requests.lock_users([first.pk])
                held.set()
                time.sleep(HOLD)  # the page, meanwhile, saves what it can
                account_requests.lock_users([second.pk])
            outcome["other"] = "done"
        except Exception as exc:  # the test judges it
            outcome["other"] = exc
        finally:
            connections.close_all()

    def page():
        try:
            held.wait(10)
            client = Client()
            client.force_login(admin_user)
            outcome["page"] = client.post(reverse("admin:permissions_agency_change", args=[nav.pk]), data).status_code
        except Exception as exc:
            outcome["page"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=other_change), threading.Thread(target=page)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcome == {"other": "done", "page": 302}, outcome  # old: one of them lost (deadlock)
    given = Membership.objects.filter(agency=nav, role=Role.LEADER, user__in=[first, second])
    assert given.count() == 2
