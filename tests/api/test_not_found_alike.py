"""A task or case the reader may not see answers 404 after the same statements as an id that
no row has (docs/security.md "404 alike"). The time of the answer told them apart: another
agency's task on a branch the reader's path view hides, or a task or case of a case they do
not see, was found, its case's standing (and the path view's consents, openings and process
version) read, and only then refused; an id no row has was refused after the first statement.
So a reader who held a task's id (shown before a consent was withdrawn) learnt that it was still
there, 0.5-7 ms later than a made-up id. Now whether the reader sees the case is decided in the
statement that finds the row (a row of a case they do not see is no row), a case's standing is
read by its id before its row, and the path view reads nothing the statement did not bring:
both 404s run the same statements, in the same order, of the same shape."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.test_gateway_inference_lists import BRANCH, _two_cases
from tests.clients import api, web
from workflows.models import Task

# The statements are compared as PostgreSQL is sent them: SQLite reads the policy in statements
# of its own (``selectors.folds_rows``), and this file's tests did not hold there before either.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

MISSING_TASK = 987_654_321  # a key no task has (``reverse`` writes its public id)
MISSING_CASE = 987_654
POST = {"data": {"data": {"noted": True}}, "format": "json"}

TASK_ROUTES = [
    ("api", "get", "api-task", {}),
    ("api", "post", "api-task-complete", POST),
    ("api", "post", "api-task-claim", {}),
    ("api", "post", "api-task-unclaim", {}),
    ("web", "get", "task", {}),
    ("web", "post", "task", {"data": {"noted": "on"}}),
    ("web", "post", "task-claim", {}),
]
CASE_ROUTES = [
    ("api", "get", "api-case", {}),
    ("api", "get", "api-case-timeline", {}),
    ("web", "get", "case", {}),
]


@pytest.fixture
def branch(users, agencies):
    """The treatment branch's tasks are the housing office's; NAV (health masked) reads."""
    return _two_cases(users, agencies, "Boligkontakt", "NAV")


def shape(sql: str) -> str:
    """A statement without its values: the same shape for any ids, times and savepoints."""
    sql = re.sub(r'"s\d+_x\d+"', "SP", sql)
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    return re.sub(r"\b\d+(\.\d+)?\b", "?", sql)


def statements(client, method: str, url: str, kwargs: dict) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        answer = getattr(client, method)(url, **kwargs)
    return answer.status_code, [shape(query["sql"]) for query in captured.captured_queries]


def differences(user, routes, real: int, missing: int) -> list:
    clients = {"api": api(user), "web": web(user)}
    found = []
    for kind, method, name, kwargs in routes:
        client = clients[kind]
        real_url, missing_url = reverse(name, args=[real]), reverse(name, args=[missing])
        statements(client, method, missing_url, kwargs)  # the session's first request writes it
        seen = statements(client, method, real_url, kwargs)
        unknown = statements(client, method, missing_url, kwargs)
        assert seen[0] == unknown[0] == 404, (name, method, seen[0], unknown[0])
        if seen[1] != unknown[1]:
            found.append((method, name, len(seen[1]), len(unknown[1])))
    return found


def test_a_task_on_a_branch_hidden_from_the_reader_answers_after_the_statements_of_no_task(branch, users):
    """NAV (health masked) sees the case; the housing office's task on the treatment branch
    is hidden from it (``PathView``), read or worked."""
    hidden = Task.objects.filter(case=branch["yes"], element_id__in=BRANCH).first()
    assert differences(users["nils"], TASK_ROUTES, hidden.pk, MISSING_TASK) == []


@pytest.mark.parametrize("username", ["mona", "oscar"])
def test_a_task_of_a_case_the_reader_does_not_see_answers_after_the_statements_of_no_task(branch, users, username):
    task = Task.objects.filter(case=branch["yes"], element_id__in=BRANCH).first()
    assert differences(users[username], TASK_ROUTES, task.pk, MISSING_TASK) == []


@pytest.mark.parametrize("username", ["mona", "oscar"])
def test_a_case_the_reader_does_not_see_answers_after_the_statements_of_no_case(branch, users, username):
    assert differences(users[username], CASE_ROUTES, branch["yes"].pk, MISSING_CASE) == []


# Routes whose every answer but a 404 rests on a role of the reader standing in the case (its
# access log: coordinators and auditors; erasure, export and corrections: the coordinator, or
# whoever works the case). Until h-attack21 they read the case's row first and the reader's
# standing only when there was a row: a member of an agency with no part in the case got a
# 404 after three statements for a case that exists and after two for an id no case has.
STANDING_ROUTES = [
    ("api", "get", "api-case-access-log", {}),
    # h-attack27: the retention answer read the case's row first too.
    ("api", "get", "api-case-retention", {}),
    ("web", "get", "case-retention", {}),
    ("api", "get", "api-person-access-report", {}),
    ("api", "post", "api-case-erasure", {"data": {"reason": "The person asked for it."}, "format": "json"}),
    ("api", "post", "api-case-archive-export", {}),
    ("api", "post", "api-case-corrections", {"data": {"field": "noted", "value": 1, "reason": "R."}, "format": "json"}),
    (
        "api",
        "post",
        "api-case-corrections",
        {"data": {"field": "noted", "value": 1, "reason": "R.", "of": "earlier"}, "format": "json"},
    ),
    ("web", "get", "person-access-report", {}),
    ("web", "post", "case-correction", {"data": {"field": "noted", "value": "1", "reason": "R."}}),
    ("web", "post", "case-erasure", {"data": {"reason": "The person asked for it."}}),
    ("web", "post", "case-archive-export", {}),
]


@pytest.mark.parametrize("username", ["mona", "oscar"])
def test_a_case_the_reader_has_no_part_in_answers_its_standing_routes_after_the_statements_of_no_case(
    branch, users, username
):
    assert differences(users[username], STANDING_ROUTES, branch["yes"].pk, MISSING_CASE) == []


@pytest.mark.parametrize("username", ["mona", "oscar"])
def test_a_consent_of_a_case_the_reader_does_not_see_answers_after_the_statements_of_no_consent(
    branch, users, agencies, consent_basis, username
):
    """``POST /consents/{id}/revoke/`` found the consent, then read the reader's standing in its
    case and refused: one statement more than for an id no consent has (until h-attack21)."""
    from permissions.models import Consent

    case = branch["yes"]
    consent = Consent.objects.create(
        person=case.person,
        case=case,
        agency=agencies["nav"],
        categories=["health"],
        purpose="Bolig",
        legal_basis=consent_basis,
        recorded_by=users["helga"],
    )
    routes = [("api", "post", "api-consent-revoke", {})]
    assert differences(users[username], routes, consent.pk, MISSING_CASE) == []
    consent.refresh_from_db()
    assert consent.revoked_at is None


@pytest.mark.parametrize("username", ["mona", "oscar"])
def test_a_message_to_a_case_the_sender_does_not_see_answers_after_the_statements_of_no_case(branch, users, username):
    """``POST /messages/`` by ``case_reference`` found the case, then read the sender's standing
    in it and refused: one statement more than for a reference no case has (until h-attack21),
    so a reference (numbered in order) told that its case was still there."""
    client = api(users[username])
    found = []
    for reference in (branch["yes"].reference, "BK-1999-000001", branch["yes"].reference):
        body = {"name": "housing_offer", "case_reference": reference}
        found.append(statements(client, "post", reverse("api-messages"), {"data": body, "format": "json"}))
    assert found[1][0] == found[2][0] == 404
    assert found[1][1] == found[2][1]


@pytest.fixture
def outsiders(agencies):
    """An auditor and a coordinator of agencies that take no part in the branch's cases: roles
    whose every answer about a case rests on their standing in it, read only for a case that is
    there when the case's row is read first."""
    from django.contrib.auth import get_user_model

    from permissions.models import Membership, Role

    made = {}
    for username, kind, role in (
        ("revisor-utenfor", "municipality", Role.AUDITOR),
        ("koordinator-utenfor", "prison", Role.COORDINATOR),
        ("veileder-i-saken", "nav", Role.MEMBER),  # opens an emergency access in the case
        ("boligkontakt-i-saken", "housing", Role.COORDINATOR),  # asks for a national id's correction
    ):
        user = get_user_model().objects.create_user(username)
        Membership.objects.create(user=user, agency=agencies[kind], role=role)
        made[username] = user
    return made


