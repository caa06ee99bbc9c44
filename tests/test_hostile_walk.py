"""The hostile participant (issue 11, "Done when"): every route of the site, read and write,
called as each demo user on one case with data in every category, finds no value the user
may not see in any answer and changes no field of the case data.

The routes are enumerated from the URL configuration (``config/urls.py`` and everything it
includes, ``api/urls.py`` among them): a route without an entry in ``ROUTES`` (how to fill
its URL arguments) fails ``test_every_route_is_walked``, so a new route is walked from the
day it is added. Each route is called with GET and with a POST whose body tries to write
other agencies' fields; each call runs in a savepoint rolled back afterwards, so every user
meets the same case. What a user may not see is computed from the policy beforehand:
values of fields they do not see (``policy.sees_field``), the whole national id unless a
task of theirs needs it, notes and attachments masked for them, and for anyone who does
not see the case at all, everything including the person's name. Every free text of the
case is a marked value (``Hemmelig-...``), so a leak is found by a plain search.
"""

from __future__ import annotations

import datetime
import hashlib
import json

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tokens import issue
from bpmn.registry import runtime_for
from core import public_ids
from permissions import notes_policy, policy, rules
from permissions.models import AccessLog, LegalBasis
from retention import services as retention_services
from retention.models import RetentionRule, RetentionRuleChange
from tests.workflows.helpers import PERSON, complete, open_tasks, start_prison_case
from workflows import services
from workflows.models import ACTIVE_TASK_STATUSES, Case, Task
from workflows.notes import Attachment, Note

pytestmark = pytest.mark.django_db

CAST = ("kari", "nils", "nora", "helga", "bjorn", "siri", "mona", "ada", "aud", "oscar", "lise", "leif", "nina", "tove")
MARK = "Hemmelig"
HOSTILE = "Fiendtlig-verdi"
# Fields of other agencies' forms: every write below tries to set them.
HOSTILE_DATA = {
    "treatment_plan": HOSTILE,
    "expected_release_date": "2031-01-01",
    "home_address": HOSTILE,
    "economy_notes": HOSTILE,
}
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n% " + MARK.encode() + b"-vedlegg-innhold\ntrailer << >>\n%%EOF\n"
LAPSED_PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


# --- the case -----------------------------------------------------------------------------


def _marked_overrides(definition_id) -> dict:
    """A marked value for every free-text field of the process's forms."""
    overrides = {}
    for schema in runtime_for(definition_id).forms.values():
        for name, prop in (schema.get("properties") or {}).items():
            if prop.get("type") == "string" and not ({"enum", "format", "pattern"} & set(prop)):
                overrides[name] = f"{MARK}-{name}-Q7"
    return overrides


ASKED_NATIONAL_ID = "29822099635"  # synthetic (domain.md); asked for, never shown


@pytest.fixture
def walked(shipped, users, agencies):
    """A prison case at "find a home": every other task done with marked values (housing,
    justice, health, economy, coordination and identity data), notes in each writer's
    category and a restricted one, a health attachment."""
    case = start_prison_case(users, agencies)
    overrides = _marked_overrides(case.instances.get().definition_id)
    (intake,) = open_tasks(case)
    complete(intake, {**overrides, "has_home": False, "expected_release_date": "2028-01-15"})
    for task in open_tasks(case):
        if task.element_id != "Task_find_home":
            complete(task, overrides)
    for user, category in (("helga", "health"), ("nils", "economy"), ("kari", "justice"), ("bjorn", "restricted")):
        services.add_note(actor=users[user], case=case, text=f"{MARK}-notat-{user}-{category}", category=category)
    upload = SimpleUploadedFile(f"{MARK}-epikrise.pdf", PDF, content_type="application/pdf")
    services.add_attachment(actor=users["helga"], case=case, upload=upload, category="health")
    # a safety file (a warning) of the prison's, lapsed long ago: kept by the prison and the
    # coordinator, told to the others only as lapsed (its confirmation among the routes walked)
    upload = SimpleUploadedFile(f"{MARK}-trusselbrev.pdf", LAPSED_PDF, content_type="application/pdf")
    lapsed = services.add_attachment(actor=users["kari"], case=case, upload=upload, category="safety")
    Attachment.objects.filter(pk=lapsed.pk).update(created_at=timezone.now() - datetime.timedelta(days=800))
    # a national id the coordinator asked for waits for the auditor: no route shows it
    retention_services.correct_value(
        actor=users["bjorn"], case_id=case.pk, field="person.national_id", value=ASKED_NATIONAL_ID, reason="Feil"
    )
    # a retention rule: only process admins change the rules (issue 17)
    RetentionRule.objects.create(
        process_key="prison_release_to_housing",
        category="health",
        keep_years=10,
        access_log_years=5,
        legal_basis="Vedtak",
    )
    case.refresh_from_db()
    categories = {runtime_for(case.instances.get().definition_id).fields.get(name) for name in case.data}
    assert {"housing", "justice", "health", "economy", "coordination"} <= categories
    return case


