"""A case that waits for an agency's own system moves to a new version: its external task
goes where the new version sends it (the topic, the agency), not where the old one did."""

import pytest

from bpmn.services import deploy_definition
from tests.api.test_external_tasks import fetch, waiting_on_nav_system
from tests.workflows.jobs.test_service_tasks import waiting_case
from tests.workflows.service_models import FORMS, connector_model, external_model
from workflows.models import Job, JobKind, JobStatus
from workflows.services import versions

pytestmark = pytest.mark.django_db

NEW_TOPIC = {"topicName": "housing-register-2", "lockDuration": 60000}
OLD_TOPIC = {"topicName": "housing-register", "lockDuration": 60000}


def in_housing_lane(xml: str) -> str:
    """The same model with the external task in the housing office's lane."""
    moved = xml.replace("<bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef>", "")
    return moved.replace(
        "</bpmn:lane></bpmn:laneSet>",
        '</bpmn:lane><bpmn:lane id="Lane_housing" name="Bolig">'
        "<bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>",
    )


def deploy(xml: str) -> None:
    deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)


def migrate(users, key="register_check") -> dict:
    record = versions.migrate_instances(actor=users["ada"], key=key, from_version=1)
    return {"migrated": len(record.migrated), "refused": record.refused}


def test_a_new_topic_is_fetched_by_its_new_name(client_for, users, agencies):
    case = waiting_on_nav_system(users, agencies)
    deploy(external_model(topic="housing-register-2"))
    assert migrate(users) == {"migrated": 1, "refused": []}
    nils = client_for("nils")
    assert fetch(nils, topics=[OLD_TOPIC]) == []
    (task,) = fetch(nils, topics=[NEW_TOPIC])
    assert task["caseReference"] == case.reference and task["topicName"] == "housing-register-2"


def test_an_external_task_moved_to_another_agency_leaves_the_first_one_s_system(client_for, users, agencies):
    """Before, the job kept the agency it was routed to: NAV's system still fetched the
    applicant's data the new version sends to the housing office only."""
    case = waiting_on_nav_system(users, agencies, "housing")
    deploy(in_housing_lane(external_model()))
    assert migrate(users) == {"migrated": 1, "refused": []}
    assert fetch(client_for("nils"), topics=[OLD_TOPIC]) == []
    (task,) = fetch(client_for("bjorn"), topics=[OLD_TOPIC])
    assert task["caseReference"] == case.reference


def test_a_task_locked_by_the_old_agency_s_system_is_released(client_for, users, agencies):
    """Its worker holds data under a lock the new version would not grant: the lock ends,
    its answer is refused, and the new agency fetches the task."""
    waiting_on_nav_system(users, agencies, "housing")
    nils = client_for("nils")
    (locked,) = fetch(nils, topics=[OLD_TOPIC])
    deploy(in_housing_lane(external_model()))
    assert migrate(users) == {"migrated": 1, "refused": []}
    answer = nils.post(
        f"/api/v1/external-tasks/{locked['id']}/complete/",
        {"workerId": "w1", "variables": {"register_status": {"value": "listed"}}},
        format="json",
    )
    assert answer.status_code == 404
    (task,) = fetch(client_for("bjorn"), topics=[OLD_TOPIC])
    assert task["id"] == locked["id"]
    job = Job.objects.get(kind=JobKind.EXTERNAL_TASK)
    assert job.status == JobStatus.RUNNING and job.payload["agency_id"] == agencies["housing"].pk


def test_a_case_without_the_new_agency_does_not_move(users, agencies, client_for):
    waiting_on_nav_system(users, agencies)  # no housing office in the case
    deploy(in_housing_lane(external_model()))
    moved = migrate(users)
    assert moved["migrated"] == 0
    assert [p["element_id"] for p in moved["refused"][0]["problems"]] == ["Service_1"]
    (task,) = fetch(client_for("nils"), topics=[OLD_TOPIC])  # still NAV's, as in its version
    assert task["activityId"] == "Service_1"


def waiting_on_connector(users, agencies):
    """A case whose connector call (the income register) the worker has not made yet."""
    deploy(connector_model())
    return waiting_case(users, agencies)


def test_a_connector_call_owed_takes_the_new_connector(users, agencies):
    waiting_on_connector(users, agencies)
    deploy(connector_model(connector="income-register-2"))
    assert migrate(users, "income_check") == {"migrated": 1, "refused": []}
    job = Job.objects.get(kind=JobKind.SERVICE)
    assert (job.status, job.payload["target"], job.payload["element_id"]) == (
        JobStatus.PENDING,
        "income-register-2",
        "Service_1",
    )


def test_a_connector_routed_to_an_agency_the_case_lacks_does_not_move(users, agencies):
    """The call would go to the housing office's system, which takes no part in the case:
    the worker would refuse it and stop the case on an incident."""
    waiting_on_connector(users, agencies)
    deploy(in_housing_lane(connector_model()))
    moved = migrate(users, "income_check")
    assert moved["migrated"] == 0
    assert [p["element_id"] for p in moved["refused"][0]["problems"]] == ["Service_1"]
