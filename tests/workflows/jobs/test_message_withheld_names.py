"""The names of a message's withheld fields are read as its arrived fields are: only those the
reader sees in the receiving case (h-attack33).

A thrown message's payload is the model's expression: its keys may be computed from the
sending case's data (``{diagnosis: True}``, a script's summary keyed by medication) or be
there only on one branch. A field left out of the receiving case (no consent there) was named
under ``withheld`` in the receiving case's timeline to every participant: the health
service's diagnosis, left out of NAV's and the housing contact's workflow, was then read by
NAV in the timeline's event. The arrived fields (``fields``) were already named only to the
readers who see them."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from bpmn.services import deploy_definition
from permissions.models import Membership, Role
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_message_payload_consent import FORMS, care_move_in_model, care_notice_model
from workflows import services
from workflows.jobs.worker import Worker
from workflows.models import Event, EventKind

pytestmark = pytest.mark.django_db

DIAGNOSIS = "F20 paranoid schizofreni"


def _member(agencies, kind, username, role=Role.MEMBER):
    user = get_user_model().objects.create_user(username)
    Membership.objects.create(user=user, agency=agencies[kind], role=role)
    return user


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
    return client


@pytest.fixture
def staff(agencies):
    return {
        "housing": _member(agencies, "housing", "bolig-melding", Role.COORDINATOR),
        "nav": _member(agencies, "nav", "nav-melding"),
        "health": _member(agencies, "health", "helse-melding"),
    }


def _delivered(agencies, staff, payload):
    """The receiving case (NAV registered the applicant) after the health service's case threw
    ``payload`` to it and the worker delivered it."""
    notice = care_notice_model().replace(
        '{"applicant_id": applicant_id, "diagnosis_note": "Dx: " + diagnosis, "ready": True}', payload
    )
    assert payload in notice
    for xml in (notice, care_move_in_model()):
        deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)
    participants = {kind: agencies[kind].pk for kind in ("nav", "health", "housing")}
    waiting = services.start_case(
        actor=staff["housing"], process_key="care_move_in", person=PERSON, participants=participants
    )
    (register,) = open_tasks(waiting)
    services.complete_task(actor=staff["nav"], task_id=register.pk, data={"applicant_id": "A-17"})
    sender = services.start_case(
        actor=staff["health"], process_key="care_notice", person=PERSON, participants=participants
    )
    (prepare,) = open_tasks(sender)
    services.complete_task(
        actor=staff["health"], task_id=prepare.pk, data={"applicant_id": "A-17", "diagnosis": DIAGNOSIS}
    )
    Worker(name="w").run(once=True)
    assert [task.element_id for task in open_tasks(waiting)] == ["Task_move"]  # caught, advanced
    return waiting


def _timeline(user, case):
    answer = _client(user).get(reverse("api-case-timeline", args=[case.pk]))
    assert answer.status_code == 200
    (received,) = [event for event in answer.json()["results"] if event["kind"] == "message_received"]
    return answer.content.decode(), received["detail"]


def test_a_key_computed_from_a_health_value_is_not_named_to_nav_in_the_timeline(agencies, staff):
    # The computed key before the applicant's id, which the receiving case correlates on: a key
    # computed after it could write over it, and a correlation computed from the diagnosis
    # reaches no case whose agencies may not see it (h-attack38).
    waiting = _delivered(agencies, staff, '{diagnosis: True, "applicant_id": applicant_id, "ready": diagnosis != ""}')
    stored = Event.objects.get(case=waiting, kind=EventKind.MESSAGE_RECEIVED).detail
    # Left out of the receiving workflow (no consent there), and named only as the model names
    # it: the computed key is stored in no event of the receiving case either.
    assert stored["withheld"] == ["ready"]
    assert not any(DIAGNOSIS in str(event.detail) for event in Event.objects.filter(case=waiting))

    for reader in ("nav", "housing"):
        text, detail = _timeline(staff[reader], waiting)
        assert DIAGNOSIS not in text
        assert detail["fields"] == ["applicant_id"] and detail["withheld"] == []


def test_a_field_present_on_one_branch_only_is_not_named_to_whom_it_is_masked(agencies, staff):
    """A literal key the sender's expression gives only for some values (here: a health value
    decides) tells that value to whoever learns that the field was there."""
    # The key chosen before the applicant's id, which the receiving case correlates on: as two
    # dicts chosen by the diagnosis, the id compared would be the diagnosis's too (h-attack38).
    payload = '{("psychosis_plan" if diagnosis[:3] == "F20" else "plan"): True, "applicant_id": applicant_id}'

    waiting = _delivered(agencies, staff, payload)
    # the field the branch gave was left out and is named in the event (the model names it)
    # Not in the event at all (the readers' filter below never had it to leave out): a field
    # the expression gives on one branch only is no name the model gives the payload for sure.
    stored = Event.objects.get(case=waiting, kind=EventKind.MESSAGE_RECEIVED).detail
    assert "psychosis_plan" not in stored["withheld"] and "psychosis_plan" not in stored["fields"]

    _text, nav_detail = _timeline(staff["nav"], waiting)
    assert "psychosis_plan" not in nav_detail["withheld"]
    _text, housing_detail = _timeline(staff["housing"], waiting)
    assert "psychosis_plan" not in housing_detail["withheld"]


def test_a_process_admin_reads_no_computed_key_of_a_waiting_message_in_the_admin(agencies, staff):
    """The process admin sees no case data (design §2), yet deploys models without review: a
    payload whose key is the diagnosis (``{diagnosis: True}``) put it in the admin's list of
    the outbox message's fields, which names them for operators to follow a delivery."""
    from django.contrib.auth.models import Permission
    from django.test import Client

    from tests.workflows.jobs.test_message_payload_consent import care_notice_model
    from workflows.models import OutboxMessage

    notice = care_notice_model().replace(
        '{"applicant_id": applicant_id, "diagnosis_note": "Dx: " + diagnosis, "ready": True}',
        '{"applicant_id": applicant_id, diagnosis: True}',
    )
    deploy_definition(actor=None, bpmn_xml=notice, forms=FORMS, check_permission=False)
    participants = {kind: agencies[kind].pk for kind in ("nav", "health", "housing")}
    sender = services.start_case(
        actor=staff["health"], process_key="care_notice", person=PERSON, participants=participants
    )
    (prepare,) = open_tasks(sender)
    services.complete_task(
        actor=staff["health"], task_id=prepare.pk, data={"applicant_id": "A-17", "diagnosis": DIAGNOSIS}
    )
    message = OutboxMessage.objects.get(case=sender)
    assert DIAGNOSIS in message.payload  # the worker still has it to deliver

    admin_user = _member(agencies, "housing", "prosess-melding", Role.PROCESS_ADMIN)
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    admin_user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="workflows", codename="view_outboxmessage")
    )
    client = Client()
    client.force_login(admin_user)
    for url in (
        reverse("admin:workflows_outboxmessage_changelist"),
        reverse("admin:workflows_outboxmessage_change", args=[message.pk]),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert DIAGNOSIS not in page.content.decode(), url
    text = client.get(reverse("admin:workflows_outboxmessage_change", args=[message.pk])).content.decode()
    assert "applicant_id" in text and "1 felt til, med navn fra sakens data" in text
