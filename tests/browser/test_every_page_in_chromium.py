"""Issue 13, "accessibility as a test" and "language as a test" on every page: each page a
person reads in a browser is opened in Chromium as the users who use it, at desktop and
phone size, and must show no axe-core violation (WCAG 2.1 A and AA) and no English phrase
of the catalogue. The case page is checked again with every fold opened (its sections
come by htmx when opened), and each section is checked as the page of its own that a
browser without JavaScript opens.

The pages are enumerated from the URL configuration: a route neither in ``PAGES`` nor in
``NOT_PAGES`` (with the reason it is no page) fails ``test_every_page_route_is_checked``,
so a page added later is checked from the day it is added.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from retention import services as retention_services
from tests.test_hostile_walk import ADMIN, CASE_SECTIONS, site_routes
from tests.workflows.helpers import complete, open_tasks, start_prison_case
from workflows import services

from .conftest import PHONE, axe_violations, english_on_page, overlapping_labels, page_checker, ready

DESKTOP_AND_PHONE = (False, True)
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"

# route name -> the users who read it and how its URL arguments are filled from the case
# (``ctx``): every user opens it at desktop and at phone size.
PAGES = {
    "login": ((None,), lambda ctx: [{}]),
    "password_reset": ((None,), lambda ctx: [{}]),
    "password_reset_done": ((None,), lambda ctx: [{}]),
    "password_reset_confirm": ((None,), lambda ctx: [{"uidb64": "MQ", "token": "set-password"}]),
    "password_reset_complete": ((None,), lambda ctx: [{}]),
    "password_change": (("nils",), lambda ctx: [{}]),
    "password_change_done": (("nils",), lambda ctx: [{}]),
    "tasks": (("kari", "nils", "bjorn", "aud", "ada", "oscar"), lambda ctx: [{}]),
    "task": (("kari", "nils", "helga", "bjorn"), lambda ctx: [{"pk": pk} for pk in ctx["tasks"]]),
    "cases": (("kari", "bjorn"), lambda ctx: [{}]),
    "case-new": (("kari", "siri"), lambda ctx: [{}]),
    "case": (("kari", "nils", "helga", "bjorn", "oscar"), lambda ctx: [{"pk": ctx["case"]}]),
    "case-section": (
        ("bjorn", "nils", "aud"),
        lambda ctx: [{"pk": ctx["case"], "section": name} for name in CASE_SECTIONS],
    ),
    "case-notes": (("nils", "helga"), lambda ctx: [{"pk": ctx["case"]}]),
    "consent-revoke": (("bjorn",), lambda ctx: [{"pk": ctx["case"], "consent_pk": pk} for pk in ctx["consents"]]),
    "case-person": (("bjorn", "nils"), lambda ctx: [{"pk": ctx["case"]}]),
    "person-access-report": (("bjorn", "aud"), lambda ctx: [{"pk": ctx["case"]}]),
    "case-retention": (("bjorn",), lambda ctx: [{"pk": ctx["case"]}]),
    "today": (("bjorn", "hanne"), lambda ctx: [{}]),
    "caseload": (("lise",), lambda ctx: [{}]),
    "audit": (("aud",), lambda ctx: [{}]),
    "retention-audit": (("aud",), lambda ctx: [{}]),
    "break-glass-review": (("aud",), lambda ctx: [{}]),
    "legal-bases": (("ada",), lambda ctx: [{}]),
    "legal-basis-new": (("ada",), lambda ctx: [{}]),
    "legal-basis": (("ada",), lambda ctx: [{"pk": ctx["legal_basis"]}]),
    "retention-rules": (("ada", "aud"), lambda ctx: [{}]),
    "retention-rule-new": (("ada",), lambda ctx: [{}]),
    "retention-rule": (("ada",), lambda ctx: [{"pk": ctx["retention_rule"]}]),
    "processes": (("ada",), lambda ctx: [{}]),
    "process": (("ada",), lambda ctx: [{"key": "prison_release_to_housing"}]),
    "process-migrate": (("ada",), lambda ctx: [{"key": "prison_release_to_housing", "version": 1}]),
    "insight": (("leif",), lambda ctx: [{}]),
    "insight-annual": (("leif",), lambda ctx: [{}]),
    "insight-heatmap": (("leif",), lambda ctx: [{}]),
}

# route name -> why it is no page of its own to check here
NOT_PAGES = {
    "healthz": "a probe for the load balancer",
    "readyz": "a probe for the load balancer",
    "metrics": "Prometheus text",
    "home": "redirects to the inbox",
    "favicon": "redirects to the icon (tests/browser/test_phone_chrome_in_chromium.py)",
    "logout": "POST only",
    "admin-password-change": "the admin's (staff only; no demo user is staff)",
    "two-factor-verify": "needs a second factor set up (tests/browser/test_sign_in.py walks it)",
    "two-factor-setup": "needs REQUIRE_TWO_FACTOR (tests/browser/test_sign_in.py walks it)",
    "two-factor-enrol": "an administrator's one-time link (tests/browser/test_sign_in.py walks it)",
    "oidc_authentication_init": "redirects to the identity provider",
    "oidc_authentication_callback": "redirects back from the identity provider",
    "set_language": "POST only",
    "process-new": "the modeler (English on request, tests/browser/test_editor.py)",
    "process-edit": "the modeler (English on request, tests/browser/test_editor.py)",
    "process-draft-save": "the modeler's JSON",
    "process-draft-discard": "the modeler's JSON",
    "process-validate": "the modeler's JSON",
    "process-deploy": "the modeler's JSON",
    "process-form-preview": "a fragment of the modeler",
    "process-export": "a download",
    "process-export-forms": "a download",
    "process-model": "the BPMN file a diagram reads",
    "insight-export": "a download (CSV, XLSX)",
    "attachment": "a download",
    "task-claim": "POST only",
    "task-unclaim": "POST only",
    "task-reassign": "POST only",
    "task-safety-confirm": "POST only",
    "task-safety-remove": "POST only",
    "case-message": "POST only",
    "case-responsible": "POST only",
    "case-follow-on": "POST only",
    "case-safety-confirm": "POST only",
    "case-safety-remove": "POST only",
    "case-withdraw-agency": "POST only",
    "consent-record": "POST only",
    "break-glass-open": "POST only",
    "break-glass-reviewed": "POST only",
    "break-glass-end": "POST only",
    "legal-basis-retire": "POST only",
    "legal-basis-delete": "POST only",
    "retention-rule-delete": "POST only",
    "case-erasure": "POST only",
    "case-correction": "POST only",
    "case-archive-export": "POST only",
    "erasure-review": "POST only",
    "national-id-review": "POST only",
    "person-merge": "POST only",
    "note-correct": "POST only",
    "note-withdraw": "POST only",
    "note-confirm": "POST only",
    "attachment-add": "POST only",
    "attachment-withdraw": "POST only",
    "attachment-confirm": "POST only",
}


def test_every_page_route_is_checked():
    names = {
        name
        for _route, name, _pattern in site_routes()
        if not name.startswith(f"{ADMIN}:") and not name.startswith("api-")
    }
    assert names - set(PAGES) - set(NOT_PAGES) == set(), "a page no browser check opens: add it to PAGES"
    assert (set(PAGES) | set(NOT_PAGES)) - names == set(), "a name that is no route"
    assert set(PAGES) & set(NOT_PAGES) == set()


def _url(name: str, kwargs: dict) -> str:
    from django.urls import reverse

    return reverse(name, kwargs=kwargs or None)


@pytest.fixture
def case_with_everything(shipped, users, agencies, legal_bases):
    """A prison case past its intake, several agencies' tasks open, notes and an attachment
    in two categories, a consent, two break-glass openings (one reviewed), a national id waiting for the
    auditor and another case's waiting to be merged, so each page has something in each of
    its parts."""
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False, "housing_situation": "uten_bolig"})
    services.add_note(actor=users["helga"], case=case, text="Fastlege er varslet", category="health")
    services.add_note(actor=users["nils"], case=case, text="Søknad om startlån sendt", category="economy")
    upload = SimpleUploadedFile("samtykke.pdf", PDF, content_type="application/pdf")
    services.add_attachment(actor=users["helga"], case=case, upload=upload, category="health")
    consent_basis = next(basis for basis in legal_bases.values() if basis.is_consent)
    consent = services.record_consent(
        actor=users["bjorn"],
        case=case,
        agency=agencies["nav"],
        categories=["housing"],
        purpose="Finne bolig",
        legal_basis=consent_basis,
    )
    services.open_break_glass(
        actor=users["nils"], case=case, category="health", reason="Fare for liv: trenger helseopplysninger nå"
    )
    reviewed = services.open_break_glass(  # reviewed, still in force: the review page's second list
        actor=users["kari"], case=case, category="health", reason="Fare for liv: må vite om behandlingen nå"
    )
    services.review_break_glass(actor=users["aud"], grant_id=reviewed.pk, note="Begrunnet")
    retention_services.correct_value(
        actor=users["bjorn"], case_id=case.pk, field="person.national_id", value="29822099635", reason="Feil nummer"
    )
    # and on another case, a number the first case's person holds: the auditor's page lists
    # it among the persons to merge
    other = start_prison_case(users, agencies, person={"name": "Annen Person", "national_id": "05840399895"})
    number = case.person.national_id
    held = retention_services.correct_value(
        actor=users["bjorn"], case_id=other.pk, field="person.national_id", value=number, reason="Samme person"
    )
    decided = retention_services.review_national_id(actor=users["aud"], correction_id=held.pk, approve=True)
    assert decided.status == "merge"
    rule = retention_services.save_retention_rule(  # through the service: the auditor's page lists the change
        actor=users["ada"],
        values={
            "process_key": "prison_release_to_housing",
            "category": "health",
            "keep_years": 10,
            "access_log_years": 3,
            "legal_basis": "Bevarings- og kassasjonsvedtak 2026/14",
        },
    )
    retention_services.save_retention_rule(actor=users["ada"], values={"keep_years": 12}, rule_id=rule.pk)
    return {
        "retention_rule": rule.pk,
        "case": case.pk,
        "tasks": [task.pk for task in open_tasks(case)],
        "consents": [consent.pk],
        "legal_basis": consent_basis.pk,
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_passes_axe_and_speaks_bokmal_at_desktop_and_phone(
    browser, as_user, live_server, case_with_everything
):
    ctx = case_with_everything
    visit, problems = page_checker(as_user, live_server)
    anonymous = {}

    def visit_anonymously(path, phone):
        if phone not in anonymous:
            context = browser.new_context(viewport=PHONE if phone else {"width": 1280, "height": 900}, locale="nb-NO")
            anonymous[phone] = context.new_page()
        page = anonymous[phone]
        page.goto(f"{live_server.url}{path}")
        ready(page)
        where = f"anonymous {'phone' if phone else 'desktop'} {path}"
        problems.extend(f"{where}: {v}" for v in axe_violations(page))
        problems.extend(f"{where}: English “{phrase}”" for phrase in english_on_page(page))

    # The case page with every fold opened: each section comes by htmx into the page.
    for username in ("bjorn", "nils", "kari"):
        for phone in DESKTOP_AND_PHONE:
            page = visit(username, f"/cases/{ctx['case']}/", phone=phone)
            assert page.locator(".fold").count() >= 1, f"{username}: the case page has no folded section"
            closed = page.locator("details:not([open]) > summary")
            for _ in range(30):  # a section that comes may bring folds of its own
                if not closed.count():
                    break
                closed.first.click()
            page.locator(".fold").first.wait_for(state="detached")
            where = f"{username} {'phone' if phone else 'desktop'} case page, folds open"
            problems.extend(f"{where}: {v}" for v in axe_violations(page))
            problems.extend(f"{where}: English “{phrase}”" for phrase in english_on_page(page))
            problems.extend(f"{where}: the label “{label}” lies over its value" for label in overlapping_labels(page))

    visited = 0
    for name, (usernames, arguments) in PAGES.items():
        for kwargs in arguments(ctx):
            path = _url(name, kwargs)
            for username in usernames:
                for phone in DESKTOP_AND_PHONE:
                    if username is None:
                        visit_anonymously(path, phone)
                    else:
                        visit(username, path, phone=phone)
                    visited += 1

    for context in {page.context for page in anonymous.values()}:
        context.close()
    assert visited > 100
    assert problems == [], "\n".join(problems)
