"""Erasure leaves no value of a message's correlation in the workflow state: SpiffWorkflow
keeps the correlation values a workflow threw or caught (``workflow.correlations``: here
the applicant's id, a national id) beside the task data, and the erasure emptied only the
data. Before, both erased cases kept the national id in their state."""

import pytest
from django.utils import timezone

from bpmn.services import deploy_definition
from retention.erasure import erase_case
from retention.models import ErasureTrigger
from tests.workflows.helpers import open_tasks
from tests.workflows.message_models import FORMS, move_in_model, notice_model
from workflows import selectors, services
from workflows.jobs import handlers
from workflows.models import Case, CaseStatus, OutboxMessage, OutboxStatus

from .helpers import NATIONAL_ID, PERSON, TRACES, archived, traces

pytestmark = pytest.mark.postgres


def start(users, agencies, key):
    case = services.start_case(
        actor=users["nils"], process_key=key, person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (task,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"applicant_id": NATIONAL_ID})
    return case


def test_a_message_s_correlation_value_goes_with_the_erasure_of_both_cases(users, agencies):
    for xml in (notice_model(), move_in_model()):
        deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)
    waiting = start(users, agencies, "move_in")
    sender = start(users, agencies, "notice")
    while handlers.run_one("w"):
        pass
    assert OutboxMessage.objects.get(case=sender).status == OutboxStatus.DELIVERED
    assert [task.element_id for task in open_tasks(waiting)] == ["Task_move"]  # caught on its correlation

    for case in (waiting, sender):
        Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
        archived(case)
        assert erase_case(case.pk, trigger=ErasureTrigger.REQUEST, actor=users["nils"], reason="Personen ba om det")

    assert traces(*TRACES) == []
    # the diagram still shows what was done
    diagram = selectors.case_diagram_for(Case.objects.get(pk=waiting.pk), users["nils"])
    assert "Receive_ready" in diagram.completed
