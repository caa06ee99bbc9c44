"""The person's access report: who saw their data, when and why, across their cases."""

import re

import pytest

from permissions.models import AccessLog
from tests.clients import web
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
    assert set(report) == {"next", "previous", "person", "generated_at", "cases", "entries"}  # nothing of others
    entries = report["entries"]
    assert entries and {e["case"]["id"] for e in entries} == {prison.pk}
    assert any(e["username"] == "nils" and e["agency"]["kind"] == "nav" and e["basis"] for e in entries)
    assert [e["day"] for e in entries] == sorted((e["day"] for e in entries), reverse=True)
    assert all(e["reads"] >= 1 and e["first_at"] <= e["last_at"] for e in entries)
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


def test_a_person_with_one_case_gets_the_report_of_it(client_for, discharge_case):
    report = client_for("bjorn").get(f"/api/v1/cases/{discharge_case.pk}/person-access-report/").json()
    assert [c["id"] for c in report["cases"]] == [discharge_case.pk]


def test_the_report_does_not_tell_whether_the_person_has_other_cases(
    client_for, users, two_cases_of_one_person, discharge_case
):
    """Before, the report counted the person's other cases ("1 other case"), so anyone who
    started a case with a national id and coordinated it learned from its report whether
    the person was already a client of another service (here the hospital). Now the report
    of a person with another case and that of a person with none read alike."""
    prison, _hospital = two_cases_of_one_person
    with_another = client_for("bjorn").get(f"/api/v1/cases/{prison.pk}/person-access-report/").json()
    alone = client_for("bjorn").get(f"/api/v1/cases/{discharge_case.pk}/person-access-report/").json()
    assert set(with_another) == set(alone) == {"next", "previous", "person", "generated_at", "cases", "entries"}
    assert len(with_another["cases"]) == len(alone["cases"]) == 1
    notices = []
    for case in (prison, discharge_case):
        page = web(users["bjorn"]).get(f"/cases/{case.pk}/person-access-report/")
        assert page.status_code == 200
        html = page.content.decode()
        assert "annen sak" not in html and "andre saker" not in html
        notices.append(re.search(r'<p class="notice" id="report-scope">(.*?)</p>', html, re.S).group(1))
    assert notices[0] == notices[1] and "fører hver av dem sin egen tilgangslogg" in notices[0]
