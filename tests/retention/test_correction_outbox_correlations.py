"""A correction reaches the messages the case threw: their correlation values too, not only
their payloads, and the messages already delivered as well as those waiting. Before, a
waiting message kept the old applicant id as its correlation (it went to the case waiting
for the old id, carrying the new one, and never to the one waiting for the new id), and a
delivered one kept the old value in its payload and correlations."""

import pytest

from bpmn.services import deploy_definition
from retention.services import correct_value
from tests.workflows.helpers import open_tasks
from tests.workflows.message_models import FORMS, move_in_model, notice_model
from workflows import services
from workflows.jobs import handlers
from workflows.models import OutboxMessage, OutboxStatus

from .helpers import PERSON

pytestmark = pytest.mark.postgres
OLD, NEW = "A-1717", "A-1818"


def start(users, agencies, key, applicant):
    case = services.start_case(
        actor=users["nils"], process_key=key, person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (task,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"applicant_id": applicant})
    return case


def run_jobs():
    while handlers.run_one("w"):
        pass


@pytest.fixture
def models(db, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 3, "JOB_BACKOFF_BASE_SECONDS": 0}
    for xml in (notice_model(), move_in_model()):
        deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)


def test_a_waiting_message_goes_on_the_corrected_value(models, users, agencies):
    sender = start(users, agencies, "notice", OLD)  # nothing waits for it yet
    correct_value(actor=users["nils"], case_id=sender.pk, field="applicant_id", value=NEW, reason="Feil søker")
    message = OutboxMessage.objects.get(case=sender)
    assert message.payload["applicant_id"] == NEW
    assert OLD not in str(message.correlations)

    waiting_old = start(users, agencies, "move_in", OLD)
    waiting_new = start(users, agencies, "move_in", NEW)
    run_jobs()
    assert OutboxMessage.objects.get(case=sender).status == OutboxStatus.DELIVERED
    assert [task.element_id for task in open_tasks(waiting_new)] == ["Task_move"]
    assert open_tasks(waiting_old) == []


def test_a_delivered_message_keeps_no_old_value(models, users, agencies):
    start(users, agencies, "move_in", OLD)
    sender = start(users, agencies, "notice", OLD)
    run_jobs()
    assert OutboxMessage.objects.get(case=sender).status == OutboxStatus.DELIVERED

    correct_value(actor=users["nils"], case_id=sender.pk, field="applicant_id", value=NEW, reason="Feil søker")

    message = OutboxMessage.objects.get(case=sender)
    assert OLD not in str(message.payload) and OLD not in str(message.correlations)
