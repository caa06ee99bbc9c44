"""The worker's log lines (JSON lines shipped to journald, Loki or ELK, read by operators who
see no case data) say which job failed and why, never a value of the case."""

import logging

import pytest

from bpmn.services import deploy_definition
from tests.clients import api
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_service_tasks import Registry
from tests.workflows.service_models import FORMS, connector_model, external_model
from workflows import services
from workflows.jobs.worker import Worker
from workflows.models import Incident, Job, JobKind, JobStatus, ServiceConnector

pytestmark = pytest.mark.django_db

SECRET_VALUE = "Schizofreni-Olsen"


def test_a_service_field_that_fails_on_a_value_leaves_the_value_out_of_the_log(settings, users, agencies, caplog):
    """Before, SpiffWorkflow's wrapper escaped the worker: it stopped (every worker that took
    the job after the lease ran out stopped too), its traceback quoting the value."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    model = connector_model().replace('value="applicant_id"', 'value="int(applicant_id)"')
    deploy_definition(actor=None, bpmn_xml=model, forms=FORMS, check_permission=False)
    registry = Registry([(200, {"income": 1})])
    ServiceConnector.objects.create(name="income-register", url=registry.url, secret="s", agency=agencies["nav"])
    case = services.start_case(
        actor=users["nils"], process_key="income_check", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=ask.pk, data={"applicant_id": SECRET_VALUE})

    with caplog.at_level(logging.INFO):
        Worker(name="w").run(once=True)

    job = Job.objects.get(case=case, kind=JobKind.SERVICE)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 1) and registry.calls == []  # backs off
    assert "applicant_id" in job.last_error and SECRET_VALUE not in job.last_error
    assert f"job {job.pk} (service) attempt 1 failed" in caplog.text  # the failure is logged
    assert SECRET_VALUE not in caplog.text


def test_an_agencys_system_fetching_a_task_whose_field_cannot_be_computed_is_answered(users, agencies, caplog):
    """A declared field that reads data the case never got (an optional field left empty):
    before, SpiffWorkflow's wrapper escaped the fetch, which answered 500 on every try, so the
    agency's system fetched none of the topic's tasks. Now the task is left out, its job
    failed with the error (naming the field, no value) and an incident for the process admin:
    the case would otherwise wait unseen."""
    model = external_model().replace("${applicant_id}", "${not_given}")
    deploy_definition(actor=None, bpmn_xml=model, forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=users["nils"], process_key="register_check", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=ask.pk, data={"applicant_id": SECRET_VALUE})

    with caplog.at_level(logging.INFO):
        answer = api(users["nils"]).post(
            "/api/v1/external-tasks/fetch-and-lock/",
            {"workerId": "w", "topics": [{"topicName": "housing-register", "lockDuration": 60000}]},
            format="json",
        )

    assert answer.status_code == 200 and answer.json() == []
    job = Job.objects.get(case=case, kind=JobKind.EXTERNAL_TASK)
    assert job.status == JobStatus.FAILED and "applicant_id" in job.last_error
    assert job.last_error_message["code"] == "job.service.field_failed"
    assert SECRET_VALUE not in job.last_error and SECRET_VALUE not in caplog.text
    (incident,) = Incident.objects.filter(job=job, resolved_at__isnull=True)
    assert (incident.case, incident.kind) == (case, "external_task-failed")
    assert SECRET_VALUE not in incident.error