def secrets_for(user, case) -> set[str]:
    """The marked texts ``user`` may not see in ``case`` (computed without logging)."""
    fields = runtime_for(case.instances.get().definition_id).field_rules
    marked = {value for value in case.data.values() if isinstance(value, str) and MARK in value}
    notes = list(Note.objects.filter(case=case).prefetch_related("revisions"))
    attachments = list(Attachment.objects.filter(case=case))
    everything = marked | {note.text for note in notes} | {a.filename for a in attachments}
    everything |= {f"{MARK}-vedlegg-innhold", PERSON["national_id"], PERSON["name"]}
    if not rules.can_view_case(user, case):
        if rules.can_view_access_log(user, case):  # the auditor: whose data who saw names the person
            everything.discard(PERSON["name"])
        return everything
    views = policy.case_data_for(user, case, fields, log=False)
    hidden = {
        value for name, value in case.data.items() if value in marked and not policy.sees_field(views, fields, name)
    }
    hidden |= {v.item.text for v in notes_policy.notes_for(user, case, notes, log=False) if not v.visible}
    masked_files = [v.item for v in notes_policy.attachments_for(user, case, attachments, log=False) if not v.visible]
    # The marked bytes are the health file's (the lapsed safety file's have no mark).
    marked_bytes = any(a.sha256 == hashlib.sha256(PDF).hexdigest() for a in masked_files)
    hidden |= {a.filename for a in masked_files} | ({f"{MARK}-vedlegg-innhold"} if marked_bytes else set())
    tasks = Task.objects.filter(case=case, status__in=ACTIVE_TASK_STATUSES)
    if not any(
        rules.can_see_national_id(user, case, t, needs_full_identity=fields.needs_full_identity(t)) for t in tasks
    ):
        hidden.add(PERSON["national_id"])
    return hidden


# --- the routes ---------------------------------------------------------------------------


def _each(name):
    return lambda ctx: [{"pk": pk} for pk in ctx[name]]


def _case(ctx):
    return [{"pk": ctx["case"]}]


def _case_and(name, key):
    return lambda ctx: [{"pk": ctx["case"], key: pk} for pk in ctx[name]]


def _process(ctx):
    return [{"key": "prison_release_to_housing"}]


def _version(ctx):
    return [{"key": "prison_release_to_housing", "version": 1}]


CASE_SECTIONS = ("events", "access-log", "consent-form", "follow-on", "withdraw")
NONE = lambda ctx: [{}]  # noqa: E731 - a route without arguments