@pytest.mark.parametrize("username", ["revisor-utenfor", "koordinator-utenfor"])
def test_a_case_an_outside_auditor_or_coordinator_has_no_part_in_answers_after_the_statements_of_no_case(
    branch, outsiders, username
):
    """``GET /api/v1/cases/{id}/retention/`` and the retention page read the case's row and then
    asked whether the reader coordinates or audits it: for an auditor or coordinator of an agency
    outside the case that was a statement more for a case that exists than for an id no case has
    (h-attack27), so the time of the 404 told which case ids were there."""
    assert differences(outsiders[username], STANDING_ROUTES, branch["yes"].pk, MISSING_CASE) == []


ROW_ROUTES = {
    "break-glass": [
        ("api", "post", "api-break-glass-review", {"data": {"note": ""}, "format": "json"}),
        ("api", "post", "api-break-glass-end", {}),
        ("web", "post", "break-glass-reviewed", {"data": {"note": ""}}),
        ("web", "post", "break-glass-end", {}),
    ],
    "correction": [
        ("api", "post", "api-national-id-review", {"data": {"approve": True}, "format": "json"}),
        ("api", "post", "api-person-merge", {"data": {"merge": True}, "format": "json"}),
        ("web", "post", "national-id-review", {"data": {"approve": "true"}}),
        ("web", "post", "person-merge", {"data": {"merge": "true"}}),
    ],
    "erasure": [
        ("api", "post", "api-erasure-review", {"data": {"note": ""}, "format": "json"}),
        ("web", "post", "erasure-review", {"data": {"note": ""}}),
    ],
}


