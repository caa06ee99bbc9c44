"""A connector's answer that does not fit the task's form fails the job, and the job's error
names the field: the path of the error inside the value. Inside a field that takes any key
(``additionalProperties``), the keys are the other system's data: a benefits register that
answers ``{"Kari Hansen (samboer)": "..."}`` named a third person (the partner, say) in the
worker's log line (operators, no case data) and in the job's error the process admin reads.
The error names the declared field now, and an item of a list by its number, never a key the
answer chose."""

import logging

import pytest

from bpmn.services import deploy_definition
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_service_tasks import Registry
from tests.workflows.service_models import FORMS, connector_model
from workflows import services
from workflows.jobs.worker import Worker
from workflows.models import Job, JobKind, ServiceConnector

pytestmark = pytest.mark.django_db

THIRD_PERSON = "Kari Hansen (samboer)"
SOURCES = {"type": "object", "additionalProperties": {"type": "integer"}, "x-category": "economy"}


def test_a_key_of_the_answer_is_in_neither_the_log_nor_the_jobs_error(settings, users, agencies, caplog):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    income_form = FORMS["income.schema.json"]
    forms = {
        **FORMS,
        "income.schema.json": {**income_form, "properties": {**income_form["properties"], "income_source": SOURCES}},
    }
    deploy_definition(actor=None, bpmn_xml=connector_model(), forms=forms, check_permission=False)
    registry = Registry([(200, {"income": 1, "income_source": {THIRD_PERSON: "uføretrygd"}})])
    secret = "s" * 32
    ServiceConnector.objects.create(name="income-register", url=registry.url, secret=secret, agency=agencies["nav"])
    case = services.start_case(
        actor=users["nils"], process_key="income_check", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=ask.pk, data={"applicant_id": "A-1"})

    with caplog.at_level(logging.INFO):
        Worker(name="w").run(once=True)

    job = Job.objects.get(case=case, kind=JobKind.SERVICE)
    assert registry.calls and job.attempts == 1 and "income_source" in job.last_error  # the field is named
    assert THIRD_PERSON not in job.last_error and THIRD_PERSON not in str(job.last_error_message)
    assert f"job {job.pk} (service) attempt 1 failed" in caplog.text
    assert THIRD_PERSON not in caplog.text