# route name -> its URL arguments for this case (a list: each is walked)
ROUTES = {
    "healthz": NONE,
    "readyz": NONE,
    "metrics": NONE,
    "home": NONE,
    "favicon": NONE,
    # accounts
    "login": NONE,
    "logout": NONE,
    "two-factor-verify": NONE,
    "two-factor-setup": NONE,
    "two-factor-enrol": lambda ctx: [{"token": "not-a-link"}],
    "oidc_authentication_init": NONE,
    "oidc_authentication_callback": NONE,
    "password_change": NONE,
    "password_change_done": NONE,
    "admin-password-change": NONE,  # the admin's page (staff only), counting wrong passwords
    "password_reset": NONE,
    "password_reset_done": NONE,
    "password_reset_confirm": lambda ctx: [{"uidb64": "MQ", "token": "set-password"}],
    "password_reset_complete": NONE,
    "set_language": NONE,
    # the API
    "api-token": NONE,
    "api-token-revoke": NONE,
    "api-token-revoke-all": NONE,
    "api-agencies": NONE,
    "api-legal-bases": NONE,
    "api-legal-basis": _each("legal_bases"),
    "api-legal-basis-retire": _each("legal_bases"),
    "api-caseload": NONE,
    "api-process-definitions": NONE,
    "api-process-definition": _process,
    "api-process-definition-version": _version,
    "api-process-version-migration": _version,
    "api-cases": NONE,
    "api-case": _case,
    "api-case-timeline": _case,
    "api-case-corrections": _case,
    "api-case-erasure": _case,
    "api-case-follow-on": _case,
    "api-case-safety-confirmations": _case,
    "api-case-responsible": _case,
    "api-case-withdrawals": _case,
    "api-case-retention": _case,
    "api-retention-rules": NONE,
    "api-retention-rule": _each("retention_rules"),
    "api-retention-rule-changes": NONE,
    "api-erasure-review": lambda ctx: [{"pk": 999_999}],
    "api-national-id-review": _each("corrections"),
    "api-person-merge": _each("corrections"),
    "api-case-person": _case,
    "api-break-glass-review": lambda ctx: [{"pk": 999_999}],
    "api-break-glass-review-list": NONE,
    "api-break-glass-end": _each("break_glass"),
    "api-case-archive-export": _case,
    "api-case-break-glass": _case,
    "api-external-complete": lambda ctx: [{"task_id": "00000000-0000-4000-8000-000000000000"}],
    "api-external-failure": lambda ctx: [{"task_id": "00000000-0000-4000-8000-000000000000"}],
    "api-external-fetch": NONE,
    "api-task-reassign": _each("tasks"),
    "api-case-diagram": _case,
    "api-case-consents": _case,
    "api-case-access-log": _case,
    "api-person-access-report": _case,
    "api-case-notes": _case,
    "api-case-note": _case_and("notes", "note_pk"),
    "api-note-correct": _case_and("notes", "note_pk"),
    "api-note-withdraw": _case_and("notes", "note_pk"),
    "api-note-confirm": _case_and("notes", "note_pk"),
    "api-case-attachments": _case,
    "api-attachment-content": _case_and("attachments", "attachment_pk"),
    "api-attachment-withdraw": _case_and("attachments", "attachment_pk"),
    "api-attachment-confirm": _case_and("attachments", "attachment_pk"),
    "api-consent-revoke": _each("consents"),
    "api-tasks": NONE,
    "api-task": _each("tasks"),
    "api-task-claim": _each("tasks"),
    "api-task-unclaim": _each("tasks"),
    "api-task-complete": _each("tasks"),
    "api-messages": NONE,
    "api-incidents": NONE,
    "api-incident-retry": _each("incidents"),
    "api-incident-data": _each("incidents"),
    "api-schema": NONE,
    "api-docs": NONE,
    "api-not-found": NONE,
    # the pages
    "insight": NONE,
    "insight-annual": NONE,
    "insight-heatmap": NONE,
    "insight-export": lambda ctx: [{"key": "tasks", "fmt": "csv"}],
    "processes": NONE,
    "process-new": NONE,
    "process-draft-save": NONE,
    "process-draft-discard": NONE,
    "process-validate": NONE,
    "process-deploy": NONE,
    "process-form-preview": NONE,
    "process": _process,
    "process-edit": _process,
    "process-export": _version,
    "process-migrate": _version,
    "process-export-forms": _version,
    "tasks": NONE,
    "task": _each("tasks"),
    "task-claim": _each("tasks"),
    "task-unclaim": _each("tasks"),
    "task-reassign": _each("tasks"),
    "task-safety-confirm": _each("tasks"),
    "task-safety-remove": _each("tasks"),
    "cases": NONE,
    "audit": NONE,
    "today": NONE,
    "case-new": NONE,
    "case": _case,
    "case-section": lambda ctx: [{"pk": ctx["case"], "section": name} for name in CASE_SECTIONS],
    "process-model": lambda ctx: [{"definition_id": pk} for pk in ctx["definitions"]],
    "person-access-report": _case,
    "case-responsible": _case,
    "caseload": NONE,
    "case-follow-on": _case,
    "case-safety-confirm": _case,
    "case-safety-remove": _case,
    "case-withdraw-agency": _case,
    "case-person": _case,
    "consent-record": _case,
    "consent-revoke": _case_and("consents", "consent_pk"),
    "case-notes": _case,
    "case-message": _case,
    "break-glass-open": _case,
    "break-glass-review": NONE,
    "break-glass-reviewed": lambda ctx: [{"grant_pk": 999_999}],
    "break-glass-end": lambda ctx: [{"grant_pk": pk} for pk in ctx["break_glass"]],
    "legal-bases": NONE,
    "legal-basis-new": NONE,
    "legal-basis": _each("legal_bases"),
    "legal-basis-retire": _each("legal_bases"),
    "legal-basis-delete": _each("legal_bases"),
    "case-retention": _case,
    "case-erasure": _case,
    "case-correction": _case,
    "case-archive-export": _case,
    "retention-audit": NONE,
    "retention-rules": NONE,
    "retention-rule-new": NONE,
    "retention-rule": _each("retention_rules"),
    "retention-rule-delete": _each("retention_rules"),
    "erasure-review": lambda ctx: [{"erasure_pk": 999_999}],
    "national-id-review": lambda ctx: [{"correction_pk": pk} for pk in ctx["corrections"]],
    "person-merge": lambda ctx: [{"correction_pk": pk} for pk in ctx["corrections"]],
    "note-correct": _case_and("notes", "note_pk"),
    "note-withdraw": _case_and("notes", "note_pk"),
    "note-confirm": _case_and("notes", "note_pk"),
    "attachment-add": _case,
    "attachment": _case_and("attachments", "attachment_pk"),
    "attachment-withdraw": _case_and("attachments", "attachment_pk"),
    "attachment-confirm": _case_and("attachments", "attachment_pk"),
}
# Routes named for this walk where the URL configuration names none.
UNNAMED = {"favicon.ico": "favicon", "api/v1/^[\\s\\S]*/$": "api-not-found"}
# The Django admin: staff only, and of the demo cast only ``tove`` (NAV's access administrator)
# is staff; its index and every list without arguments are walked (the login page for the
# others, the lists her permissions open or a 403 for her), its object pages are not.
ADMIN = "admin"


