"""The retention pages in Chromium: the coordinator corrects a value (the field's own
widget fetched by htmx), is refused an erasure while the archive duty applies, erases
once the archive has the case file; the auditor reviews it. Desktop and phone, axe-core
and bokmål checked on every page."""

import pytest
from django.utils import timezone

from retention.models import Correction, ErasureRecord, RetentionRule
from retention.services import correct_value
from tests.retention.helpers import PERSON, archived
from tests.workflows.helpers import complete, open_tasks, start_prison_case
from workflows.models import Case, CaseStatus

from .conftest import axe_violations, page_checker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_coordinator_and_the_auditor_use_the_retention_pages(as_user, live_server, users, agencies, shipped):
    visit, problems = page_checker(as_user, live_server)
    case = start_prison_case(users, agencies, person=PERSON)
    complete(open_tasks(case)[0], {"has_home": False, "housing_situation": "uten_bolig"}, actor=users["kari"])
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    path = f"/cases/{case.pk}/retention/"

    visit("bjorn", path, phone=True)
    bjorn = visit("bjorn", f"/cases/{case.pk}/")
    bjorn.locator("#retention-link").click()
    bjorn.wait_for_url(f"{live_server.url}{path}")
    bjorn.get_by_label("Verdi som skal rettes").select_option("has_home")
    bjorn.locator("#field-value-yes").check()  # htmx fetched the yes/no widget
    bjorn.get_by_label("Begrunnelse", exact=True).fill("Feil registrert ved inntak")
    bjorn.locator("#correction-submit").click()
    bjorn.locator("#messages").get_by_text("Verdien er rettet").wait_for()
    assert Correction.objects.get(case=case).field == "has_home"

    # a national id waits for the auditor, who confirms it on the phone
    asked = correct_value(
        actor=users["bjorn"], case_id=case.pk, field="person.national_id", value="29822099635", reason="Feil nummer"
    )
    aud = visit("aud", "/retention/", phone=True)
    aud.locator(f"#national-id-{asked.pk} button[value=approve]").click()
    aud.locator("#messages").get_by_text("Fødselsnummeret er endret").wait_for()
    assert Case.objects.get(pk=case.pk).person.national_id == "29822099635"

    bjorn.locator("#erase summary").click()
    bjorn.get_by_label("Begrunnelse: personens krav og det rettslige grunnlaget").fill("Personen ba om sletting")
    bjorn.locator("#erase-submit").click()
    bjorn.locator("#messages").get_by_text("må leveres til arkivet først").wait_for()
    assert not ErasureRecord.objects.exists()
    visit("bjorn", path)  # the refusal and the page after it, checked

    archived(case)
    bjorn = visit("bjorn", path)
    bjorn.locator("#erase summary").click()
    bjorn.get_by_label("Begrunnelse: personens krav og det rettslige grunnlaget").fill("Personen ba om sletting")
    bjorn.locator("#erase-submit").click()
    bjorn.locator("#erasure-reviewed").wait_for()
    record = ErasureRecord.objects.get(case=case)

    visit("aud", path, phone=True)
    aud = visit("aud", "/retention/", phone=True)
    visit("aud", "/retention/")
    aud.locator(f"#review-note-{record.pk}").fill("Grunnlaget holder")
    aud.locator(f"#erasure-{record.pk} button").click()
    aud.locator("#messages").get_by_text("merket som kontrollert").wait_for()
    record.refresh_from_db()
    assert record.reviewed_by == users["aud"]
    assert problems == [], "\n".join(problems)


def test_a_process_admin_sets_a_retention_rule_on_a_phone(as_user, live_server, shipped):
    visit, problems = page_checker(as_user, live_server)
    ada = visit("ada", "/retention/rules/", phone=True)
    ada.locator("#add-retention-rule").click()
    ada.wait_for_url(f"{live_server.url}/retention/rules/new/")
    ada.get_by_label("Prosess").select_option("prison_release_to_housing")
    ada.get_by_label("Kategori", exact=True).select_option("health")
    ada.get_by_label("År opplysningene oppbevares etter at saken er avsluttet").fill("0")
    ada.get_by_label("Hjemmel").fill("Bevarings- og kassasjonsvedtak 2026/14")
    ada.locator("#save-retention-rule").click()
    ada.locator("#retention-rule-keep-error").wait_for()  # refused, naming the field
    problems.extend(f"ada phone form with errors: {v}" for v in axe_violations(ada))
    assert not RetentionRule.objects.exists()
    ada.get_by_label("År opplysningene oppbevares etter at saken er avsluttet").fill("10")
    ada.locator("#save-retention-rule").click()
    ada.locator("#messages").get_by_text("Regelen for oppbevaring er lagret").wait_for()
    rule = RetentionRule.objects.get()
    assert (rule.process_key, rule.category, rule.keep_years) == ("prison_release_to_housing", "health", 10)
    for phone in (True, False):
        page = visit("ada", "/retention/rules/", phone=phone)
        page.locator(f"#retention-rule-{rule.pk}").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "wider than the screen"
    visit("ada", f"/retention/rules/{rule.pk}/", phone=True)
    assert problems == [], "\n".join(problems)
