"""A move's refusals are access-log rows of the cases they name (h-attack36).

``POST .../versions/<n>/migration/`` answers each case that stayed by reference, with the
element it waits on. A process admin, who sees no case data, deployed a version whose
gateway branched on a health value and a target version without one branch's task: the
move refused exactly the cases on that branch, named each, moved none, and so wrote
nothing on any case's timeline. The admin read every case's health value in one silent
request (the preview, which counts, was closed for this in h-preview). Each case named as
refused now has an access-log row of the admin's read, for the categories its path reads,
so the coordinator's log and the person's access report show who learned it, and when."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from bpmn.services import deploy_definition
from permissions.models import AccessAction, AccessLog, Membership, Role
from tests.api.test_gateway_inference import BRANCH, HEALTH_FORM, HOUSING_FORM, NAV_FORM, model
from tests.clients import api, web
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Task

pytestmark = pytest.mark.django_db

FORMS = {"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM, "n.schema.json": NAV_FORM}


@pytest.fixture
def people(agencies):
    make = get_user_model().objects.create_user
    admin, nurse = make("mr-process-admin", password="x"), make("mr-nurse", password="x")
    contact = make("mr-contact", password="x")
    Membership.objects.create(user=admin, agency=agencies["housing"], role=Role.PROCESS_ADMIN)
    Membership.objects.create(user=nurse, agency=agencies["health"], role=Role.MEMBER)
    Membership.objects.create(user=contact, agency=agencies["housing"], role=Role.COORDINATOR)
    return admin, nurse, contact


def _assessed(nurse, agencies, needs_treatment: bool):
    case = services.start_case(
        actor=nurse,
        process_key="Proc_branch",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=nurse, task_id=task.pk, data={"needs_treatment": needs_treatment})
    return case


def _admins_reads(admin, case):
    return AccessLog.objects.filter(user=admin, case=case, action=AccessAction.READ)


def test_a_case_named_as_refused_by_a_move_has_the_admins_read_in_its_access_log(people, agencies):
    admin, nurse, contact = people
    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    treated, untreated = _assessed(nurse, agencies, True), _assessed(nurse, agencies, False)
    # The target version routes the treated's task to the prison, which takes no part in
    # these cases: the move refuses them alone.
    target = model().replace(f"<bpmn:flowNodeRef>{BRANCH[0]}</bpmn:flowNodeRef>", "", 1)
    prison_lane = f'<bpmn:lane id="Lane_4" name="Kriminalomsorgen"><bpmn:flowNodeRef>{BRANCH[0]}</bpmn:flowNodeRef>'
    prison_lane += "</bpmn:lane>"
    target = target.replace("</bpmn:laneSet>", prison_lane + "</bpmn:laneSet>")
    deploy_definition(actor=None, bpmn_xml=target, forms=FORMS, check_permission=False)

    url = reverse("api-process-version-migration", args=["Proc_branch", 1])
    moved = api(admin).post(url, {"to_version": 2}, format="json")

    assert moved.status_code == 200
    refused = moved.json()["refused"]
    assert [entry["case"] for entry in refused] == [treated.reference]  # the health value, per case
    reads = _admins_reads(admin, treated)
    assert set(reads.values_list("category", flat=True)) == {"health"}  # what the gateway read
    assert {row.basis for row in reads} == {f"version-migration:{moved.json()['id']}"}
    # Moved: that tells its branch as well (the other one), so it is the admin's read too.
    assert set(_admins_reads(admin, untreated).values_list("category", flat=True)) == {"health"}
    # The coordinator reads it in the case's access log.
    log = api(contact).get(reverse("api-case-access-log", args=[treated.pk]))
    assert log.status_code == 200
    assert any(row["username"] == admin.username and row["category"] == "health" for row in log.json()["results"])
    # The person's access report says who read it and on what, in words.
    report = web(contact).get(reverse("person-access-report", args=[treated.pk]), HTTP_ACCEPT_LANGUAGE="nb")
    assert report.status_code == 200
    words = f"flytting av prosessens saker til en annen versjon (nr. {moved.json()['id']})"
    assert admin.username in report.content.decode() and words in report.content.decode()


def test_a_move_refusing_nothing_logs_nothing(people, agencies):
    admin, nurse, _contact = people
    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    case = _assessed(nurse, agencies, True)
    deploy_definition(
        actor=None,
        bpmn_xml=model().replace('name="Branch on health"', 'name="Branch on health, v2"'),
        forms=FORMS,
        check_permission=False,
    )
    url = reverse("api-process-version-migration", args=["Proc_branch", 1])
    moved = api(admin).post(url, {"to_version": 2}, format="json")
    assert moved.status_code == 200 and moved.json()["refused"] == []
    assert not _admins_reads(admin, case).exists()


def _branch_refusing_target() -> str:
    """The target version of the first test: the treated's task routed to the prison."""
    target = model().replace(f"<bpmn:flowNodeRef>{BRANCH[0]}</bpmn:flowNodeRef>", "", 1)
    prison_lane = f'<bpmn:lane id="Lane_4" name="Kriminalomsorgen"><bpmn:flowNodeRef>{BRANCH[0]}</bpmn:flowNodeRef>'
    prison_lane += "</bpmn:lane>"
    return target.replace("</bpmn:laneSet>", prison_lane + "</bpmn:laneSet>")


def test_a_case_a_move_names_as_moved_has_the_admins_read_in_its_access_log(people, agencies):
    # The same target, one case asked for: that it moved says it is not on the treatment
    # branch (the health value its gateway read) as surely as a refusal says it is.
    admin, nurse, contact = people
    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    untreated = _assessed(nurse, agencies, False)
    deploy_definition(actor=None, bpmn_xml=_branch_refusing_target(), forms=FORMS, check_permission=False)

    url = reverse("api-process-version-migration", args=["Proc_branch", 1])
    moved = api(admin).post(url, {"to_version": 2, "case": untreated.pk}, format="json")

    assert moved.status_code == 200
    assert moved.json()["refused"] == [] and len(moved.json()["migrated"]) == 1
    reads = _admins_reads(admin, untreated)
    assert set(reads.values_list("category", flat=True)) == {"health"}
    assert {row.basis for row in reads} == {f"version-migration:{moved.json()['id']}"}
    report = web(contact).get(reverse("person-access-report", args=[untreated.pk]), HTTP_ACCEPT_LANGUAGE="nb")
    words = f"flytting av prosessens saker til en annen versjon (nr. {moved.json()['id']})"
    assert admin.username in report.content.decode() and words in report.content.decode()