def site_routes() -> list[tuple[str, str, URLPattern]]:
    """(route, name, pattern) of every URL pattern of the site."""

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
            else:
                route = prefix + str(pattern.pattern)
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name or UNNAMED.get(route, route)
                yield route, name, pattern

    return list(walk(get_resolver().url_patterns, "", ""))


def test_every_route_is_walked():
    names = {name for _route, name, _pattern in site_routes() if not name.startswith(f"{ADMIN}:")}
    assert names - set(ROUTES) == set(), "a route the hostile walk does not know: add it to ROUTES"
    assert set(ROUTES) - names == set(), "ROUTES names a route that no longer exists"


def _url(route: str, kwargs: dict) -> str:
    from django.urls.resolvers import RoutePattern

    if "^" in route:  # the API's catch-all
        return "/api/v1/no-such-thing/"
    path = route
    for key, value in kwargs.items():
        path = path.replace(f"<int:{key}>", str(value)).replace(f"<str:{key}>", str(value))
        path = path.replace(f"<slug:{key}>", str(value)).replace(f"<{key}>", str(value))
        for kind in public_ids.KINDS:  # a public id's route (``core.public_ids``): the key's id
            if f"<{kind}_id:{key}>" in path:
                path = path.replace(f"<{kind}_id:{key}>", str(public_ids.encode(kind, int(value))))
    assert "<" not in path, (route, kwargs, RoutePattern)
    return "/" + path


