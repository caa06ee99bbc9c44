"""A second person before an account that reads case data is taken over. Until 2026-12-06 NAV's
access administrator (``tove``, who sees no case data) could alone set a NAV caseworker's
password, delete their second-factor device and make them an enrolment link, then sign in as
them and read NAV's cases; and map an identity-provider group to a case role, which gives it to
whoever the provider puts in the group. Now, for a user holding a role that opens case data,
each of the three is a request (``accounts.AccountRequest``) that takes effect only when
another access administrator of the user's agencies (staff, neither the one who asked nor the
user) or a superuser approves it: the password is kept as its hash until then, and the link is
made on approval and shown to the approver alone. Such a mapping is a superuser's alone.
(docs/security.md, "Who may change users in the admin".)

The request model and service are imported inside the tests: on the code before, each test
fails on what a user relies on (the account changed at once), not on an import."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import EnrolmentLink, GroupMapping
from permissions.demo import _give_admin_permissions
from permissions.models import Membership, Role
from tests.permissions.access_admins import signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

NEW_PASSWORD = "Et-nytt-passord-for-saksbehandleren-7"
ENROL = "/accounts/two-factor/enrol/"
WAITS = "godkjent"  # "... gjelder først når en annen tilgangsadministrator ... har godkjent den"


def _requests():
    from accounts.models import AccountRequest

    return AccountRequest.objects


@pytest.fixture
def second_admin(django_user_model, agencies):
    """NAV's second access administrator, staff with the same Django permissions as ``tove``."""
    user = django_user_model.objects.create_user("tilgang-andre", password="x", is_staff=True)
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.ACCESS_ADMIN)
    _give_admin_permissions([user])
    return user


def _set_password(client, user):
    return client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )


def _device(user):
    return TOTPDevice.objects.create(user=user, name="telefon", confirmed=True)


def _delete_device(client, device):
    return client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"}, follow=True)


def _issue_link(client, user):
    return client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "issue_enrolment_links", "_selected_action": [user.pk]},
        follow=True,
    )


