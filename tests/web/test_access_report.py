"""The person's access report in the web UI: the coordinator prints it for the person."""

import pytest

from tests.ids import tid

from .conftest import INTAKE_NO_HOME, open_task

pytestmark = pytest.mark.django_db


def test_the_coordinator_opens_the_report_from_the_case_page(web, prison_case):
    intake = open_task(prison_case, "Task_intake_interview")
    assert web("kari").post(f"/tasks/{tid(intake.pk)}/", INTAKE_NO_HOME).status_code == 302
    assert web("nils").get(f"/cases/{prison_case.pk}/").status_code == 200  # NAV reads: logged
    bjorn = web("bjorn")

    case_page = bjorn.get(f"/cases/{prison_case.pk}/").content.decode()
    assert f'href="/cases/{prison_case.pk}/person-access-report/" id="person-access-report"' in case_page
    page = bjorn.get(f"/cases/{prison_case.pk}/person-access-report/").content.decode()

    assert "Hvem som har sett opplysningene om Ola Nordmann" in page
    assert "179120*****" in page and "17912099997" not in page
    assert "Nils NAV-veileder (medarbeider)" in page and "nils (member)" not in page
    assert "NAV Sarpsborg" in page and prison_case.reference in page
    # Its scope, the same whether the person has other cases or not (not told: a count would
    # tell a starter of any case that the person is a client elsewhere).
    assert "Rapporten gjelder sakene over." in page


def test_the_link_is_only_on_the_page_of_those_who_may_give_it(web, prison_case):
    assert 'id="person-access-report"' not in web("nils").get(f"/cases/{prison_case.pk}/").content.decode()


def test_the_access_log_says_who_and_why_in_words_not_codes(web, prison_case):
    intake = open_task(prison_case, "Task_intake_interview")
    assert web("kari").post(f"/tasks/{tid(intake.pk)}/", INTAKE_NO_HOME).status_code == 302
    web("nils").get(f"/cases/{prison_case.pk}/")  # NAV reads the release date its form shares
    log = web("bjorn").get(f"/cases/{prison_case.pk}/sections/access-log/", HTTP_HX_REQUEST="true").content.decode()
    assert "Nils NAV-veileder (medarbeider)" in log and "delt med alle i saken" in log
    for code in ("own-service", "shared-field", "consent:", "(member)", "(coordinator)", ">coordination<"):
        assert code not in log


def test_reading_the_report_is_in_the_access_log_of_each_case_it_covers(web, users, prison_case):
    """The report lists the person's cases and who read what of theirs: a read of the person
    as the person page is, logged the same way (one row per case), whoever reads it and
    through whichever door (the page, the API)."""
    from permissions.models import AccessLog
    from tests.clients import api

    assert web("bjorn").get(f"/cases/{prison_case.pk}/person-access-report/").status_code == 200
    assert api(users["aud"]).get(f"/api/v1/cases/{prison_case.pk}/person-access-report/").status_code == 200

    rows = AccessLog.objects.filter(case=prison_case, item="access-report").order_by("id")
    assert [(r.username, r.role, r.agency_id, r.category, r.action, r.basis) for r in rows] == [
        ("bjorn", "coordinator", prison_case.coordinator_agency_id, "coordination", "read", "access-request"),
        ("aud", "auditor", prison_case.coordinator_agency_id, "coordination", "read", "access-request"),
    ]
    assert {r.person_id for r in rows} == {prison_case.person_id}
    # Its own line in the report, in words.
    page = web("bjorn").get(f"/cases/{prison_case.pk}/person-access-report/").content.decode()
    assert "personens krav på innsyn" in page
