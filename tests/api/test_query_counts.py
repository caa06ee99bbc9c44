"""Every API read answers in a number of queries that does not grow with the rows
(issue 12, point 4): read at N and at 3N rows (``tests.query_counts``), same count.

``test_every_read_route_is_counted`` fails when a GET route is added without a line here.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from permissions.models import Membership, Role
from tests.ids import tid
from tests.query_counts import Growth, assert_counts_do_not_grow, count_queries
from tests.workflows.helpers import form_data

pytestmark = pytest.mark.django_db

CASE = "/api/v1/cases/{g.subject.pk}/"


ROUTES = {
    "api-agencies": [("nils", "/api/v1/agencies/")],
    "api-legal-bases": [("bjorn", "/api/v1/legal-bases/"), ("ada", "/api/v1/legal-bases/?include_retired=true")],
    "api-legal-basis": [("ada", "/api/v1/legal-bases/{g.legal_basis.pk}/")],
    "api-process-definitions": [("nils", "/api/v1/process-definitions/")],
    "api-process-definition": [("nils", "/api/v1/process-definitions/prison_release_to_housing/")],
    "api-process-definition-version": [("nils", "/api/v1/process-definitions/prison_release_to_housing/versions/1/")],
    "api-cases": [
        ("nils", "/api/v1/cases/"),
        ("nils", "/api/v1/cases/?status=open&process_key=prison_release_to_housing"),
        ("bjorn", "/api/v1/cases/?overdue=false"),
        ("helga", "/api/v1/cases/?agency=1"),
    ],
    "api-case": [("nils", CASE), ("bjorn", CASE)],
    "api-case-timeline": [("nils", CASE + "timeline/")],
    "api-case-diagram": [("nils", CASE + "diagram/")],
    "api-case-consents": [("bjorn", CASE + "consents/")],
    "api-case-access-log": [("bjorn", CASE + "access-log/"), ("aud", CASE + "access-log/")],
    "api-case-break-glass": [("bjorn", CASE + "break-glass/"), ("aud", CASE + "break-glass/")],
    "api-break-glass-review-list": [("aud", "/api/v1/break-glass/")],
    "api-person-access-report": [("bjorn", CASE + "person-access-report/")],
    "api-case-notes": [("nils", CASE + "notes/"), ("helga", CASE + "notes/")],
    "api-case-note": [("nils", CASE + "notes/{note.pk}/")],
    "api-case-attachments": [("nils", CASE + "attachments/"), ("bjorn", CASE + "attachments/")],
    "api-attachment-content": [("nils", CASE + "attachments/{attachment.pk}/content/")],
    "api-tasks": [
        ("nils", "/api/v1/tasks/"),
        ("nils", "/api/v1/tasks/?assigned=agency&status=active"),
        ("nils", "/api/v1/tasks/?assigned=me"),
        ("helga", "/api/v1/tasks/?overdue=true"),
        ("bjorn", "/api/v1/tasks/?case={g.subject.pk}"),
    ],
    "api-task": [("nils", "/api/v1/tasks/{g.open_task.public_id}/")],
    "api-caseload": [("bjorn", "/api/v1/caseload/")],
    "api-case-person": [("nils", CASE + "person/"), ("bjorn", CASE + "person/")],
    "api-case-retention": [("bjorn", CASE + "retention/"), ("aud", CASE + "retention/")],
    "api-incidents": [("ada", "/api/v1/incidents/"), ("ada", "/api/v1/incidents/?resolved=false")],
    "api-retention-rules": [("ada", "/api/v1/retention-rules/"), ("aud", "/api/v1/retention-rules/")],
    "api-retention-rule": [("aud", "/api/v1/retention-rules/{g.retention_rule.pk}/")],
    "api-retention-rule-changes": [("aud", "/api/v1/retention-rules/changes/")],
}
# Not lists of rows: the schema and its documentation page are built from the code. The
# migration preview counts every running case of a version (it needs a second version, which
# the shipped processes lack): its statements are counted at one case and at five in
# tests/api/test_migration_preview_counts.py.
NOT_COUNTED = {"api-schema", "api-docs", "api-process-version-migration"}
# POST only.
WRITES = {
    "api-token",
    "api-token-revoke",
    "api-token-revoke-all",
    "api-case-note-correct",
    "api-note-correct",
    "api-note-withdraw",
    "api-note-confirm",
    "api-attachment-withdraw",
    "api-attachment-confirm",  # a write: tests/api/test_safety_attachment_confirmation.py
    "api-consent-revoke",
    "api-break-glass-review",
    "api-break-glass-end",  # counted in tests/api/test_break_glass_end.py
    "api-legal-basis-retire",
    "api-task-claim",
    "api-task-unclaim",
    "api-task-complete",
    "api-case-responsible",
    "api-task-reassign",
    "api-messages",
    "api-incident-retry",
    "api-incident-data",
    "api-case-follow-on",
    "api-case-safety-confirmations",  # a write: tests/api/test_safety_warnings.py
    "api-case-withdrawals",  # counted in tests/api/test_agency_withdrawal.py (its case's rows)
    "api-case-erasure",
    "api-case-archive-export",
    "api-case-corrections",
    "api-erasure-review",
    "api-national-id-review",
    "api-person-merge",
    "api-external-fetch",
    "api-external-complete",
    "api-external-failure",
}


def _route_names(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _route_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


@pytest.fixture
def housing_lead(users, agencies):
    """bjorn also leads the housing office: the caseload is the lead's."""
    Membership.objects.create(user=users["bjorn"], agency=agencies["housing"], role=Role.LEAD)


