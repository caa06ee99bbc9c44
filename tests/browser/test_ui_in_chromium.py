"""The issue's browser scenarios, in headless Chromium against the live server (PostgreSQL)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.ids import tid
from tests.workflows.helpers import complete, open_tasks, start_prison_case
from workflows.models import Case, Task

from .conftest import overflow_px

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEALTH_PLAN = "LAR, oppfølging hver uke"


def _task(case, element_id):
    return Task.objects.get(case=case, element_id=element_id, status__in=("open", "claimed"))


def _case_with_parallel_work(users, agencies, *, health_done=True, **kwargs):
    """Started by kari, intake done without a home: NAV, health and housing work in parallel."""
    case = start_prison_case(users, agencies, **kwargs)
    complete(
        open_tasks(case)[0],
        {"has_home": False, "housing_situation": "uten_bolig", "consent_nav": True, "consent_municipality": True},
    )
    if health_done:
        complete(_task(case, "Task_health_follow_up_plan"), {"treatment_plan": HEALTH_PLAN})
    return case


def _field_error(page, name):
    return page.locator(f"#field-{name}-error")


def test_a_kari_starts_a_case_and_bjorn_completes_the_housing_task(as_user, live_server, shipped, screenshot):
    kari = as_user("kari")
    kari.get_by_role("link", name="Ny sak").click()
    kari.get_by_label("Prosess").select_option("prison_release_to_housing")
    kari.locator("#participant_prison").wait_for()  # htmx swapped in the agencies this process needs
    assert kari.locator("#participant_hospital").count() == 0
    kari.get_by_label("Navn").fill("Ola Nordmann")
    kari.get_by_label("Fødselsnummer").fill("17912099997")
    kari.get_by_role("button", name="Opprett saken").click()
    kari.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()
    assert case.reference in kari.locator("h1").inner_text()

    # The intake interview lands at the prison: first with a required field left out.
    kari.get_by_role("link", name="Innboks").click()
    kari.get_by_role("link", name=re.compile("Innkomstsamtale")).click()
    kari.get_by_label("Bosituasjon ved innsettelse").select_option("uten_bolig")
    kari.locator("#field-has_home-no").check()
    kari.locator("#field-consent_municipality-yes").check()
    kari.locator("#field-consent_nav-yes").check()
    kari.get_by_role("button", name="Fullfør oppgaven").click()
    assert "må fylles ut" in _field_error(kari, "expected_release_date").inner_text()
    assert kari.locator("#field-has_home-no").is_checked()  # the answers are kept
    kari.get_by_label("Forventet løslatelsesdato").fill("2027-03-01")
    kari.get_by_role("button", name="Fullfør oppgaven").click()
    kari.wait_for_url(f"{live_server.url}/tasks/")
    assert "Boligkontaktene Sarpsborg" in kari.locator("#messages").inner_text()

    # The housing application is in bjorn's agency inbox, handed over by the prison.
    bjorn = as_user("bjorn")
    row = bjorn.locator("tr", has_text="Søknad om bolig")
    assert case.reference in row.inner_text() and "Halden fengsel" in row.inner_text()
    row.get_by_role("link", name="Søknad om bolig").click()
    bjorn.get_by_role("button", name="Ta oppgaven").click()  # htmx: the panel updates in place
    bjorn.get_by_role("button", name="Legg tilbake til etaten").wait_for()
    assert "tatt av Bjørn Boligkontakt" in bjorn.locator("#task-status").inner_text()
    bjorn.get_by_label("Type søknad").select_option("kommunal_utleiebolig")
    bjorn.get_by_role("button", name="Fullfør oppgaven").click()
    assert "må fylles ut" in _field_error(bjorn, "housing_application_date").inner_text()
    assert bjorn.locator("#field-housing_application_date").get_attribute("aria-invalid") == "true"
    bjorn.get_by_label("Søknaden er sendt").fill("2026-12-01")
    bjorn.get_by_role("button", name="Fullfør oppgaven").click()
    bjorn.wait_for_url(f"{live_server.url}/tasks/")
    assert "er fullført" in bjorn.locator("#messages").inner_text()
    housing = Task.objects.get(case=case, element_id="Task_housing_application")
    assert housing.status == "completed" and housing.completed_by.username == "bjorn"


def test_b_nils_sees_health_masked_until_bjorn_records_consent(
    as_user, live_server, users, agencies, shipped, screenshot
):
    case = _case_with_parallel_work(users, agencies)
    nav_task = _task(case, "Task_economy_assessment")
    nils = as_user("nils")
    nils.goto(f"{live_server.url}/tasks/{tid(nav_task.pk)}/")
    health = nils.locator("#category-health")
    assert "skjult" in health.inner_text()
    assert "ikke samtykket til å dele opplysninger om helse med NAV Sarpsborg" in health.inner_text()
    assert HEALTH_PLAN not in nils.content()
    screenshot(nils, "task")

    bjorn = as_user("bjorn")
    bjorn.goto(f"{live_server.url}/cases/{case.pk}/")
    bjorn.get_by_text("Registrer personens samtykke").click()
    bjorn.get_by_label("Del med").select_option(label="NAV Sarpsborg")
    bjorn.locator("#consent-category-health").check()
    bjorn.get_by_label("Formål").fill("Oppfølging etter løslatelse")
    bjorn.get_by_role("button", name="Registrer samtykke").click()
    assert "gjelder straks" in bjorn.locator("#messages").inner_text()
    assert "NAV Sarpsborg" in bjorn.locator("#consents").inner_text()

    nils.reload()
    assert HEALTH_PLAN in nils.locator("#category-health").inner_text()
    assert "skjult" not in nils.locator("#category-health").inner_text()


def test_c_case_page_draws_the_handoffs_and_marks_the_diagram(
    as_user, live_server, users, agencies, shipped, screenshot
):
    case = _case_with_parallel_work(users, agencies)
    for name, national_id in (("Kari Nordmann", "29822099635"), ("Per Hansen", "05840399895")):
        _case_with_parallel_work(users, agencies, person={"name": name, "national_id": national_id})
    late = Task.objects.filter(element_id="Task_housing_application").order_by("id").last()
    Task.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=3))
    bjorn = as_user("bjorn")
    assert bjorn.locator("tbody tr").count() == 3 and bjorn.locator("tr.overdue").count() == 1
    screenshot(bjorn, "inbox")
    bjorn.goto(f"{live_server.url}/cases/{case.pk}/")

    ball = bjorn.locator("#ball").inner_text()
    assert "NAV Sarpsborg" in ball and "Boligkontaktene Sarpsborg" in ball and "Halden fengsel" not in ball
    timeline = bjorn.locator("svg#swimlanes")
    assert timeline.locator("g.lane").count() == 4
    assert timeline.locator("line.handoff").count() == 3  # prison -> NAV, health, housing
    assert timeline.locator("g.task-bar.done").count() == 2
    assert timeline.locator("g.task-bar.active").count() == 2

    # bpmn-js drew the model and put the server's markers on its SVG elements.
    active = bjorn.locator('.djs-element.bb-active[data-element-id="Task_economy_assessment"]')
    active.wait_for()
    assert bjorn.locator('.djs-element.bb-active[data-element-id="Task_housing_application"]').count() == 1
    assert bjorn.locator('.djs-element.bb-done[data-element-id="Task_intake_interview"]').count() == 1
    assert bjorn.locator('.djs-element.bb-active[data-element-id="Task_intake_interview"]').count() == 0
    bjorn.locator("#access-log summary").click()  # bjorn coordinates: he reads the log, read when opened
    bjorn.locator("#access-log tbody tr").first.wait_for()
    bjorn.locator("#diagram").focus()
    screenshot(bjorn, "case")

    # The task page highlights its own task.
    bjorn.goto(f"{live_server.url}/tasks/{tid(_task(case, 'Task_housing_application').pk)}/")
    bjorn.locator('.djs-element.bb-current[data-element-id="Task_housing_application"]').wait_for()

    phone = as_user("bjorn", width=390, height=844)
    phone.goto(f"{live_server.url}/cases/{case.pk}/")
    phone.locator(".djs-element.bb-active").first.wait_for()
    assert overflow_px(phone) == 0  # no sideways scrolling
    screenshot(phone, "case-phone")


def test_d_oscar_is_refused_everywhere(as_user, live_server, users, agencies, shipped):
    case = _case_with_parallel_work(users, agencies, health_done=False)
    oscar = as_user("oscar")
    assert oscar.locator("#no-agency").is_visible()
    assert oscar.locator("table").count() == 0
    assert case.reference not in oscar.content()
    oscar.get_by_role("link", name="Saker").click()
    assert case.reference not in oscar.content()
    refused = {
        f"/cases/{case.pk}/": 404,
        f"/tasks/{tid(_task(case, 'Task_economy_assessment').pk)}/": 404,
        "/cases/new/": 403,
    }
    for path, status in refused.items():
        response = oscar.goto(f"{live_server.url}{path}")
        assert response.status == status, path
        assert case.reference not in oscar.content()
        assert "Ola Nordmann" not in oscar.content()
