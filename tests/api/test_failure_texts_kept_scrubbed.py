"""A failure text is KEPT scrubbed of every value its case holds and held, and of what the
person's other cases hold (h-scrub5). Before, an external task's failure (and a connector's)
was stored scrubbed of the case's current values only: the incident list scrubbed it again
when shown, but the stored row (``Incident.error``, ``Job.last_error``: exports of the rows,
the fold key, anything that reads them without ``selectors.error_shown``) kept a value
corrected away. And no scrub knew the person's other cases: an agency's system that knew the
person from another case quoted the name, the address or the phone that case holds, and the
process admin read it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bpmn.services import deploy_definition
from retention import services as retention_services
from tests.workflows.service_models import FORMS, external_model
from workflows import selectors
from workflows.models import Case, Incident, Job, JobStatus

from .test_incident_list_scrubs_values_held_before import _failed_by_nav_system, _register_check_case

pytestmark = pytest.mark.django_db

OLD_ID, NEW_ID = "A-447133", "A-990245"
# Held by the person's other case only: its starter's spelling of the name, its applicant id,
# the address and phone its forms asked for, and a value corrected away there.
OTHER_NAME = "Ola Kristiansen Nordmann"
OTHER_VALUES = ("Kristiansen", "A-310877", "Storgata 12 B", "+47 912 34 567", "A-310800")


@pytest.fixture
def register(users, agencies):
    deploy_definition(actor=None, bpmn_xml=external_model(), forms=FORMS, check_permission=False)


def _stored(incident: Incident) -> str:
    job = Job.objects.get(pk=incident.job_id)
    return f"{incident.error} {incident.error_message} {job.last_error} {job.last_error_message}"


def test_an_external_tasks_failure_is_stored_without_a_value_corrected_away(users, agencies, client_for, register):
    case = _register_check_case(users, agencies, OLD_ID)
    retention_services.correct_value(
        actor=users["nils"], case_id=case.pk, field="applicant_id", value=NEW_ID, reason="Feil i registreringen"
    )
    incident = _failed_by_nav_system(client_for, f"applicant {OLD_ID} unknown, not {NEW_ID}")
    stored = _stored(incident)
    assert "unknown" in stored  # the system's words stay
    for value in (OLD_ID, NEW_ID):
        assert value not in stored, (value, stored)


def _other_case(users, agencies) -> Case:
    """The person's earlier case, started with another spelling of the name, its applicant id
    corrected once, and an address and a phone in its data."""
    other = _register_check_case(users, agencies, "A-310800")
    retention_services.correct_value(
        actor=users["nils"], case_id=other.pk, field="applicant_id", value="A-310877", reason="Feil søker"
    )
    data = {**Case.objects.get(pk=other.pk).data, "address": "Storgata 12 B", "phone": "+47 912 34 567"}
    Case.objects.filter(pk=other.pk).update(person_name=OTHER_NAME, data=data)
    # Its external task done long ago: NAV's system fetches this case's task only.
    Job.objects.filter(case_id=other.pk).update(status=JobStatus.DONE)
    return other


def test_what_the_persons_other_case_holds_is_scrubbed_from_this_cases_failure(users, agencies, client_for, register):
    other = _other_case(users, agencies)
    case = _register_check_case(users, agencies, "A-555001")
    assert case.person_id == other.person_id and "Kristiansen" not in case.person_name
    said = (
        "the register answered: applicant A-555001 unknown; known as KRISTIANSEN NORDMANN, OLA (applicant A-310877, "
        "earlier A-310800), Storgata 12 B, tel. +47 912 34 567, fnr. 179120 99997"
    )
    incident = _failed_by_nav_system(client_for, said)
    answer = client_for("ada").get(reverse("api-incidents"), HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    (row,) = [row for row in answer.json()["results"] if row["id"] == incident.pk]
    for text in (_stored(incident), str(row)):
        assert "the register answered" in text and "unknown" in text
        for value in (*OTHER_VALUES, "A-555001", "KRISTIANSEN", "NORDMANN", "99997"):
            assert value not in text, (value, text)


def test_the_persons_other_cases_cost_one_statement_whatever_their_number(users, agencies, register):
    """``case_literals_ever`` reads the person's other cases in one statement: the same for
    one other case as for four."""
    case = _register_check_case(users, agencies, "A-555001")

    def statements() -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            literals = selectors.case_literals_ever(Case.objects.select_related("person").get(pk=case.pk))
        return len(queries), literals

    _other_case(users, agencies)
    one, literals = statements()
    assert "Storgata 12 B" in literals
    for _ in range(3):
        _other_case(users, agencies)
    assert statements()[0] == one
