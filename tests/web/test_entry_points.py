"""Issue 13, points 7 and 8: every role has a way in; the access log is paged and folded."""

import pytest

from permissions.models import AccessLog
from tests.workflows.helpers import start_prison_case

pytestmark = pytest.mark.django_db


def test_the_auditor_finds_the_logs_she_audits_and_comes_back_to_them(web, prison_case):
    aud = web("aud")
    inbox = aud.get("/tasks/").content.decode()
    assert 'id="auditor-start"' in inbox and 'id="no-agency"' not in inbox and 'href="/audit/"' in inbox
    listing = aud.get("/audit/").content.decode()
    report_url = f"/cases/{prison_case.pk}/person-access-report/"
    assert f'href="{report_url}"' in listing and "Ola Nordmann" in listing
    report = aud.get(report_url).content.decode()
    assert 'href="/audit/"' in report and f'href="/cases/{prison_case.pk}/"' not in report  # no 404 link
    assert aud.get(f"/cases/{prison_case.pk}/").status_code == 404  # still no case data


def test_no_one_else_gets_a_list_of_audited_cases(web, prison_case):
    for username in ("kari", "bjorn", "ada", "oscar"):
        page = web(username).get("/audit/").content.decode()
        assert prison_case.reference not in page and "Ola Nordmann" not in page


def test_the_process_admin_is_sent_to_the_processes(web, db, users):
    inbox = web("ada").get("/tasks/").content.decode()
    assert 'id="process-admin-start"' in inbox and 'id="no-agency"' not in inbox


def test_start_a_case_is_offered_only_to_those_who_can(web, db, users, shipped):
    assert 'href="/cases/new/"' in web("kari").get("/tasks/").content.decode()
    for username in ("aud", "ada", "oscar"):
        assert 'href="/cases/new/"' not in web(username).get("/tasks/").content.decode()


def test_the_start_form_opens_with_the_process_the_agency_starts(web, db, users, shipped):
    prison = web("kari").get("/cases/new/").content.decode()
    hospital = web("siri").get("/cases/new/").content.decode()
    assert 'value="prison_release_to_housing" selected' in prison.replace("  ", " ")
    assert 'value="institution_discharge_to_housing" selected' in hospital.replace("  ", " ")


def test_the_access_log_on_the_case_page_is_folded_and_paged(web, users, agencies, prison_case):
    bjorn = users["bjorn"]
    AccessLog.objects.bulk_create(
        AccessLog(
            user=bjorn,
            username="bjorn",
            role="coordinator",
            case=prison_case,
            person=prison_case.person,
            category="economy",
            action="read",
            basis="coordinator",
        )
        for _ in range(45)
    )
    client = web("bjorn")
    page = client.get(f"/cases/{prison_case.pk}/").content.decode()
    log = page[page.index('id="access-log"') :]
    url = f"/cases/{prison_case.pk}/sections/access-log/"
    assert "<details>" in log and f'href="{url}"' in log and '<td data-label="Når">' not in log  # read when opened
    first = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert first.count('<td data-label="Når">') == 20 and f'href="{url}?log_page=2"' in first
    assert "<html" not in first  # htmx puts the section in the fold
    last = client.get(url, {"log_page": "3"}).content.decode()  # without JavaScript: a page
    assert "<html" in last and last.count('<td data-label="Når">') >= 5
    start_prison_case(users, agencies)  # another case's log never shows here
