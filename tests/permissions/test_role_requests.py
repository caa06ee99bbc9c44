"""A second person for every role that opens case data. Until 2026-12-06 an agency's access
administrator (``tove``, who sees no case data) could alone add a user, give them a case role in
the agency, set their password and sign in as them: every case of the agency read by one person.
Now a role that opens case data, given (or widened) by anyone but a superuser, is a request; the
membership is made only when another access administrator of the agency (staff, neither the
one who asked nor the user it is for) or a superuser approves it. Taking a role away, or
narrowing it, stays one person's act. Every request and decision is kept (who, when) and shown
to the agency's access administrators and superusers (docs/security.md, "Who gives roles").

The request model and service are imported inside the tests: on the code before, each test
fails on what a user relies on (the role given at once), not on an import."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from permissions import rules
from permissions.demo import _give_admin_permissions
from permissions.models import Agency, Membership, Role
from tests.permissions.access_admins import signed_in

pytestmark = pytest.mark.django_db

WAITING = "Det ligger allerede en forespørsel om denne rollen som venter på godkjenning."


def _requests():
    from permissions.models import RoleRequest

    return RoleRequest.objects


@pytest.fixture
def newcomer(django_user_model):
    """A user the access administrator has just added: no role yet."""
    return django_user_model.objects.create_user("ny-saksbehandler", password="x")


@pytest.fixture
def second_admin(django_user_model, agencies):
    """NAV's second access administrator, staff with the same Django permissions as ``tove``."""
    user = django_user_model.objects.create_user("tilgang-to", password="x", is_staff=True)
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.ACCESS_ADMIN)
    _give_admin_permissions([user])
    return user


def _add_membership(client, user, agency, role=Role.MEMBER):
    return client.post(
        reverse("admin:permissions_membership_add"), {"user": user.pk, "agency": agency.pk, "role": role}
    )


