"""The credentials an access administrator sets at once, while a second person approves the
user's first role opening case data (PostgreSQL: row locks, real concurrency).

The approval ends every credential set before it and shows a new enrolment link to the
approver alone (``test_first_case_role.py``). Until 2026-12-06 the requester's own change of
the account (an enrolment link, a password) asked whether the user held a case role, and wrote,
without a lock: checked before the approval committed and written after it, the requester's
link outlived it beside the approver's, and her password replaced the unusable one. And the
approval asked whether the role was the user's first without a lock: a case role the requester
took away meanwhile made it no first one, while her password and link, checked against no case
role at all, were written. The interleavings are forced: the first one to check waits (up to
``WAIT`` seconds) for the other to finish; with the locks, the other waits for it instead."""

import re
import threading
from types import SimpleNamespace

import pytest
from django.urls import reverse

from accounts import enrolment
from accounts.models import EnrolmentLink
from permissions import role_requests, rules
from permissions.models import Membership, Role, RoleRequest
from tests.permissions.access_admins import make_access_admin, signed_in, user_page_form
from tests.threads import all_at_once

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]

CHOSEN = "Passord-valgt-av-den-som-ba-om-rollen-4"
WAIT = 2  # seconds the first to check waits for the other, which the lock makes wait for it
ENROL = re.compile(r"/accounts/two-factor/enrol/[\w-]+/")


@pytest.fixture
def requester(django_user_model, agencies):
    return make_access_admin(django_user_model, agencies["nav"], "tilgang-som-ber")


@pytest.fixture
def approver(django_user_model, agencies):
    return make_access_admin(django_user_model, agencies["nav"], "tilgang-som-godkjenner")


@pytest.fixture
def newcomer(django_user_model, requester):
    """A user the requester added on the admin's add page: hers to manage until a case role."""
    answer = signed_in(requester).post(
        reverse("admin:auth_user_add"),
        {"username": "ny-i-nav", "password1": CHOSEN, "password2": CHOSEN, "usable_password": "true"},
    )
    assert answer.status_code == 302
    return django_user_model.objects.get(username="ny-i-nav")


def _ask_role(requester, user, agency, role=Role.MEMBER) -> int:
    answer = signed_in(requester).post(
        reverse("admin:permissions_membership_add"), {"user": user.pk, "agency": agency.pk, "role": role}
    )
    assert answer.status_code == 302
    return RoleRequest.objects.get(user=user, role=role, status="pending").pk


def _issue_link(client, user):
    return client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "issue_enrolment_links", "_selected_action": [user.pk]},
    )


def _set_password(client, user):
    return client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": CHOSEN + "x", "password2": CHOSEN + "x", "usable_password": "true"},
    )


def _changed_while_approved(monkeypatch, approver, request_id, change):
    """``change`` (the requester's) checks whether it needs a second person, then waits for the
    approval of ``request_id`` to finish before it writes. Returns (change's outcome, approval's)."""
    checked, approved = threading.Event(), threading.Event()
    check = rules.account_change_needs_second_person

    def checked_then_wait(*args, **kwargs):
        found = check(*args, **kwargs)
        if not checked.is_set():
            checked.set()
            approved.wait(timeout=WAIT)
        return found

    monkeypatch.setattr(rules, "account_change_needs_second_person", checked_then_wait)

    def approve():
        assert checked.wait(timeout=30)
        try:
            return role_requests.approve_role_request(actor=approver, request_id=request_id)
        finally:
            approved.set()

    return all_at_once([change, approve])


def _link_opens(user, address: str) -> bool:
    """Whether the enrolment link at ``address`` lets a session signed in as ``user`` enrol
    (what the link's page asks: ``enrolment.open_link``)."""
    token = address.rstrip("/").rsplit("/", 1)[-1]
    return enrolment.open_link(SimpleNamespace(user=user, session={}), token)


