"""The person's access report: who saw their data, when and why, across their cases."""

import pytest

from permissions.models import AccessLog
from tests.workflows.helpers import complete, open_tasks

from .conftest import PERSON, PRISON_KINDS, SMALL_KINDS, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_cases_of_one_person(users, agencies, shipped, small_definition, client_for):
    """Ola's prison case (housing coordinates) and a prison-hospital case of his that no
    housing agency takes part in; NAV and the hospital have read data in each."""
    prison = start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    (intake,) = open_tasks(prison)
    complete(intake, {"has_home": False}, actor=users["kari"])
    assert client_for("nils").get(f"/api/v1/cases/{prison.pk}/").status_code == 200  # NAV reads: logged
    hospital = start(users["kari"], small_definition.key, PERSON, agencies, SMALL_KINDS)
    (prison_step,) = open_tasks(hospital)
    complete(prison_step, {"ready": True}, actor=users["kari"])
    assert client_for("siri").get(f"/api/v1/cases/{hospital.pk}/").status_code == 200  # the hospital reads
    return prison, hospital


def test_the_coordinator_gets_the_report_of_the_cases_she_may_give(client_for, two_cases_of_one_person):
    prison, hospital = two_cases_of_one_person

    answer = client_for("bjorn").get(f"/api/v1/cases/{prison.pk}/person-access-report/")

    assert answer.status_code == 200, answer.json()
    report = answer.json()
    assert report["person"] == {"name": "Ola Nordmann", "names": ["Ola Nordmann"], "national_id": "179120*****"}
    assert [c["reference"] for c in report["cases"]] == [prison.reference]
    assert report["withheld_cases"] == 1 and report["complete"] is False
    entries = report["entries"]
    assert entries and {e["case"]["id"] for e in entries} == {prison.pk}
    assert any(e["username"] == "nils" and e["agency"]["kind"] == "nav" and e["basis"] for e in entries)
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    # The hospital case's reads exist, and are not in this report.
    assert AccessLog.objects.filter(case=hospital, username="siri").exists()
    assert "siri" not in {e["username"] for e in entries}


def test_an_auditor_of_a_participating_agency_gets_it_too(client_for, two_cases_of_one_person):
    prison, _ = two_cases_of_one_person
    assert client_for("aud").get(f"/api/v1/cases/{prison.pk}/person-access-report/").status_code == 200


@pytest.mark.parametrize(("username", "status"), [("nils", 403), ("kari", 403), ("oscar", 404), ("ada", 404)])
def test_others_are_refused_as_for_the_access_log(client_for, two_cases_of_one_person, username, status):
    prison, _ = two_cases_of_one_person
    answer = client_for(username).get(f"/api/v1/cases/{prison.pk}/person-access-report/")
    assert answer.status_code == status
    assert client_for(username).get(f"/api/v1/cases/{prison.pk}/access-log/").status_code == status


def test_an_unknown_case_is_404(client_for, shipped):
    assert client_for("bjorn").get("/api/v1/cases/999999/person-access-report/").status_code == 404


def test_a_person_with_one_case_gets_a_complete_report(client_for, discharge_case):
    report = client_for("bjorn").get(f"/api/v1/cases/{discharge_case.pk}/person-access-report/").json()
    assert report["complete"] is True and report["withheld_cases"] == 0
    assert [c["id"] for c in report["cases"]] == [discharge_case.pk]
