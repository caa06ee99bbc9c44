"""Every page answers in a number of queries that does not grow with the rows (issue 12,
point 4): read at N and at 3N rows (``tests.query_counts``), same count.

``test_every_page_is_counted`` fails when a page is added without a line here.
"""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from permissions.models import Membership, Role
from retention.models import RetentionRule
from tests.query_counts import Growth, assert_counts_do_not_grow

pytestmark = pytest.mark.django_db

CASE = "/cases/{g.subject.pk}/"
PROCESS = "/processes/prison_release_to_housing/"

PAGES = {
    "tasks": [
        ("nils", "/tasks/"),
        ("nils", "/tasks/?tab=mine"),
        ("helga", "/tasks/?tab=overdue"),
        ("bjorn", "/tasks/?tab=agency&sort=-due"),
        ("nils", "/tasks/?page=2"),
    ],
    "task": [("nils", "/tasks/{g.open_task.public_id}/")],
    "cases": [
        ("nils", "/cases/"),
        ("bjorn", "/cases/?status=open&process=prison_release_to_housing&overdue=1"),
        ("nils", "/cases/?page=2"),
    ],
    "case-new": [("kari", "/cases/new/")],
    "case": [("nils", CASE), ("bjorn", CASE)],
    "case-section": [
        ("bjorn", CASE + "sections/events/"),
        ("bjorn", CASE + "sections/access-log/"),
        ("bjorn", CASE + "sections/access-log/?log_page=2"),
        ("nils", CASE + "sections/consent-form/"),
        ("bjorn", CASE + "sections/follow-on/"),
        ("bjorn", CASE + "sections/withdraw/"),
    ],
    "process-model": [("nils", "/process-models/{instance.definition_id}.bpmn")],
    "person-access-report": [
        ("bjorn", CASE + "person-access-report/"),
        ("bjorn", CASE + "person-access-report/?cursor={g.report_cursor}"),  # an older page
    ],
    "case-notes": [("nils", CASE + "notes/"), ("helga", CASE + "notes/")],
    "attachment": [("nils", CASE + "attachments/{attachment.pk}/")],
    "processes": [("ada", "/processes/")],
    "process": [("ada", PROCESS)],
    "process-edit": [("ada", PROCESS + "edit/")],
    "process-new": [("ada", "/processes/new/")],
    "process-export": [("ada", PROCESS + "versions/1/export/")],
    "caseload": [("bjorn", "/caseload/")],
    "case-person": [("nils", CASE + "person/"), ("bjorn", CASE + "person/")],
    "break-glass-review": [("aud", "/break-glass/")],
    "legal-bases": [("ada", "/legal-bases/")],
    "legal-basis-new": [("ada", "/legal-bases/new/")],
    "legal-basis": [("ada", "/legal-bases/{g.legal_basis.pk}/")],
    "audit": [("aud", "/audit/")],
    "case-retention": [
        ("bjorn", CASE + "retention/"),
        ("aud", CASE + "retention/"),
        ("bjorn", CASE + "retention/?field=has_home"),
    ],
    "retention-audit": [("aud", "/retention/")],
    "retention-rules": [("ada", "/retention/rules/"), ("aud", "/retention/rules/")],
    "retention-rule-new": [("ada", "/retention/rules/new/")],
    "retention-rule": [("ada", "/retention/rules/{g.retention_rule.pk}/")],
    "today": [("bjorn", "/today/")],
    "insight": [("leif", "/insight/"), ("nina", "/insight/")],
    "insight-annual": [("leif", "/insight/annual/")],
    "insight-heatmap": [("leif", "/insight/heatmap/")],
    "process-export-forms": [("ada", PROCESS + "versions/1/export/forms/")],
}
# The migration page counts every running case of a version, through the API's service:
# its statements are counted at one case and at five in tests/api/test_migration_preview_counts.py.
# An export is one figure of the insight page, computed as the page computes it (counted there).
NOT_COUNTED = {"process-migrate", "insight-export"}
WRITES = {
    "case-follow-on",
    "case-safety-confirm",  # a write: tests/api/test_safety_warnings.py
    "case-safety-remove",  # the correction of a value (retention.services.correct_value)
    "task-safety-confirm",  # the case page's service (web.safety): tests/web/test_task_page_safety.py
    "task-safety-remove",  # the case page's correction (web.safety)
    "case-withdraw-agency",  # the service is counted in tests/api/test_agency_withdrawal.py
    "task-claim",
    "case-responsible",
    "task-reassign",
    "case-message",
    "task-unclaim",
    "consent-record",
    "consent-revoke",
    "break-glass-open",
    "break-glass-reviewed",
    "break-glass-end",  # the service is counted in tests/api/test_break_glass_end.py
    "legal-basis-retire",
    "legal-basis-delete",
    "retention-rule-delete",
    "case-erasure",
    "case-correction",
    "case-archive-export",
    "erasure-review",
    "national-id-review",
    "person-merge",
    "note-correct",
    "note-withdraw",
    "note-confirm",
    "attachment-add",
    "attachment-withdraw",
    "attachment-confirm",  # the API's service: tests/api/test_safety_attachment_confirmation.py
    "process-draft-save",
    "process-draft-discard",
    "process-validate",
    "process-deploy",
    "process-form-preview",
}


def _names(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


def test_every_page_is_counted():
    web = [
        resolver
        for resolver in get_resolver().url_patterns
        if isinstance(resolver, URLResolver) and getattr(resolver.urlconf_module, "__name__", "").startswith("web.")
    ]
    pages = {name for resolver in web for name in _names(resolver.url_patterns)}
    assert pages - WRITES - NOT_COUNTED == set(PAGES)


def logged_in(users):
    def make(username):
        client = Client()
        client.force_login(users[username])
        return client

    return make


def test_no_page_grows_with_the_rows(users, agencies, shipped, consent_basis):
    Membership.objects.create(user=users["bjorn"], agency=agencies["housing"], role=Role.LEAD)  # the caseload
    routes = [route for lines in PAGES.values() for route in lines]
    growth = Growth(users, agencies, consent_basis)
    growth.retention_rule = RetentionRule.objects.create(keep_years=6, access_log_years=5, legal_basis="Arkivplan")
    assert_counts_do_not_grow(growth, logged_in(users), routes)