def test_a_link_the_requester_makes_while_the_first_role_is_approved_does_not_outlive_it(
    monkeypatch, requester, approver, newcomer, agencies
):
    request_id = _ask_role(requester, newcomer, agencies["nav"])
    client = signed_in(requester)
    made, approved = _changed_while_approved(monkeypatch, approver, request_id, lambda: _issue_link(client, newcomer))
    assert isinstance(approved, Membership) and approved.enrolment_link, approved
    assert made.status_code == 200, made
    theirs = ENROL.search(made.content.decode())
    assert theirs is not None  # made at once, before the approval: the approval then ended it
    assert not _link_opens(newcomer, theirs.group(0))
    assert set(EnrolmentLink.objects.filter(user=newcomer).values_list("created_by", flat=True)) == {approver.pk}
    assert _link_opens(newcomer, ENROL.search(approved.enrolment_link).group(0))  # the approver's works


def test_a_password_the_requester_sets_while_the_first_role_is_approved_does_not_outlive_it(
    monkeypatch, requester, approver, newcomer, agencies
):
    request_id = _ask_role(requester, newcomer, agencies["nav"])
    client = signed_in(requester)
    _set, approved = _changed_while_approved(monkeypatch, approver, request_id, lambda: _set_password(client, newcomer))
    assert isinstance(approved, Membership), approved
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()
    assert not newcomer.check_password(CHOSEN + "x")


def test_a_case_role_taken_away_while_another_is_approved_leaves_the_account_to_no_one_alone(
    monkeypatch, requester, approver, newcomer, agencies
):
    """The user holds a NAV member role (credentials of their own); the requester asks for a
    coordinator role, and while it is approved takes the member role away (one person's act),
    then sets the password and makes a link, as for a user with no case role."""
    Membership.objects.create(user=newcomer, agency=agencies["nav"], role=Role.MEMBER)
    request_id = _ask_role(requester, newcomer, agencies["nav"], Role.COORDINATOR)
    member = Membership.objects.get(user=newcomer, role=Role.MEMBER)
    asked, changed = threading.Event(), threading.Event()
    manager = Membership.objects
    give = manager.get_or_create

    def asked_then_give(*args, **kwargs):
        asked.set()
        changed.wait(timeout=WAIT)
        return give(*args, **kwargs)

    monkeypatch.setattr(manager, "get_or_create", asked_then_give)
    client = signed_in(requester)

    def take_away_then_take_over():
        assert asked.wait(timeout=30)
        try:
            taken = client.post(reverse("admin:permissions_membership_delete", args=[member.pk]), {"post": "yes"})
            return taken, _set_password(client, newcomer), _issue_link(client, newcomer)
        finally:
            changed.set()

    approved, (taken, _set, made) = all_at_once(
        [lambda: role_requests.approve_role_request(actor=approver, request_id=request_id), take_away_then_take_over]
    )
    assert isinstance(approved, Membership) and approved.role == Role.COORDINATOR, approved
    assert taken.status_code == 302 and not Membership.objects.filter(pk=member.pk).exists()
    newcomer.refresh_from_db()
    assert not newcomer.check_password(CHOSEN + "x")  # the requester's password is not the user's
    theirs = ENROL.search(made.content.decode())
    assert theirs is None or not _link_opens(newcomer, theirs.group(0))
    assert not EnrolmentLink.objects.filter(user=newcomer, created_by=requester).exists()


def test_the_user_s_page_saved_while_the_first_role_is_approved_brings_back_no_credential(
    monkeypatch, requester, approver, newcomer, agencies
):
    """The requester saves the user's page (her own address in it, allowed while the account
    opens nothing) as the first case role is approved. Until 2026-12-07 the page read the user
    and decided its fields without a lock: the approval ended the password (and the address)
    between them, and the page's save wrote back every field it had read, the password she
    chose among them. Now the page locks the user's row before it reads it: the approval waits,
    then ends what the page saved."""
    request_id = _ask_role(requester, newcomer, agencies["nav"])
    client = signed_in(requester)
    url = reverse("admin:auth_user_change", args=[newcomer.pk])
    form = user_page_form(newcomer, email="tilgang@example.org", last_name="Lagret-imens")
    saved, approved = _changed_while_approved(monkeypatch, approver, request_id, lambda: client.post(url, form))
    assert isinstance(approved, Membership) and approved.enrolment_link, approved
    assert saved.status_code == 302, saved
    newcomer.refresh_from_db()
    assert newcomer.last_name == "Lagret-imens"  # saved before the approval, which then ended the rest
    assert not newcomer.has_usable_password() and not newcomer.check_password(CHOSEN)
    assert newcomer.email == ""