def test_every_read_route_is_counted():
    api = {name for name in _route_names(get_resolver().url_patterns) if name.startswith("api-")}
    assert api - WRITES - NOT_COUNTED == set(ROUTES)


def test_no_api_read_grows_with_the_rows(users, agencies, shipped, consent_basis, client_for, housing_lead):
    routes = [route for lines in ROUTES.values() for route in lines]
    assert_counts_do_not_grow(Growth(users, agencies, consent_basis), client_for, routes)


@pytest.mark.postgres  # the statement count is PostgreSQL's: SQLite sends the step's batch one by one
def test_completing_a_task_reads_no_field_again(users, agencies, shipped, consent_basis, client_for):
    """The answer is built from the rows the service locked and read: before, it read six
    deferred fields of the task and the case one query each (16 queries)."""
    growth = Growth(users, agencies, consent_basis)
    task = growth.open_task
    client = client_for("nils")
    with CaptureQueriesContext(connection) as context:
        response = client.post(f"/api/v1/tasks/{tid(task.pk)}/complete/", {"data": form_data(task)}, format="json")
    assert response.status_code == 200, response.content
    statements = [query["sql"] for query in context.captured_queries]
    one_field = re.compile(r'^SELECT "workflows_(task|case)"\."id", "workflows_\1"\."\w+" FROM')
    single_field_reads = [sql for sql in statements if one_field.match(sql)]
    # 8 (10 before the completion's first round trip read the actor's memberships and their
    # standing in the case: the work rule and the answer's visibility check asked one each).
    # An open task of another agency on a path the rule of the lists across cases holds back
    # adds none since the answer's tasks are read with the case's version, consents and
    # openings, from which the reader's exact path view decides (selectors.case_tasks_for;
    # it added 3). 6 (7 before, the bound was 8) since those tasks are read in the step's last
    # batch, after its writes (selectors.OpenTasksRead), not in a statement of their own after
    # the commit.
    assert len(statements) <= 6 and not single_field_reads, statements
    # The memberships travel in the first round trip (with the locked task), not on their own.
    memberships_read = [sql for sql in statements if sql.startswith('SELECT "permissions_membership"')]
    assert not memberships_read, statements
    assert response.json()["task"]["lane"] and response.json()["case"]["reference"] == growth.subject.reference


def test_counting_sees_a_query_per_row(users, agencies, shipped, consent_basis, client_for, monkeypatch):
    """The check can fail: a serializer that reads each task's case again is caught."""
    from api import serializers

    def reference_read_again(self, task):
        return type(task.case).objects.get(pk=task.case_id).reference

    monkeypatch.setattr(serializers.TaskSerializer, "get_overdue", reference_read_again)
    with pytest.raises(AssertionError, match="grew with the rows"):
        assert_counts_do_not_grow(Growth(users, agencies, consent_basis), client_for, [("nils", "/api/v1/tasks/")])
    assert count_queries(client_for("nils"), "/api/v1/agencies/") > 0


@pytest.mark.postgres  # the statement count is PostgreSQL's: SQLite sends the step's batch one by one
def test_starting_a_case_reads_neither_its_participants_nor_its_tasks_back(users, agencies, shipped, client_for):
    """The case start grants access to the agencies it has just made participants (not read
    back from the table), and a new instance has no task rows to read before its first step.
    22 statements before issue 12's third pass, 17 after it, 15, and 14 since the rate limit's
    take rides on the token's statement (``accounts.tokens``; ``request_profile``), 12 since the
    answer's open tasks are read in the step's last batch (``selectors.OpenTasksRead``) and the
    grant's permission is a subquery of its insert (``permissions.grants``), 10 since the
    reference counter's upsert and the process instance's insert ride in the case's insert
    (``services.cases._insert_numbered``)."""
    from tests.workflows.helpers import PERSON, PRISON_PARTICIPANTS

    body = {
        "process_key": "prison_release_to_housing",
        "person": PERSON,
        "participants": {kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
    }
    kari = client_for("kari")
    assert kari.post("/api/v1/cases/", body, format="json").status_code == 201  # the token, the person, the caches
    with CaptureQueriesContext(connection) as context:
        response = kari.post("/api/v1/cases/", body, format="json")
    assert response.status_code == 201, response.content
    statements = [query["sql"] for query in context.captured_queries]
    participants_read = [sql for sql in statements if "SELECT DISTINCT" in sql and '"permissions_agency"' in sql]
    task_rows_read = [sql for sql in statements if sql.startswith('SELECT "workflows_task"."spiff_task_id"')]
    assert not participants_read and not task_rows_read, statements
    permission_read = [sql for sql in statements if sql.startswith('SELECT "auth_permission"')]
    assert not participants_read and not task_rows_read and not permission_read, statements
    counter_alone = [sql for sql in statements if sql.startswith('INSERT INTO "workflows_casereferencecounter"')]
    instance_alone = [sql for sql in statements if sql.startswith('INSERT INTO "workflows_processinstance"')]
    assert not counter_alone and not instance_alone, statements
    # 10, and the savepoint and its release that stand for BEGIN and COMMIT inside the test's transaction.
    assert len(statements) <= 12, "\n".join(statements)
    case_id = response.json()["id"]
    from permissions.models import CaseGroupObjectPermission

    granted = CaseGroupObjectPermission.objects.filter(content_object_id=case_id).values_list("group_id", flat=True)
    assert set(granted) == {agencies[kind].group_id for kind in PRISON_PARTICIPANTS}
