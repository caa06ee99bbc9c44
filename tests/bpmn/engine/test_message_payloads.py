"""What each field of a thrown message's payload is computed from (no database)."""

from bpmn.engine.message_payloads import PayloadReads, payload_reads
from tests.workflows.message_models import notice_model

LITERAL = '{"applicant_id": applicant_id, "ready": True}'


def _with_payload(expression: str) -> str:
    return notice_model().replace(LITERAL, expression)


def test_a_dict_literal_gives_each_field_what_its_value_reads():
    reads = payload_reads(_with_payload('{"applicant_id": applicant_id, "note": "Dx: " + diagnosis, "ready": True}'))
    housing_ready = reads["housing_ready"]
    assert housing_ready.of("applicant_id") == {"applicant_id"}
    assert housing_ready.of("note") == {"diagnosis"}  # whatever the field is called
    assert housing_ready.of("ready") == frozenset()  # a literal carries no case data
    assert housing_ready.of("diagnosis") is None  # no throw gives it: nothing is known of it


def test_any_other_expression_carries_all_it_reads_into_every_field():
    spread = payload_reads(_with_payload('{"applicant_id": applicant_id, **extra}'))["housing_ready"]
    assert spread.of("applicant_id") == {"applicant_id", "extra"}
    assert spread.of("anything") == {"extra"}
    whole = payload_reads(_with_payload("dict(applicant_id=applicant_id, note=len(diagnosis))"))["housing_ready"]
    assert whole.of("note") == whole.of("applicant_id") == {"applicant_id", "diagnosis"}


def test_a_model_without_payloads_reads_nothing():
    assert payload_reads(notice_model().replace(LITERAL, "")) == {"housing_ready": PayloadReads()}


def test_a_field_written_after_every_computed_key_reads_only_its_own_value():
    """A dict literal's later key wins: a computed key before the applicant's id cannot write
    over it, one after it can (``("applicant_id" if needs_treatment else "x"): ""``), so only
    the first is the applicant's id whatever the rest reads (h-attack38)."""
    before = payload_reads(_with_payload('{diagnosis: True, "applicant_id": applicant_id}'))["housing_ready"]
    assert before.of("applicant_id") == {"applicant_id"}
    assert before.of("other") == {"diagnosis"}
    after = payload_reads(_with_payload('{"applicant_id": applicant_id, diagnosis: True}'))["housing_ready"]
    assert after.of("applicant_id") == {"applicant_id", "diagnosis"}


def test_a_field_another_throw_may_compute_is_not_taken_as_its_own_value():
    xml = notice_model_ending_too('{diagnosis: True, "applicant_id": applicant_id}', "dict(applicant_id=diagnosis)")
    assert payload_reads(xml)["housing_ready"].of("applicant_id") == {"applicant_id", "diagnosis"}


def notice_model_ending_too(first: str, second: str) -> str:
    """``notice`` with a second throw of the same message (its end event) of payload ``second``."""
    xml = _with_payload(first)
    return xml.replace(
        '<bpmn:endEvent id="End_1"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>',
        '<bpmn:endEvent id="End_1"><bpmn:incoming>F3</bpmn:incoming>'
        '<bpmn:messageEventDefinition id="Def_end" messageRef="Message_ready"><bpmn:extensionElements>'
        f"<spiffworkflow:messagePayload>{second}</spiffworkflow:messagePayload>"
        "</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:endEvent>",
    )


def test_a_catch_whose_correlation_reads_data_is_found_with_what_it_reads():
    """Which catch's catching is decided by data, and by which (h-attack38): the receive task
    correlates on the applicant's id; a retrieval written as ``formalExpression`` (bpmn-js's
    way) counts as ``messagePath`` does."""
    from bpmn.engine.element_needs import script_sources
    from bpmn.engine.message_payloads import catch_correlation_reads, correlation_reads
    from bpmn.engine.xml import parse_bpmn_xml
    from tests.workflows.message_models import move_in_model

    root = parse_bpmn_xml(move_in_model())
    sources = script_sources(root)
    assert catch_correlation_reads(root, payload_reads(root, sources), sources) == {"Receive_ready": {"applicant_id"}}
    formal = notice_model().replace(
        "<bpmn:messagePath>applicant_id</bpmn:messagePath>",
        '<bpmn:formalExpression>applicant_id if needs_treatment else ""</bpmn:formalExpression>',
    )
    reads = correlation_reads(formal, payload_reads(formal), {})
    assert reads == {"applicant": {"applicant_id", "needs_treatment"}}
