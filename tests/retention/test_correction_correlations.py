"""A correction reaches the value a case correlates its messages on: SpiffWorkflow keeps it
apart from the task data (``workflow.correlations``), and the correction replaced only the
data. Before, the corrected case kept the old applicant id in its state, went on catching
the message meant for the old id and never caught the one for the corrected id."""

import pytest

from bpmn.services import deploy_definition
from retention.services import correct_value
from tests.workflows.helpers import open_tasks
from tests.workflows.message_models import FORMS, move_in_model, notice_model
from workflows import services
from workflows.jobs import handlers
from workflows.models import OutboxMessage, OutboxStatus, ProcessInstance

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


def delivered(sender) -> bool:
    while handlers.run_one("w"):
        pass
    return OutboxMessage.objects.get(case=sender).status == OutboxStatus.DELIVERED


def test_a_corrected_value_is_the_one_the_case_correlates_its_messages_on(users, agencies, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 1}
    for xml in (notice_model(), move_in_model()):
        deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)
    waiting = start(users, agencies, "move_in", OLD)
    assert OLD in ProcessInstance.objects.get(case=waiting).state

    correct_value(actor=users["nils"], case_id=waiting.pk, field="applicant_id", value=NEW, reason="Feil søker")

    assert OLD not in ProcessInstance.objects.get(case=waiting).state  # kept only in the correction
    assert not delivered(start(users, agencies, "notice", OLD))  # the message for the old id is not its
    assert [task.element_id for task in open_tasks(waiting)] == []
    assert delivered(start(users, agencies, "notice", NEW))  # the one for the corrected id is
    assert [task.element_id for task in open_tasks(waiting)] == ["Task_move"]


def test_a_corrected_value_caught_in_a_message_is_replaced_in_the_payload_its_task_keeps(users, agencies):
    """A catch without a message variable copies the payload into the task's data and keeps
    it, by the message's name, in the task's internal data: the correction replaced the
    first only, and the old value stayed in the state."""
    receiver = move_in_model().replace("<spiffworkflow:messageVariable>notice</spiffworkflow:messageVariable>", "")
    for xml in (notice_model(), receiver):
        deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)
    waiting = start(users, agencies, "move_in", OLD)
    start(users, agencies, "notice", OLD)
    while handlers.run_one("w"):
        pass
    assert [task.element_id for task in open_tasks(waiting)] == ["Task_move"]  # caught

    correct_value(actor=users["nils"], case_id=waiting.pk, field="applicant_id", value=NEW, reason="Feil søker")

    state = ProcessInstance.objects.get(case=waiting).state
    assert OLD not in state and NEW in state
