"""A correction replaces the correlation values computed from the corrected field, not every
correlation value equal to the old one. The caseworker typed the partner's national id as
the applicant's: the case's messages correlate on both (the applicant's and the partner's
property of one key), each holding the partner's id. The correction of the applicant's id
replaced both, so the partner's property named the applicant, and a message for the partner
went to the wrong case or none. Now only the applicant's property takes the new value."""

import json

import pytest

from bpmn.engine.message_payloads import correlation_reads, payload_reads
from bpmn.services import deploy_definition
from retention.services import correct_value
from tests.workflows.helpers import open_tasks
from tests.workflows.message_models import FORMS, notice_model
from workflows import services
from workflows.models import OutboxMessage, ProcessInstance

from .helpers import PERSON

pytestmark = pytest.mark.postgres
PARTNER, APPLICANT = "A-1717", "A-1818"


def two_property_notice() -> str:
    """``notice`` correlating on the applicant's id and the partner's, both in one key."""
    xml = notice_model()
    xml = xml.replace(
        "<bpmn:correlationPropertyRef>applicant</bpmn:correlationPropertyRef>",
        "<bpmn:correlationPropertyRef>applicant</bpmn:correlationPropertyRef>"
        "<bpmn:correlationPropertyRef>partner</bpmn:correlationPropertyRef>",
    )
    xml = xml.replace(
        '<bpmn:correlationProperty id="applicant" name="applicant">',
        '<bpmn:correlationProperty id="partner" name="partner">'
        '<bpmn:correlationPropertyRetrievalExpression messageRef="Message_ready">'
        "<bpmn:messagePath>partner_id</bpmn:messagePath></bpmn:correlationPropertyRetrievalExpression>"
        "</bpmn:correlationProperty>"
        '<bpmn:correlationProperty id="applicant" name="applicant">',
    )
    return xml.replace(
        '{"applicant_id": applicant_id, "ready": True}',
        '{"applicant_id": applicant_id, "partner_id": partner_id, "ready": True}',
    )


TWO_FORMS = {
    **FORMS,
    "applicant.schema.json": {
        **FORMS["applicant.schema.json"],
        "properties": {
            **FORMS["applicant.schema.json"]["properties"],
            "partner_id": {"type": "string", "title": "Partner", "x-category": "coordination"},
        },
    },
}


def workflow_correlations(state: str) -> dict:
    return json.loads(state)["correlations"]


def test_each_correlation_property_reads_its_own_field():
    xml = two_property_notice()
    reads = correlation_reads(xml, payload_reads(xml), {})
    assert reads == {"applicant": frozenset({"applicant_id"}), "partner": frozenset({"partner_id"})}


def test_a_correction_leaves_an_equal_value_of_another_correlation_property_alone(users, agencies):
    deploy_definition(actor=None, bpmn_xml=two_property_notice(), forms=TWO_FORMS, check_permission=False)
    case = services.start_case(
        actor=users["nils"], process_key="notice", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (task,) = open_tasks(case)
    # The partner's id typed as the applicant's too.
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"applicant_id": PARTNER, "partner_id": PARTNER})
    thrown = {"applicant_key": {"applicant": PARTNER, "partner": PARTNER}}
    assert OutboxMessage.objects.get(case=case).correlations == thrown
    assert workflow_correlations(ProcessInstance.objects.get(case=case).state) == thrown

    correct_value(actor=users["nils"], case_id=case.pk, field="applicant_id", value=APPLICANT, reason="Feil søker")

    corrected = {"applicant_key": {"applicant": APPLICANT, "partner": PARTNER}}
    message = OutboxMessage.objects.get(case=case)
    assert message.correlations == corrected
    assert message.payload["applicant_id"] == APPLICANT and message.payload["partner_id"] == PARTNER
    assert workflow_correlations(ProcessInstance.objects.get(case=case).state) == corrected
