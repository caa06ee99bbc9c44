"""Henvendelse om bolig walked through in headless Chromium, as each agency's demo user:
nils (NAV) refers, bjorn (housing contact) assesses and applies, mona (the municipality's
allocation office) decides, and bjorn closes the case with its outcome."""

import re
from datetime import date, timedelta

import pytest

from tests.ids import tid
from workflows.models import Case, CaseOutcome, Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date.today().isoformat()
MOVE_IN = (date.today() + timedelta(days=30)).isoformat()


def open_task_page(page, live_server, case, element_id):
    task = Task.objects.get(case=case, element_id=element_id, status__in=("open", "claimed"))
    page.goto(f"{live_server.url}/tasks/{tid(task.pk)}/")
    return task


def fill_and_complete(page, live_server, values: dict):
    """Fill the task's form (selects and inputs by field id, yes/no as radios) and complete it."""
    # A click on the inbox's link is still navigating when this is called: wait for the task
    # page's form, or `count()` below asks the inbox and a select is taken for an input.
    page.get_by_role("button", name="Fullfør oppgaven").wait_for()
    for name, value in values.items():
        if value is True or value is False:
            page.locator(f"#field-{name}-{'yes' if value else 'no'}").check()
        elif page.locator(f"select#field-{name}").count():
            page.locator(f"#field-{name}").select_option(value)
        else:
            page.locator(f"#field-{name}").fill(str(value))
    page.get_by_role("button", name="Fullfør oppgaven").click()
    page.wait_for_url(f"{live_server.url}/tasks/")
    assert "er fullført" in page.locator("#messages").inner_text()


def test_a_referral_from_nav_to_an_owned_home(as_user, live_server, shipped, screenshot):
    nils = as_user("nils")
    nils.get_by_role("link", name="Ny sak").click()
    nils.get_by_label("Prosess").select_option("housing_referral")
    nils.locator("#participant_municipality").wait_for()  # the lanes' agencies, the municipality too
    assert nils.locator("#participant_prison").count() == 0
    nils.get_by_label("Navn").fill("Kari Nordmann")
    nils.get_by_label("Fødselsnummer").fill("29822099635")
    nils.get_by_role("button", name="Opprett saken").click()
    nils.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()

    # The referral lands with the housing contact, handed over by NAV.
    bjorn = as_user("bjorn")
    row = bjorn.locator("tr", has_text="Registrer henvendelsen")
    assert case.reference in row.inner_text()
    row.get_by_role("link", name="Registrer henvendelsen").click()
    fill_and_complete(
        bjorn,
        live_server,
        {"referred_by": "nav", "referral_date": TODAY, "current_housing": "uten_bolig", "urgent": True},
    )
    open_task_page(bjorn, live_server, case, "Task_needs_assessment")
    fill_and_complete(
        bjorn,
        live_server,
        {
            "household_size": 1,
            "children_in_household": False,
            "referral_housing_needs": "Ett rom, nær bussen",
            "follow_up_need": "noe",
            "referral_consent_nav": True,
            "referral_consent_municipality": True,
        },
    )
    nils.goto(f"{live_server.url}/tasks/")
    nils.get_by_role("link", name="Kartlegg økonomi").click()
    fill_and_complete(
        nils,
        live_server,
        {"monthly_income": 23000, "income_source": "arbeid", "debt_problems": False, "startlan_candidate": True},
    )

    open_task_page(bjorn, live_server, case, "Task_choose_path")
    assert bjorn.locator("#field-housing_path option", has_text="Kjøpe med startlån og tilskudd fra Husbanken").count()
    fill_and_complete(
        bjorn, live_server, {"housing_path": "eid_med_startlan", "path_reason": "Fast inntekt, aktuell for startlån"}
    )
    open_task_page(bjorn, live_server, case, "Task_apply_startlan")
    fill_and_complete(
        bjorn,
        live_server,
        {"startlan_amount_applied": 2400000, "grant_applied": True, "startlan_application_date": TODAY},
    )

    # The municipality decides; it sees the application once the person's consent covers it.
    mona = as_user("mona")
    decision = open_task_page(mona, live_server, case, "Task_decide_startlan")
    assert "2400000" not in mona.locator("#category-economy").inner_text()
    bjorn.goto(f"{live_server.url}/cases/{case.pk}/")
    bjorn.get_by_text("Registrer personens samtykke").click()
    bjorn.get_by_label("Del med").select_option(label="Sarpsborg kommune tildelingskontor")
    bjorn.locator("#consent-category-housing").check()
    bjorn.locator("#consent-category-economy").check()
    bjorn.get_by_label("Formål").fill("Søknad om startlån og tilskudd")
    bjorn.get_by_role("button", name="Registrer samtykke").click()
    bjorn.locator("#messages", has_text="Samtykket er registrert").wait_for()
    mona.goto(f"{live_server.url}/tasks/{tid(decision.pk)}/")
    assert "2400000" in mona.locator("#category-economy").inner_text()
    fill_and_complete(
        mona,
        live_server,
        {
            "startlan_granted": True,
            "startlan_amount_granted": 2400000,
            "grant_amount": 150000,
            "startlan_decision_date": TODAY,
        },
    )

    open_task_page(bjorn, live_server, case, "Task_viewing_contract")
    fill_and_complete(
        bjorn,
        live_server,
        {"home_secured": True, "new_home_address": "Storgata 1, 1706 Sarpsborg", "apply_housing_allowance": True},
    )
    open_task_page(mona, live_server, case, "Task_decide_housing_allowance")
    fill_and_complete(mona, live_server, {"housing_allowance_granted": True, "housing_allowance_decision_date": TODAY})

    # The housing contact closes the case with its outcome: housed, owned with startlån.
    open_task_page(bjorn, live_server, case, "Task_record_outcome")
    bjorn.get_by_label("Utfall").select_option(label="Bosatt i egen bolig")
    bjorn.get_by_role("button", name="Fullfør oppgaven").click()
    assert "må fylles ut" in bjorn.locator("#field-outcome_tenure-error").inner_text()
    fill_and_complete(bjorn, live_server, {"outcome_tenure": "eid_med_startlan", "outcome_housed_date": MOVE_IN})

    bjorn.goto(f"{live_server.url}/cases/{case.pk}/")
    assert "Fullført" in bjorn.locator("h1").inner_text()
    outcome = bjorn.locator("#outcome").inner_text()
    assert "Bosatt i egen bolig (Eid bolig med startlån)" in outcome and "flyttet inn" in outcome
    screenshot(bjorn, "referral-case")
    recorded = CaseOutcome.objects.get(case=case)
    assert (recorded.kind.code, recorded.tenure, recorded.housed_date.isoformat()) == (
        "bosatt",
        "eid_med_startlan",
        MOVE_IN,
    )