def _api_body(ctx, agencies, user_agency) -> dict:
    return {
        "data": HOSTILE_DATA,
        "payload": HOSTILE_DATA,
        "name": "release_date_changed",
        "case_reference": ctx["reference"],
        "process_key": "prison_release_to_housing",
        "person": PERSON,
        "participants": {kind: agencies[kind].pk for kind in ("prison", "nav", "health", "housing")},
        "agency": user_agency,
        "categories": ["health", "justice", "economy", "housing"],
        "text": HOSTILE,
        "version": 1,
        "category": "health",
    }


def _web_body(ctx, user_agency) -> dict:
    return {
        **HOSTILE_DATA,
        "text": HOSTILE,
        "category": "health",
        "agency": user_agency or "",
        "categories": ["health", "justice", "economy"],
        "version": "1",
        "process": "prison_release_to_housing",
        "person_name": "Per Hansen",
        "national_id": "05840399895",  # another person: the walk's own input is not the case's
    }


def _context(case) -> dict:
    return {
        "case": case.pk,
        "reference": case.reference,
        "tasks": list(Task.objects.filter(case=case).order_by("pk").values_list("pk", flat=True)),
        "notes": list(Note.objects.filter(case=case).values_list("pk", flat=True)),
        "attachments": list(Attachment.objects.filter(case=case).values_list("pk", flat=True)),
        "consents": list(case.consents.values_list("pk", flat=True)) or [999_999],
        "break_glass": list(case.break_glass.values_list("pk", flat=True)) or [999_999],
        "incidents": list(case.incidents.values_list("pk", flat=True)) or [999_999],
        "definitions": list(case.instances.values_list("definition_id", flat=True)),
        "legal_bases": [LegalBasis.objects.order_by("pk").values_list("pk", flat=True).first() or 999_999],
        "corrections": list(case.corrections.values_list("pk", flat=True)) or [999_999],
        "retention_rules": list(RetentionRule.objects.values_list("pk", flat=True)) or [999_999],
    }


@pytest.mark.parametrize("username", CAST)
def test_a_hostile_participant_reads_nothing_masked_and_writes_nothing(walked, users, agencies, username):
    user = users[username]
    secrets = secrets_for(user, walked) | {ASKED_NATIONAL_ID}
    before = Case.objects.values_list("data", "data_sources").get(pk=walked.pk)
    # The list of legal bases is the process admin's to write (issue 11): nobody else changes it.
    bases_before = None if rules.can_manage_legal_bases(user) else list(LegalBasis.objects.order_by("pk").values())
    rules_before = (
        None
        if rules.can_manage_retention_rules(user)
        else (list(RetentionRule.objects.order_by("pk").values()), RetentionRuleChange.objects.count())
    )
    ctx = _context(walked)
    agency = rules.case_access(user, walked).acting[0][0].pk if rules.case_access(user, walked) else None
    failures = []
    calls = 0
    token, _expiry = issue(user)  # the API as a client calls it (revoking it is rolled back too)
    # Signed in once, as the token is issued once: each call below is rolled back, a logout or
    # a new session key among them, so every call meets this session as it is now.
    session_key = _signed_in(user)
    for route, name, _pattern in site_routes():
        if name.startswith(f"{ADMIN}:"):
            if "<" in route:
                continue
            kwargs_list = [{}]
        else:
            kwargs_list = ROUTES[name](ctx)
        for kwargs in kwargs_list:
            url = _url(route, kwargs)
            for method in ("get", "post"):
                calls += 1
                with transaction.atomic():
                    answer = _call(session_key, token, method, url, ctx, agencies, agency)
                    body = b"".join(answer) if answer.streaming else answer.content
                    text = body.decode("utf-8", errors="ignore")
                    leaked = sorted(secret for secret in secrets if secret in text)
                    after = Case.objects.values_list("data", "data_sources").get(pk=walked.pk)
                    bases_changed = bases_before is not None and (
                        list(LegalBasis.objects.order_by("pk").values()) != bases_before
                    )
                    rules_changed = rules_before is not None and (
                        (list(RetentionRule.objects.order_by("pk").values()), RetentionRuleChange.objects.count())
                        != rules_before
                    )
                    transaction.set_rollback(True)
                if answer.status_code >= 500 and answer.status_code != 503:  # 503: /readyz, no worker here
                    failures.append(f"{method.upper()} {url}: {answer.status_code}")
                if leaked:
                    failures.append(f"{method.upper()} {url}: shows {leaked}")
                if bases_changed:
                    failures.append(f"{method.upper()} {url}: changed the list of legal bases")
                if rules_changed:
                    failures.append(f"{method.upper()} {url}: changed the retention rules")
                if after != before:
                    changed = sorted(k for k in set(after[0]) | set(before[0]) if after[0].get(k) != before[0].get(k))
                    failures.append(f"{method.upper()} {url}: changed {changed}")
    assert calls > 150
    # Still live now, so live for every call before (its expiry only comes nearer): no page
    # was read signed out.
    assert Session.objects.filter(session_key=session_key, expire_date__gt=timezone.now()).exists()
    assert failures == [], "\n".join(failures)


