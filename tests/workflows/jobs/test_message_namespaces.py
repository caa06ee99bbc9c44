"""``message_id`` is unique per sender agency: another agency's ids neither swallow a
message nor reveal the case they were used in (issue 11, Low)."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from permissions.models import Agency, AgencyKind, Membership, Role
from tests.clock import Clock
from workflows.models import Case, Event, EventKind, ReceivedMessage

from .conftest import walk_to_find_home
from .test_message_start import admission_model, deploy, start_body

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def send(user, **body):
    return api(user).post("/api/v1/messages/", body, format="json")


def other_agency(kind, name, username, django_user_model):
    agency = Agency.objects.create(name=name, kind=kind, group=Group.objects.create(name=f"agency:{name}"))
    user = django_user_model.objects.create_user(username)
    Membership.objects.create(user=user, agency=agency, role=Role.MEMBER)
    user.groups.add(agency.group)
    return agency, user


def test_another_prisons_id_neither_swallows_the_message_nor_is_swallowed(
    shipped, users, agencies, monkeypatch, django_user_model
):
    Clock(monkeypatch, datetime(2026, 8, 3, 12, tzinfo=UTC))
    bastoy, per = other_agency(AgencyKind.PRISON, "Bastøy fengsel", "per", django_user_model)
    halden_case = walk_to_find_home(users, agencies, "2027-01-15")
    bastoy_case = walk_to_find_home({**users, "kari": per}, {**agencies, "prison": bastoy}, "2027-01-15")

    first = send(
        users["kari"],
        name="release_date_changed",
        case_reference=halden_case.reference,
        payload={"expected_release_date": "2027-03-01"},
        message_id="msg-1",
    )
    assert first.json()["status"] == "delivered"
    second = send(
        per,
        name="release_date_changed",
        case_reference=bastoy_case.reference,
        payload={"expected_release_date": "2027-04-01"},
        message_id="msg-1",
    )
    assert second.status_code == 202 and second.json()["status"] == "delivered"
    bastoy_case.refresh_from_db()
    assert bastoy_case.data["expected_release_date"] == "2027-04-01"
    assert set(ReceivedMessage.objects.values_list("sender_agency", "message_id")) == {
        (agencies["prison"].pk, "msg-1"),
        (bastoy.pk, "msg-1"),
    }

    # The same agency's id again is a duplicate; its answer names only the case it named.
    again = send(
        per,
        name="release_date_changed",
        case_reference=bastoy_case.reference,
        payload={"expected_release_date": "2027-05-01"},
        message_id="msg-1",
    )
    assert again.json() == {**second.json(), "status": "duplicate", "element_ids": []}
    assert Event.objects.filter(case=bastoy_case, kind=EventKind.MESSAGE_RECEIVED).count() == 1


def test_replaying_another_hospitals_start_id_reveals_nothing_and_starts_its_own_case(
    users, agencies, django_user_model
):
    deploy(admission_model())
    innlandet, sofie = other_agency(AgencyKind.HOSPITAL, "Sykehuset Innlandet", "sofie", django_user_model)
    first = send(users["siri"], name="patient_admitted", message_id="dips-9", payload={}, start=start_body(agencies))
    assert first.json()["status"] == "started"
    theirs = Case.objects.get(pk=first.json()["case_id"])

    replay = send(
        sofie,
        name="patient_admitted",
        message_id="dips-9",
        payload={},
        start={
            "person": {"name": "Per Hansen", "national_id": "05840399895"},
            "participants": {"hospital": innlandet.pk, "housing": agencies["housing"].pk},
        },
    )
    assert replay.status_code == 202
    body = replay.json()
    assert body["status"] == "started"
    assert body["case_id"] != theirs.pk and theirs.reference not in str(body)
    assert Case.objects.count() == 2

    # Innlandet's own replay is a duplicate naming its own case.
    again = send(
        sofie,
        name="patient_admitted",
        message_id="dips-9",
        payload={},
        start={
            "person": {"name": "Per Hansen", "national_id": "05840399895"},
            "participants": {"hospital": innlandet.pk, "housing": agencies["housing"].pk},
        },
    )
    assert again.json()["status"] == "duplicate" and again.json()["case_id"] == body["case_id"]


def test_a_duplicate_whose_case_the_sender_no_longer_sees_names_no_case(users, agencies):
    deploy(admission_model())
    first = send(users["siri"], name="patient_admitted", message_id="dips-11", payload={}, start=start_body(agencies))
    assert first.json()["status"] == "started"
    # siri now works at the hospital as an auditor only: no case role, so she sees no case.
    Membership.objects.filter(user=users["siri"]).update(role=Role.AUDITOR)
    nurse = users["siri"].__class__.objects.create_user("nurse")
    Membership.objects.create(user=nurse, agency=agencies["hospital"], role=Role.MEMBER)
    from guardian.shortcuts import remove_perm

    case = Case.objects.get(pk=first.json()["case_id"])
    remove_perm("workflows.view_case", agencies["hospital"].group, case)
    again = send(nurse, name="patient_admitted", message_id="dips-11", payload={}, start=start_body(agencies))
    assert again.status_code == 202
    assert again.json()["status"] == "duplicate"
    assert again.json()["case_id"] is None and again.json()["case_reference"] is None
