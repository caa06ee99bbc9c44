"""A value corrected away before an incident was raised, which an agency's system remembered and
quoted in its failure, reached the process admin in the incident list. The timeline's incident
events were scrubbed when shown of every value the case holds or ever held since h-scrub3
(``selectors.case_literals_ever``), but ``GET /api/v1/incidents/``, the retry's answer, the
admin's incident page and its job page scrubbed the stored text of the case's current values
only: the correction had replaced the value in the case and its saved state, so the scrub
where the failure was written did not know it either. Now every place an incident's or a job's
error is shown scrubs of the values the case held before too, read once per case for a whole
page (two statements a page, whatever its incidents and cases)."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bpmn.services import deploy_definition
from retention import services as retention_services
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.service_models import FORMS, external_model
from workflows import services
from workflows.models import Incident, Job

pytestmark = pytest.mark.django_db

OLD_ID, NEW_ID = "A-447133", "A-990245"  # the applicant id, corrected before the failure
OLD_NAME, NEW_NAME = PERSON["name"], "Ola Nordby"  # "Nordmann" was a mistake
SAID = f"the register answered: applicant {OLD_ID} unknown; holder NORDMANN, OLA"
HELD_BEFORE = (OLD_ID, "447133", "NORDMANN", "Nordmann")
FETCH = "/api/v1/external-tasks/fetch-and-lock/"


def _register_check_case(users, agencies, applicant_id: str):
    """NAV's register check, housing coordinating (``waiting_on_nav_system``)."""
    case = services.start_case(
        actor=users["nils"],
        process_key="register_check",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("nav", "housing")},
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=ask.pk, data={"applicant_id": applicant_id})
    return case


def _corrected(users, case) -> None:
    """The applicant id and the person's name corrected: the old values are in the
    corrections only (the case's data and its saved state hold the new ones)."""
    for name, field, value in (("nils", "applicant_id", NEW_ID), ("bjorn", "person.name", NEW_NAME)):
        retention_services.correct_value(
            actor=users[name], case_id=case.pk, field=field, value=value, reason="Feil i registreringen"
        )


def _failed_by_nav_system(client_for, said: str) -> Incident:
    """NAV's system fails the case's external task (no retries left), quoting what it knew."""
    nils = client_for("nils")
    answer = nils.post(
        FETCH,
        {"workerId": "w1", "maxTasks": 1, "topics": [{"topicName": "housing-register", "lockDuration": 60000}]},
        format="json",
    )
    (task,) = answer.json()
    body = {"workerId": "w1", "errorMessage": said, "retries": 0}
    assert nils.post(f"/api/v1/external-tasks/{task['id']}/failure/", body, format="json").status_code == 204
    return Incident.objects.get(job__delivery_key=task["id"])


@pytest.fixture
def remembered(users, agencies, client_for) -> Incident:
    """The incident of a case whose applicant id and name were corrected before NAV's system
    failed its task, quoting the values it had been given earlier."""
    deploy_definition(actor=None, bpmn_xml=external_model(), forms=FORMS, check_permission=False)
    case = _register_check_case(users, agencies, OLD_ID)
    _corrected(users, case)
    incident = _failed_by_nav_system(client_for, SAID)
    # Stored as a row written before h-scrub5 kept it (scrubbed of the current values only):
    # what is shown must be scrubbed of the values held before, whatever the row holds.
    Incident.objects.filter(pk=incident.pk).update(error=SAID, error_message=None)
    Job.objects.filter(pk=incident.job_id).update(last_error=SAID, last_error_message=None)
    incident.refresh_from_db()
    return incident


def _assert_none_held_before(text: str) -> None:
    for value in HELD_BEFORE:
        assert value not in text, (value, text)


def test_the_incident_list_shows_no_value_corrected_away_before_the_failure(client_for, remembered):
    assert OLD_ID in remembered.error  # stored so: the scrub where it was written knew the new value only
    answer = client_for("ada").get(reverse("api-incidents"), HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    (row,) = answer.json()["results"]
    assert "unknown" in row["error"] and "the register answered" in row["job"]["last_error"]  # its words stay
    _assert_none_held_before(row["error"])
    _assert_none_held_before(row["job"]["last_error"])


def test_the_retry_answer_shows_no_value_corrected_away(client_for, remembered):
    answer = client_for("ada").post(reverse("api-incident-retry", args=[remembered.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200, answer.content
    assert "unknown" in answer.json()["error"]
    _assert_none_held_before(str(answer.json()))


def _operator(users) -> Client:
    """ada, the process admin who works no cases, with Django's view permissions (the admin
    shows her the incidents the API lists)."""
    ada = users["ada"]
    ada.is_staff = True
    ada.save(update_fields=["is_staff"])
    ada.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="workflows", codename__in=["view_incident", "view_job"])
    )
    client = Client()
    client.force_login(ada)
    return client


@pytest.mark.parametrize("model", ["incident", "job"])
def test_the_admin_shows_no_value_corrected_away_on_the_incident_or_job_pages(
    users, remembered, django_user_model, model
):
    superuser = Client()
    superuser.force_login(django_user_model.objects.create_superuser("root-admin", "root@example.org", "pw-1234567"))
    row = remembered if model == "incident" else Job.objects.get(pk=remembered.job_id)
    assert OLD_ID in (row.error if model == "incident" else row.last_error)  # as stored
    listed, shown = (
        reverse(f"admin:workflows_{model}_changelist"),
        reverse(f"admin:workflows_{model}_change", args=[row.pk]),
    )
    for client in (_operator(users), superuser):
        for url in (listed, shown):
            page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
            assert page.status_code == 200, url
            _assert_none_held_before(page.content.decode())
        assert "unknown" in client.get(shown, HTTP_ACCEPT_LANGUAGE="en").content.decode()  # the system's words stay


def test_the_incident_list_reads_the_same_statements_for_one_incident_or_many_cases(users, agencies, client_for):
    """Each case's values held before are read once for the page: the statements of one
    incident and of six incidents over three cases (each corrected) are the same."""
    deploy_definition(actor=None, bpmn_xml=external_model(), forms=FORMS, check_permission=False)
    ada = client_for("ada")

    def statements() -> tuple[int, list[dict]]:
        with CaptureQueriesContext(connection) as queries:
            answer = ada.get(reverse("api-incidents"), HTTP_ACCEPT_LANGUAGE="en")
        assert answer.status_code == 200
        return len(queries), answer.json()["results"]

    case = _register_check_case(users, agencies, OLD_ID)
    _corrected(users, case)
    _failed_by_nav_system(client_for, SAID)
    one, rows = statements()
    assert len(rows) == 1
    for number in range(2):
        other = _register_check_case(users, agencies, f"B-55{number}812")
        _corrected(users, other)
        _failed_by_nav_system(client_for, f"applicant B-55{number}812 unknown; holder NORDMANN")
    second = Incident.objects.filter(case=case).get()
    for _ in range(3):  # more incidents of the first case (as its job's failures again)
        Incident.objects.create(
            instance=second.instance, case=case, kind=second.kind, element_id=second.element_id, error=second.error
        )
    many, rows = statements()
    assert len(rows) == 6 and len({row["case"]["id"] for row in rows}) == 3
    assert many == one
    for row in rows:
        _assert_none_held_before(str(row))
        assert "B-550812" not in str(row) and "B-551812" not in str(row)