def _signed_in(user) -> str:
    """The key of a new session of ``user`` (a sign-in per call cost about a sixth of the walk)."""
    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    probe = Client()
    probe.cookies[settings.SESSION_COOKIE_NAME] = key
    assert probe.get("/tasks/").wsgi_request.user.pk == user.pk  # the cookie alone signs a client in
    return key


def _call(session_key, token, method, url, ctx, agencies, agency):
    if url.startswith("/api/"):
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        if method == "get":
            return client.get(url)
        return client.post(url, json.dumps(_api_body(ctx, agencies, agency)), content_type="application/json")
    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    if method == "get":
        return client.get(url)
    return client.post(url, _web_body(ctx, agency))


@pytest.mark.parametrize("username", ["kari", "nils", "helga", "bjorn", "lise"])
def test_every_answer_that_shows_a_category_logs_it(walked, users, agencies, username):
    """Every read of a sensitive category is written to the access log (domain.md): each
    GET of every route that shows a marked value of the case (a form value, a note, an
    attachment's name) writes a row of that value's category in the same request."""
    user = users[username]
    hidden = secrets_for(user, walked)
    fields = runtime_for(walked.instances.get().definition_id).field_rules.fields
    category = {
        value: rules.category_of(fields.get(name, "restricted"))
        for name, value in walked.data.items()
        if isinstance(value, str) and MARK in value
    }
    category |= {note.text: rules.category_of(note.category) for note in Note.objects.filter(case=walked)}
    category |= {a.filename: rules.category_of(a.category) for a in Attachment.objects.filter(case=walked)}
    shown_to_user = {value: c for value, c in category.items() if value not in hidden}
    ctx = _context(walked)
    agency = rules.case_access(user, walked).acting[0][0].pk
    token, _expiry = issue(user)
    session_key = _signed_in(user)
    unlogged, reads = [], 0
    for route, name, _pattern in site_routes():
        if name.startswith(f"{ADMIN}:"):
            continue
        for kwargs in ROUTES[name](ctx):
            url = _url(route, kwargs)
            with transaction.atomic():
                last = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
                answer = _call(session_key, token, "get", url, ctx, agencies, agency)
                text = (b"".join(answer) if answer.streaming else answer.content).decode("utf-8", errors="ignore")
                shown = {c for value, c in shown_to_user.items() if value in text}
                logged = set(AccessLog.objects.filter(id__gt=last).values_list("category", flat=True))
                transaction.set_rollback(True)
            reads += bool(shown)
            if shown - logged:
                unlogged.append(f"GET {url}: shows {sorted(shown)}, logs {sorted(logged)}")
    assert reads >= 4  # the case page and its notes page, the API's case and its notes, at least
    assert unlogged == [], "\n".join(unlogged)


