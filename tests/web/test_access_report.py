"""The person's access report in the web UI: the coordinator prints it for the person."""

import pytest

from .conftest import INTAKE_NO_HOME, open_task

pytestmark = pytest.mark.django_db


def test_the_coordinator_opens_the_report_from_the_case_page(web, prison_case):
    intake = open_task(prison_case, "Task_intake_interview")
    assert web("kari").post(f"/tasks/{intake.pk}/", INTAKE_NO_HOME).status_code == 302
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
    assert web("kari").post(f"/tasks/{intake.pk}/", INTAKE_NO_HOME).status_code == 302
    web("nils").get(f"/cases/{prison_case.pk}/")  # NAV reads the release date its form shares
    log = web("bjorn").get(f"/cases/{prison_case.pk}/sections/access-log/", HTTP_HX_REQUEST="true").content.decode()
    assert "Nils NAV-veileder (medarbeider)" in log and "delt med alle i saken" in log
    for code in ("own-service", "shared-field", "consent:", "(member)", "(coordinator)", ">coordination<"):
        assert code not in log
