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