@pytest.mark.parametrize("username", ["nils", None])
def test_every_route_answers_head_and_options_without_a_500(walked, users, username):
    """HEAD and OPTIONS, which the walk above does not send: DRF answers OPTIONS with its
    metadata, Django's views with their methods, and neither may fail (the API docs page
    rendered its OPTIONS answer with a template it does not have: a 500). Signed in and not."""
    ctx = _context(walked)
    session_key = _signed_in(users[username]) if username else None
    token = issue(users[username])[0] if username else None
    failures = []
    for route, name, _pattern in site_routes():
        if name.startswith(f"{ADMIN}:"):
            continue
        for kwargs in ROUTES[name](ctx):
            url = _url(route, kwargs)
            for method in ("HEAD", "OPTIONS"):
                if url.startswith("/api/"):
                    client = APIClient(raise_request_exception=False)
                    if token:
                        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
                else:
                    client = Client(raise_request_exception=False)
                    if session_key:
                        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
                with transaction.atomic():
                    answer = client.generic(method, url)
                    transaction.set_rollback(True)
                if answer.status_code >= 500 and answer.status_code != 503:  # 503: /readyz, no worker here
                    failures.append(f"{method} {url}: {answer.status_code}")
    assert failures == [], "\n".join(failures)


# Methods no route of the site serves; FROB stands for any made-up one.
UNSERVED = ("PUT", "DELETE", "PATCH", "TRACE", "FROB")
# Django's own view, which the site mounts as it is: it serves GET and POST (config/methods.py).
UNDECLARED = {"set_language"}


def test_every_page_declares_the_methods_it_serves():
    """Each page's view says which methods it serves (``core.http_methods.allow``, or a class
    view's handlers), so ``config.methods`` refuses the rest before it runs: a new page
    without a declaration fails here."""
    from config.methods import allowed_methods

    undeclared = sorted(
        name
        for route, name, pattern in site_routes()
        if not route.startswith("api/")
        and not name.startswith(f"{ADMIN}:")
        and name not in UNDECLARED
        and allowed_methods(pattern.callback) is None
    )
    assert undeclared == []


def test_no_route_answers_a_method_it_does_not_serve(walked, users):
    """PUT, DELETE, PATCH, TRACE or a made-up method, and GET or POST where the page serves
    the other, signed in as a member of a participating agency: every page answers 405 with
    ``Allow`` and the bokmål page, OPTIONS 200 with ``Allow`` and no body, and none of them
    reads anything (no access-log row). Django ran the GET branch of a function view for any
    method: ``PUT /cases/<id>/`` showed the case and logged it, ``DELETE /tasks/<id>/`` the
    task. The API (DRF) never answers a method it has no handler for with a 2xx either."""
    from config.methods import allowed_methods
    from core.http_methods import PAGE_METHODS

    ctx = _context(walked)
    user = users["nils"]
    session_key = _signed_in(user)
    token, _expiry = issue(user)
    failures, calls = [], 0
    for route, name, pattern in site_routes():
        if name.startswith(f"{ADMIN}:"):
            if "<" in route:
                continue
            kwargs_list = [{}]
        else:
            kwargs_list = ROUTES[name](ctx)
        api = route.startswith("api/")
        served = allowed_methods(pattern.callback) or PAGE_METHODS
        methods = UNSERVED if api else (*UNSERVED, "OPTIONS", *sorted({"GET", "POST"} - served))
        for kwargs in kwargs_list[:1]:
            url = _url(route, kwargs)
            for method in methods:
                calls += 1
                if api:
                    client = APIClient(raise_request_exception=False)
                    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
                else:
                    client = Client(raise_request_exception=False)
                    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
                with transaction.atomic():
                    last = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
                    answer = client.generic(method, url)
                    logged = AccessLog.objects.filter(id__gt=last).count()
                    transaction.set_rollback(True)
                said = f"{method} {url}: {answer.status_code}"
                if logged:
                    failures.append(f"{said}, {logged} access-log rows")
                if api:
                    if answer.status_code < 400 or answer.status_code >= 500:
                        failures.append(said)
                    elif (
                        answer.status_code == 405
                        and not answer.get("Content-Type", "").startswith("text/html")  # the Swagger UI page
                        and "request.method_not_allowed" not in answer.content.decode()
                    ):
                        failures.append(f"{said} without its code")
                    continue
                allow = set(answer.get("Allow", "").split(", "))
                if method == "OPTIONS":
                    if answer.status_code != 200 or answer.content or allow != {*served, "OPTIONS"}:
                        failures.append(f"{said}, Allow {sorted(allow)}, {len(answer.content)} bytes")
                elif answer.status_code != 405 or allow != {*served, "OPTIONS"}:
                    failures.append(f"{said}, Allow {sorted(allow)}")
                elif "Denne siden svarer ikke på den forespørselen" not in answer.content.decode():
                    failures.append(f"{said} without the bokmål page")
    assert calls > 500
    assert failures == [], "\n".join(failures)