def _decide(client, request_ids, action="approve"):
    return client.post(
        reverse("admin:accounts_accountrequest_changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in request_ids]},
        follow=True,
    )


def test_a_lone_access_administrator_sets_no_caseworker_s_password(users):
    nils = users["nils"]
    page = signed_in(users["tove"]).get(reverse("admin:auth_user_password_change", args=[nils.pk]))
    assert page.status_code == 200 and WAITS in page.content.decode()  # said before it is typed
    answer = _set_password(signed_in(users["tove"]), nils)
    assert answer.status_code == 200 and WAITS in answer.content.decode()
    nils.refresh_from_db()
    assert not nils.check_password(NEW_PASSWORD)
    asked = _requests().get(user=nils)
    assert (asked.kind, asked.requested_by, asked.status) == ("password", users["tove"], "pending")
    # Only the hash is kept: its text is nowhere in the row.
    assert NEW_PASSWORD not in asked.password_hash and asked.password_hash.startswith("md5$")


def test_nor_removes_their_second_factor(users):
    device = _device(users["nils"])
    answer = _delete_device(signed_in(users["tove"]), device)
    assert answer.status_code == 200 and WAITS in answer.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    asked = _requests().get(user=users["nils"])
    assert (asked.kind, asked.device_id, asked.status) == ("remove_device", device.pk, "pending")


def test_nor_makes_them_an_enrolment_link_nor_sees_one(users):
    answer = _issue_link(signed_in(users["tove"]), users["nils"])
    assert answer.status_code == 200 and ENROL not in answer.content.decode()
    assert not EnrolmentLink.objects.exists()
    assert _requests().get(user=users["nils"]).kind == "enrolment_link"


def test_links_chosen_together_are_made_for_the_users_without_a_case_role_alone(users, agencies, django_user_model):
    reader = django_user_model.objects.create_user("tallleser", password="x")
    Membership.objects.create(user=reader, agency=agencies["nav"], role=Role.LEADER)  # figures, no case data
    answer = signed_in(users["tove"]).post(
        reverse("admin:auth_user_changelist"),
        {"action": "issue_enrolment_links", "_selected_action": [users["nils"].pk, reader.pk]},
    )
    assert answer.content.decode().count(ENROL) == 1
    assert list(EnrolmentLink.objects.values_list("user__username", flat=True)) == ["tallleser"]
    assert _requests().get(user=users["nils"]).kind == "enrolment_link"


def test_a_second_access_administrator_approves_and_the_record_names_both(users, second_admin):
    nils = users["nils"]
    _set_password(signed_in(users["tove"]), nils)
    asked = _requests().get(user=nils)
    # Neither the requester nor the user approves.
    for who in (users["tove"], nils):
        _decide(signed_in(who), [asked.pk])
    asked.refresh_from_db()
    assert asked.status == "pending"
    nils.refresh_from_db()
    assert not nils.check_password(NEW_PASSWORD)

    _decide(signed_in(second_admin), [asked.pk])
    nils.refresh_from_db()
    assert nils.check_password(NEW_PASSWORD)
    asked.refresh_from_db()
    assert (asked.status, asked.requested_by, asked.decided_by) == ("approved", users["tove"], second_admin)
    assert asked.decided_at is not None and asked.password_hash == ""
    assert LogEntry.objects.filter(object_id=str(nils.pk), action_flag=CHANGE, user=second_admin).exists()


def test_an_approved_link_is_shown_to_the_approver_alone(users, second_admin):
    tove = signed_in(users["tove"])
    _issue_link(tove, users["nils"])
    asked = _requests().get(user=users["nils"])
    shown = _decide(signed_in(second_admin), [asked.pk]).content.decode()
    assert shown.count(ENROL) == 1
    token = shown.split(ENROL)[1].split("/")[0]
    assert EnrolmentLink.objects.get(user=users["nils"]).created_by == second_admin
    # The requester's list of requests shows the decision, never the link.
    listed = tove.get(reverse("admin:accounts_accountrequest_changelist")).content.decode()
    assert "nils" in listed and token not in listed and ENROL not in listed


def test_an_approved_device_removal_deletes_the_device(users, admin_user):
    device = _device(users["nils"])
    _delete_device(signed_in(users["tove"]), device)
    _decide(signed_in(admin_user), [_requests().get(user=users["nils"]).pk])
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_a_refusal_changes_nothing_and_is_recorded(users, second_admin):
    device = _device(users["nils"])
    _delete_device(signed_in(users["tove"]), device)
    asked = _requests().get(user=users["nils"])
    _decide(signed_in(second_admin), [asked.pk], action="refuse")
    asked.refresh_from_db()
    assert (asked.status, asked.decided_by) == ("refused", second_admin)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    # Decided: a later approval does nothing.
    _decide(signed_in(second_admin), [asked.pk])
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_another_agency_s_access_administrator_neither_sees_nor_approves(users, agencies, django_user_model):
    _issue_link(signed_in(users["tove"]), users["nils"])
    other = django_user_model.objects.create_user("tilgang-helse", password="x", is_staff=True)
    Membership.objects.create(user=other, agency=agencies["health"], role=Role.ACCESS_ADMIN)
    _give_admin_permissions([other])
    page = signed_in(other)
    assert "nils" not in page.get(reverse("admin:accounts_accountrequest_changelist")).content.decode()
    asked = _requests().get(user=users["nils"])
    _decide(page, [asked.pk])
    from accounts import account_requests

    with pytest.raises(account_requests.AccountRequestError):
        account_requests.approve_account_request(actor=other, request_id=asked.pk)
    assert not EnrolmentLink.objects.exists()
    asked.refresh_from_db()
    assert asked.status == "pending"


def test_one_request_of_a_kind_waits_at_a_time(users):
    tove = signed_in(users["tove"])
    _set_password(tove, users["nils"])
    answer = _set_password(tove, users["nils"])
    assert "venter allerede" in answer.content.decode()
    assert _requests().filter(user=users["nils"]).count() == 1


def test_a_superuser_still_sets_a_caseworker_s_password_at_once(users, admin_user):
    _set_password(signed_in(admin_user), users["nils"])
    users["nils"].refresh_from_db()
    assert users["nils"].check_password(NEW_PASSWORD)
    assert not _requests().exists()


def test_only_a_superuser_maps_a_provider_group_to_a_case_role(users, agencies, admin_user):
    tove = signed_in(users["tove"])
    for role in (Role.MEMBER, Role.COORDINATOR, Role.AUDITOR):
        answer = tove.post(
            reverse("admin:accounts_groupmapping_add"),
            {"group": "nav-saksbehandlere", "agency": agencies["nav"].pk, "role": role},
        )
        assert answer.status_code == 200 and "Bare en superbruker kobler" in answer.content.decode(), role
    assert not GroupMapping.objects.exists()
    # Nor re-points a superuser's mapping to another group.
    mapping = GroupMapping.objects.create(group="nav-saksbehandlere", agency=agencies["nav"], role=Role.MEMBER)
    answer = tove.post(
        reverse("admin:accounts_groupmapping_change", args=[mapping.pk]),
        {"group": "alle-ansatte", "agency": agencies["nav"].pk, "role": Role.MEMBER},
    )
    assert answer.status_code == 200
    mapping.refresh_from_db()
    assert mapping.group == "nav-saksbehandlere"
    answer = signed_in(admin_user).post(
        reverse("admin:accounts_groupmapping_add"),
        {"group": "nav-ledere", "agency": agencies["nav"].pk, "role": Role.COORDINATOR},
    )
    assert answer.status_code == 302


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_make_one_link(users, second_admin, admin_user):
    from accounts import account_requests
    from tests.threads import all_at_once

    nils = get_user_model().objects.get(username="nils")
    asked = account_requests.request_account_change(actor=users["tove"], user=nils, kind="enrolment_link")
    # The second waits on the first's row lock, then finds the request decided.
    outcomes = all_at_once(
        [
            lambda approver=approver: account_requests.approve_account_request(actor=approver, request_id=asked.pk)
            for approver in (second_admin, admin_user)
        ]
    )
    made = [outcome for outcome in outcomes if isinstance(outcome, tuple)]
    decided = [o for o in outcomes if isinstance(o, account_requests.AccountRequestError) and o.reason == "decided"]
    assert len(made) == 1 and len(decided) == 1, outcomes
    assert EnrolmentLink.objects.filter(user=nils).count() == 1