def _approve(client, request_ids, action="approve"):
    return client.post(
        reverse("admin:permissions_rolerequest_changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in request_ids]},
        follow=True,
    )


def test_a_lone_access_administrator_s_grant_gives_no_case_data(users, agencies, newcomer, prison_case):
    answer = _add_membership(signed_in(users["tove"]), newcomer, agencies["nav"])
    assert answer.status_code == 302
    assert not Membership.objects.filter(user=newcomer).exists()
    assert rules.case_agency_ids(newcomer) == set()
    assert not rules.can_view_case(newcomer, prison_case)
    asked = _requests().get(user=newcomer)
    assert (asked.agency, asked.role, asked.requested_by, asked.status) == (
        agencies["nav"],
        Role.MEMBER,
        users["tove"],
        "pending",
    )
    assert answer["Location"] == reverse("admin:permissions_rolerequest_changelist")


def test_nor_through_the_agency_s_page(users, agencies, newcomer):
    nav = agencies["nav"]
    rows = [
        {"id": str(m.pk), "agency": str(nav.pk), "user": str(m.user_id), "role": m.role}
        for m in Membership.objects.filter(agency=nav)
    ]
    rows.append({"agency": str(nav.pk), "user": str(newcomer.pk), "role": Role.COORDINATOR})
    data = {
        "name": nav.name,
        "municipality": nav.municipality,
        "notification_email": nav.notification_email,
        "webhook_url": "",
        "webhook_secret": "",
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(len(rows) - 1),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"memberships-{i}-{key}"] = value
    answer = signed_in(users["tove"]).post(reverse("admin:permissions_agency_change", args=[nav.pk]), data)
    assert answer.status_code == 302
    assert not Membership.objects.filter(user=newcomer).exists()
    assert _requests().filter(user=newcomer, agency=nav, role=Role.COORDINATOR, status="pending").exists()


def test_a_widened_role_waits_and_the_old_one_stays_until_approved(users, agencies, second_admin):
    own = Membership.objects.get(user=users["nils"], agency=agencies["nav"], role=Role.MEMBER)
    answer = signed_in(users["tove"]).post(
        reverse("admin:permissions_membership_change", args=[own.pk]),
        {"user": users["nils"].pk, "agency": agencies["nav"].pk, "role": Role.COORDINATOR},
    )
    assert answer.status_code == 302
    own.refresh_from_db()
    assert own.role == Role.MEMBER
    asked = _requests().get(user=users["nils"], role=Role.COORDINATOR)
    assert (asked.replaces_id, asked.replaces_role) == (own.pk, Role.MEMBER)

    _approve(signed_in(second_admin), [asked.pk])
    roles = set(Membership.objects.filter(user=users["nils"], agency=agencies["nav"]).values_list("role", flat=True))
    assert roles == {Role.COORDINATOR}


def test_taking_a_role_away_or_narrowing_it_is_one_person_s_act(users, agencies, newcomer):
    client = signed_in(users["tove"])
    lead = Membership.objects.create(user=newcomer, agency=agencies["nav"], role=Role.COORDINATOR)
    answer = client.post(
        reverse("admin:permissions_membership_change", args=[lead.pk]),
        {"user": newcomer.pk, "agency": agencies["nav"].pk, "role": Role.MEMBER},
    )
    assert answer.status_code == 302
    lead.refresh_from_db()
    assert lead.role == Role.MEMBER
    theirs = Membership.objects.get(user=users["nils"], agency=agencies["nav"])
    answer = client.post(reverse("admin:permissions_membership_delete", args=[theirs.pk]), {"post": "yes"})
    assert answer.status_code == 302
    assert not Membership.objects.filter(pk=theirs.pk).exists()
    # A role that opens no case data (aggregates only) is given at once, as before.
    assert _add_membership(client, users["nils"], agencies["nav"], Role.LEADER).status_code == 302
    assert Membership.objects.filter(user=users["nils"], role=Role.LEADER).exists()
    assert not _requests().exists()


@pytest.mark.parametrize("role", [Role.ACCESS_ADMIN, Role.AUDITOR, Role.LEAD])
def test_the_roles_that_open_case_data_or_approve_wait_too(users, agencies, newcomer, role):
    """A second access administrator made alone would approve the first one's requests."""
    _add_membership(signed_in(users["tove"]), newcomer, agencies["nav"], role)
    assert not Membership.objects.filter(user=newcomer).exists()
    assert _requests().filter(user=newcomer, role=role, status="pending").exists()


def test_a_superuser_gives_the_role_at_once(admin_user, agencies, newcomer):
    # The user's first case role: the page shows the new enrolment link (test_first_case_role_given_at_once.py).
    answer = _add_membership(signed_in(admin_user), newcomer, agencies["nav"])
    assert answer.status_code == 200 and "/accounts/two-factor/enrol/" in answer.content.decode()
    assert Membership.objects.filter(user=newcomer, agency=agencies["nav"], role=Role.MEMBER).exists()
    assert not _requests().exists()


def test_one_request_waits_for_a_role_at_a_time(users, agencies, newcomer):
    client = signed_in(users["tove"])
    _add_membership(client, newcomer, agencies["nav"])
    answer = _add_membership(client, newcomer, agencies["nav"])
    assert answer.status_code == 200 and WAITING in answer.content.decode()
    assert _requests().filter(user=newcomer).count() == 1


def _asked_by_tove(users, agencies, newcomer):
    _add_membership(signed_in(users["tove"]), newcomer, agencies["nav"])
    assert not Membership.objects.filter(user=newcomer).exists()
    return _requests().get(user=newcomer)


def test_the_requester_cannot_approve_their_own_request(users, agencies, newcomer):
    asked = _asked_by_tove(users, agencies, newcomer)
    page = _approve(signed_in(users["tove"]), [asked.pk])
    assert "verken den som ba om den eller brukeren den gjelder" in page.content.decode()
    asked.refresh_from_db()
    assert asked.status == "pending" and not Membership.objects.filter(user=newcomer).exists()


def test_nor_the_user_it_is_for_nor_an_account_that_is_not_staff(users, agencies, newcomer, django_user_model):
    from permissions import role_requests

    asked = _asked_by_tove(users, agencies, newcomer)
    # An access administrator's account the requester could have made and signed in as: never
    # staff (a superuser's to give), so no second person.
    puppet = django_user_model.objects.create_user("ikke-ansatt", password="x")
    Membership.objects.create(user=puppet, agency=agencies["nav"], role=Role.ACCESS_ADMIN)
    # The user concerned, were they an access administrator of the agency and staff.
    newcomer.is_staff = True
    newcomer.save()
    Membership.objects.create(user=newcomer, agency=agencies["nav"], role=Role.ACCESS_ADMIN)
    for actor in (puppet, newcomer, users["tove"], users["nils"]):
        with pytest.raises(role_requests.RoleRequestError) as refused:
            role_requests.approve_role_request(actor=actor, request_id=asked.pk)
        assert refused.value.reason == "not_allowed"
    assert not Membership.objects.filter(user=newcomer, role=Role.MEMBER).exists()


def test_another_agency_s_access_administrator_neither_sees_nor_approves(users, agencies, newcomer, django_user_model):
    asked = _asked_by_tove(users, agencies, newcomer)
    prison_admin = django_user_model.objects.create_user("fengsel-tilgang", password="x", is_staff=True)
    Membership.objects.create(user=prison_admin, agency=agencies["prison"], role=Role.ACCESS_ADMIN)
    _give_admin_permissions([prison_admin])
    client = signed_in(prison_admin)
    listed = client.get(reverse("admin:permissions_rolerequest_changelist"))
    assert listed.status_code == 200 and "ny-saksbehandler" not in listed.content.decode()
    assert client.get(reverse("admin:permissions_rolerequest_change", args=[asked.pk])).status_code == 302
    _approve(client, [asked.pk])
    asked.refresh_from_db()
    assert asked.status == "pending" and not Membership.objects.filter(user=newcomer).exists()


def test_a_second_access_administrator_approves_and_the_record_names_both(
    users, agencies, newcomer, second_admin, prison_case
):
    asked = _asked_by_tove(users, agencies, newcomer)
    # Both access administrators see it waiting, the requester too.
    for admin in (users["tove"], second_admin):
        listed = signed_in(admin).get(reverse("admin:permissions_rolerequest_changelist"))
        assert listed.status_code == 200 and "ny-saksbehandler" in listed.content.decode()
    page = _approve(signed_in(second_admin), [asked.pk])
    assert page.status_code == 200 and "Godkjent: 1." in page.content.decode()
    assert Membership.objects.filter(user=newcomer, agency=agencies["nav"], role=Role.MEMBER).exists()
    newcomer = type(newcomer).objects.get(pk=newcomer.pk)
    assert rules.can_view_case(newcomer, prison_case)
    asked.refresh_from_db()
    assert (asked.status, asked.requested_by, asked.decided_by) == ("approved", users["tove"], second_admin)
    # The membership's admin history names who gave it: the approver.
    given = Membership.objects.get(user=newcomer, role=Role.MEMBER)
    entry = LogEntry.objects.get(object_id=str(given.pk), content_type__model="membership")
    assert entry.user == second_admin and entry.is_addition()
    assert asked.requested_at <= asked.decided_at
    # Decided once: a second approval finds it decided and gives nothing more.
    from permissions import role_requests

    with pytest.raises(role_requests.RoleRequestError) as refused:
        role_requests.approve_role_request(actor=second_admin, request_id=asked.pk)
    assert refused.value.reason == "decided"


def test_a_refusal_gives_nothing_and_is_recorded(users, agencies, newcomer, admin_user):
    asked = _asked_by_tove(users, agencies, newcomer)
    page = _approve(signed_in(admin_user), [asked.pk], action="refuse")
    assert "Avslått: 1." in page.content.decode()
    asked.refresh_from_db()
    assert (asked.status, asked.decided_by) == ("refused", admin_user)
    assert not Membership.objects.filter(user=newcomer).exists()
    # The record stays, in the superuser's list and the access administrator's.
    listed = signed_in(users["tove"]).get(reverse("admin:permissions_rolerequest_changelist") + "?status=refused")
    assert "ny-saksbehandler" in listed.content.decode()


def test_nobody_writes_a_request_or_its_decision_by_hand(users, admin_user):
    for user in (users["tove"], admin_user):
        client = signed_in(user)
        assert client.get(reverse("admin:permissions_rolerequest_add")).status_code == 403


def test_a_new_agency_s_group_is_its_own_unless_a_superuser_picks_one(users, agencies, django_user_model):
    """Until 2026-12-06 whoever could add agencies picked the new agency's group, any group of
    the site: now the add page offers it to a superuser alone, and makes a new one otherwise."""
    adder = django_user_model.objects.create_user("etat-oppretter", password="x", is_staff=True)
    adder.user_permissions.add(*Permission.objects.filter(codename__in=["add_agency", "view_agency", "change_agency"]))
    admins = Group.objects.create(name="tilgangsadministratorer")
    client = signed_in(adder)
    page = client.get(reverse("admin:permissions_agency_add"))
    assert page.status_code == 200 and 'name="group"' not in page.content.decode()
    answer = client.post(
        reverse("admin:permissions_agency_add"),
        {
            "name": "NAV Fredrikstad",
            "kind": "nav",
            "group": str(admins.pk),
            "municipality": "Fredrikstad",
            "notification_email": "",
            "webhook_url": "",
            "webhook_secret": "",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert answer.status_code == 302
    added = Agency.objects.get(name="NAV Fredrikstad")
    assert added.group_id != admins.pk
    assert added.group.name == "agency:NAV Fredrikstad"
    assert (
        'name="group"'
        in _client_for_superuser(django_user_model).get(reverse("admin:permissions_agency_add")).content.decode()
    )


def _client_for_superuser(django_user_model):
    return signed_in(django_user_model.objects.create_superuser("rot-admin", "rot@example.org", "pw-1234567"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_give_one_membership(users, agencies, second_admin, admin_user):
    from django.contrib.auth import get_user_model

    from permissions import role_requests
    from permissions.models import RoleRequest
    from tests.threads import all_at_once

    newcomer = get_user_model().objects.create_user("ny-saksbehandler", password="x")
    asked = role_requests.request_role(actor=users["tove"], user=newcomer, agency=agencies["nav"], role=Role.MEMBER)
    # The second waits on the first's row lock, then finds the request decided.
    outcomes = all_at_once(
        [
            lambda approver=approver: role_requests.approve_role_request(actor=approver, request_id=asked.pk)
            for approver in (second_admin, admin_user)
        ]
    )
    given = [outcome for outcome in outcomes if isinstance(outcome, Membership)]
    decided = [o for o in outcomes if isinstance(o, role_requests.RoleRequestError) and o.reason == "decided"]
    assert len(given) == 1 and len(decided) == 1, outcomes
    assert Membership.objects.filter(user=newcomer, role=Role.MEMBER).count() == 1
    assert RoleRequest.objects.get(pk=asked.pk).status == "approved"