# Routes of case data: cases, tasks, persons, notes and attachments, consents, insight figures,
# access logs and reports, break-glass, incidents, external tasks. Everything but sign-in,
# health checks and the process admin's and retention pages.
CASE_DATA_WORDS = (
    "case",
    "task",
    "person",
    "insight",
    "access",
    "audit",
    "note",
    "attachment",
    "consent",
    "break-glass",
    "today",
    "erasure",
    "national-id",
    "incident",
    "external",
    "messages",
)


def _answer(session_key, token, method, url, ctx, agencies, agency):
    with transaction.atomic():
        answer = _call(session_key, token, method, url, ctx, agencies, agency)
        body = b"".join(answer) if answer.streaming else answer.content
        transaction.set_rollback(True)
    shown = body
    if url.startswith("/api/") and answer.get("Content-Type", "").startswith("application/json"):
        shown = json.loads(body or b"null")
        if isinstance(shown, dict):
            shown.pop("request_id", None)  # each request's own
    return answer.status_code, shown


def test_the_access_administrator_reads_case_data_as_a_user_with_no_case_role(walked, users, agencies):
    """``tove`` (NAV's access administrator, staff) gives NAV's roles in the admin and sees no
    case data (design §2): every route of cases, tasks, persons, insight and access logs, GET and
    POST, answers her as it answers ``oscar`` (no agency, no role): the same status, the same API
    answer, and no access-log row written on her name."""
    tove, oscar = users["tove"], users["oscar"]
    assert rules.agency_ids_with_role(tove, "access_admin") == {agencies["nav"].pk}
    assert not rules.can_view_case(tove, walked) and not rules.works_cases(tove)
    ctx = _context(walked)
    readers = {}
    for user in (tove, oscar):
        readers[user.username] = (_signed_in(user), issue(user)[0])
    differ, calls = [], 0
    for route, name, _pattern in site_routes():
        if name.startswith(f"{ADMIN}:") or not any(word in name for word in CASE_DATA_WORDS):
            continue
        for kwargs in ROUTES[name](ctx):
            url = _url(route, kwargs)
            for method in ("get", "post"):
                calls += 1
                answers = {}
                for username, (session_key, token) in readers.items():
                    answers[username] = _answer(session_key, token, method, url, ctx, agencies, None)
                tove_status, tove_shown = answers["tove"]
                oscar_status, oscar_shown = answers["oscar"]
                if tove_status != oscar_status:
                    differ.append(f"{method.upper()} {url}: {tove_status}, oscar {oscar_status}")
                elif url.startswith("/api/") and tove_shown != oscar_shown:
                    differ.append(f"{method.upper()} {url}: {str(tove_shown)[:160]}, oscar {str(oscar_shown)[:160]}")
    assert calls > 100
    assert not AccessLog.objects.filter(username="tove").exists()
    assert differ == [], "\n".join(differ)
