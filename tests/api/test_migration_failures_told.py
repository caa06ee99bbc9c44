"""A version move whose target fails on some cases' data tells the process admin that data:
it is the admin's read in those cases' access logs (h-attack37).

h-attack36 logged the cases a move refuses, and h-review those it moves when it refused
others or was asked for one case: where a case waits tells the branch its gateway chose. A
process admin who sees no case data also makes the target version, and its expressions run
on the data of the cases moved onto it:

* a timer whose expression computes its moment from a health value, and fails for one value
  (SpiffWorkflow sets the waiting branches up again on the new model and so computes the
  changed timer's moment during the move): the move raised, a 500 with nothing written and
  nothing logged. Asked one case at a time (``case``), a 500 said "untreated", silently;
* a timer that fires at once into a script failing on one value: the move refused none and
  logged nothing, and the incident list named each treated case by reference.

Now the first case is refused (``target-failed``) and the second is told, each with an
access-log row of the admin's read for the categories the case's data holds."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from bpmn.services import deploy_definition
from permissions.models import AccessAction, AccessLog, Membership, Role
from tests.api.test_gateway_inference import model
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Incident, InstanceStatus, ProcessInstance, Task

from .test_migration_refusals_logged import FORMS

pytestmark = pytest.mark.django_db

# A non-interrupting timer on the payment task, its path ending at once (``PATH``: what runs
# when it fires); lane NAV, as the task's.
TIMER = """<bpmn:boundaryEvent id="Timer_pay" attachedToRef="Task_pay" cancelActivity="false">
  <bpmn:timerEventDefinition><bpmn:timeDuration>{expression}</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:sequenceFlow id="Flow_timer" sourceRef="Timer_pay" targetRef="{first}"/>
{path}
<bpmn:endEvent id="End_timer"/>
"""
SCRIPT = """<bpmn:scriptTask id="Script_check" name="Check">
  <bpmn:script>checked = 1 / (0 if needs_treatment else 1)</bpmn:script>
</bpmn:scriptTask>
<bpmn:sequenceFlow id="Flow_checked" sourceRef="Script_check" targetRef="End_timer"/>"""


def _with_timer(expression: str, *, script: bool = False) -> str:
    body = TIMER.format(
        expression=expression, first="Script_check" if script else "End_timer", path=SCRIPT if script else ""
    )
    xml = model().replace('<bpmn:endEvent id="EndEvent_1"/>', '<bpmn:endEvent id="EndEvent_1"/>' + body)
    refs = ["Timer_pay", *(["Script_check"] if script else []), "End_timer"]
    last = "<bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>"
    return xml.replace(last, last + "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs))


@pytest.fixture
def people(agencies):
    make = get_user_model().objects.create_user
    admin, nurse = make("mf-process-admin", password="x"), make("mf-nurse", password="x")
    contact = make("mf-contact", password="x")
    Membership.objects.create(user=admin, agency=agencies["housing"], role=Role.PROCESS_ADMIN)
    Membership.objects.create(user=nurse, agency=agencies["health"], role=Role.MEMBER)
    Membership.objects.create(user=contact, agency=agencies["housing"], role=Role.COORDINATOR)
    return admin, nurse, contact


def _waiting_to_pay(people, agencies, needs_treatment: bool):
    """A case past the health gateway and its home task: every case waits on the payment,
    whatever its branch, so where it waits tells nothing; its health value is in its data."""
    _admin, nurse, contact = people
    case = services.start_case(
        actor=nurse,
        process_key="Proc_branch",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    services.complete_task(
        actor=nurse,
        task_id=Task.objects.get(case=case, element_id="Task_assess").pk,
        data={"needs_treatment": needs_treatment},
    )
    home = Task.objects.get(case=case, element_id__in=("Task_supported_home", "Task_ordinary_home"))
    services.complete_task(actor=contact, task_id=home.pk, data={"home_found": True})
    assert list(Task.objects.filter(case=case, status="open").values_list("element_id", flat=True)) == ["Task_pay"]
    return case


def _admins_reads(admin, case) -> set[str]:
    rows = AccessLog.objects.filter(user=admin, case=case, action=AccessAction.READ)
    return set(rows.values_list("category", flat=True))


def _move(admin, **body):
    return api(admin).post(reverse("api-process-version-migration", args=["Proc_branch", 1]), body, format="json")


def test_a_target_whose_timer_fails_on_one_value_refuses_those_cases_and_logs_the_read(people, agencies):
    admin = people[0]
    deploy_definition(actor=None, bpmn_xml=_with_timer('"P10D"'), forms=FORMS, check_permission=False)
    treated = _waiting_to_pay(people, agencies, True)
    untreated = _waiting_to_pay(people, agencies, False)
    # The changed timer's moment, computed as the case is set up on the target: no duration
    # for the untreated.
    deploy_definition(
        actor=None, bpmn_xml=_with_timer('"P10D" if needs_treatment else "never"'), forms=FORMS, check_permission=False
    )
    preview = api(admin).get(reverse("api-process-version-migration", args=["Proc_branch", 1]), {"to_version": 2})
    assert preview.status_code == 200 and all(row["possible"] for row in preview.json()["standings"])

    # One case at a time: the untreated one answered 500 (nothing written, nothing logged).
    asked = _move(admin, to_version=2, case=untreated.pk)
    assert asked.status_code == 200
    (refused,) = asked.json()["refused"]
    assert refused["case"] == untreated.reference and asked.json()["migrated"] == []
    assert [problem["reason"] for problem in refused["problems"]] == ["target-failed"]
    assert refused["problems"][0]["message"] and "never" not in asked.content.decode()
    assert "health" in _admins_reads(admin, untreated)
    assert ProcessInstance.objects.get(case=untreated).definition.version == 1  # it stays

    # Every case: the treated one moves, the untreated one stays; both are told.
    everyone = _move(admin, to_version=2)
    assert everyone.status_code == 200
    assert [entry["case"] for entry in everyone.json()["refused"]] == [untreated.reference]
    assert len(everyone.json()["migrated"]) == 1
    assert "health" in _admins_reads(admin, treated)
    assert ProcessInstance.objects.get(case=treated).definition.version == 2


def test_a_move_that_leaves_a_case_on_an_incident_logs_the_admins_read(people, agencies):
    admin = people[0]
    deploy_definition(actor=None, bpmn_xml=_with_timer('"P10D"'), forms=FORMS, check_permission=False)
    treated = _waiting_to_pay(people, agencies, True)
    untreated = _waiting_to_pay(people, agencies, False)
    # The timer fires at once on the target, into a script that fails for the treated.
    deploy_definition(actor=None, bpmn_xml=_with_timer('"PT0S"', script=True), forms=FORMS, check_permission=False)

    moved = _move(admin, to_version=2)

    assert moved.status_code == 200
    assert moved.json()["refused"] == [] and len(moved.json()["migrated"]) == 2
    # What the admin then reads: the treated case, by reference, on an incident.
    incidents = api(admin).get(reverse("api-incidents")).json()["results"]
    assert [row["case"]["reference"] for row in incidents] == [treated.reference]
    assert Incident.objects.get().case_id == treated.pk
    assert ProcessInstance.objects.get(case=treated).status == InstanceStatus.INCIDENT
    # So the move was a read of the treated case's data: in its access log.
    assert "health" in _admins_reads(admin, treated)
    # The untreated case moved without one: that tells its value as surely (the move named
    # two instances moved, the incident list one case).
    assert "health" in _admins_reads(admin, untreated)