def _row(kind: str, case, outsiders, agencies):
    import datetime

    from django.utils import timezone

    from permissions.models import BreakGlass
    from retention.models import Correction, ErasureRecord

    now = timezone.now()
    if kind == "break-glass":
        return BreakGlass.objects.create(
            case=case,
            person_id=case.person_id,
            user=outsiders["veileder-i-saken"],
            agency=agencies["nav"],
            category="health",
            reason="Fare for liv: trenger opplysninger om helse nå",
            opened_at=now,
            expires_at=now + datetime.timedelta(hours=1),
        )
    if kind == "correction":
        return Correction.objects.create(
            case=case,
            field="person.national_id",
            category="identity",
            old_value=case.person.national_id,
            new_value="29822099635",
            reason="Feil nummer i søknaden",
            corrected_by=outsiders["boligkontakt-i-saken"],
            agency=agencies["housing"],
            corrected_at=now,
            status="waiting",
        )
    return ErasureRecord.objects.create(
        case=case,
        trigger="request",
        erased_at=now,
        rule="default",
        rule_category="identity",
        keep_years=1,
        legal_basis="personopplysningsloven",
        access_log_until=now,
    )


@pytest.mark.parametrize("kind", sorted(ROW_ROUTES))
@pytest.mark.parametrize("username", ["revisor-utenfor", "koordinator-utenfor"])
def test_a_row_of_a_case_an_outside_auditor_or_coordinator_has_no_part_in_answers_after_the_statements_of_no_row(
    branch, outsiders, agencies, kind, username
):
    """An emergency opening reviewed or ended, a national id decided, an erasure reviewed: each
    found its row, then read the reader's standing in its case and refused. For an auditor or
    coordinator of an agency outside the case, that was a statement or two more for a row that
    is there than for an id no row has (h-attack27): an outside auditor counted the municipality's
    emergency openings, erasures and national-id corrections as they came, by their ids."""
    row = _row(kind, branch["yes"], outsiders, agencies)
    assert differences(outsiders[username], ROW_ROUTES[kind], row.pk, MISSING_CASE) == []
