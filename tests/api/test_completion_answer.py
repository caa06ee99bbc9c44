"""The completion's answer names the case's next tasks its reader may see: those the lists'
rule gives them, and those their exact path view opens (by a consent, or by data they see),
decided from the rows the answer's one statement read."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.ids import tid
from tests.workflows.helpers import PERSON, PRISON_PARTICIPANTS, form_data, open_tasks
from workflows import selectors, services
from workflows.models import Task

pytestmark = pytest.mark.django_db


def started(users, agencies):
    case = services.start_case(
        actor=users["kari"],
        process_key="prison_release_to_housing",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
    )
    (intake,) = open_tasks(case)
    services.complete_task(actor=users["kari"], task_id=intake.pk, data=form_data(intake))
    return case


def nav_completes(client_for, case):
    task = Task.objects.get(case=case, agency__kind="nav", status="open")
    client, body = client_for("nils"), {"data": form_data(task)}
    with CaptureQueriesContext(connection) as context:
        answer = client.post(f"/api/v1/tasks/{tid(task.pk)}/complete/", body, format="json")
    assert answer.status_code == 200, answer.content
    return sorted(row["id"] for row in answer.json()["open_tasks"]), [q["sql"] for q in context.captured_queries]


def as_the_case_page_decides(users, case):
    case.refresh_from_db()
    seen = selectors.path_view_for(users["nils"], case).tasks(selectors.open_case_tasks(case))
    return sorted(tid(task.pk) for task in seen)


@pytest.mark.parametrize("consented", [(), ("health",), ("health", "housing")])
def test_the_answer_names_the_tasks_the_readers_path_view_shows(
    users, agencies, shipped, consent_basis, client_for, consented
):
    case = started(users, agencies)
    if consented:
        services.record_consent(
            actor=users["bjorn"],  # the housing coordinator
            case=case,
            agency=agencies["nav"],
            categories=list(consented),
            purpose="Bolig etter løslatelse",
            legal_basis=consent_basis,
        )
    named, _statements = nav_completes(client_for, case)
    assert named == as_the_case_page_decides(users, case)
    assert bool(named) == (consented == ("health", "housing"))  # both held back, then both named


@pytest.mark.postgres  # the policy's rows fold into the tasks' statement on PostgreSQL only
def test_a_task_held_back_costs_the_answer_no_statement_of_its_own(users, agencies, shipped, client_for):
    """Before, the answer then read the case's version, the consents and the reader's
    break-glass openings one statement each."""
    case = started(users, agencies)
    named, statements = nav_completes(client_for, case)
    assert named == []  # held back: the health service's and the housing office's tasks
    own_reads = tuple(
        f'SELECT "{table}"' for table in ("permissions_consent", "permissions_breakglass", "workflows_processinstance")
    )
    separate = [sql for sql in statements if sql.startswith(own_reads)]
    # The token, the user's rate limit (accounts.rate_limit), the locked task with the reader's
    # standing, the step's batch, the tasks.
    assert separate == [] and len(statements) <= 7, statements


@pytest.mark.postgres  # the step's batch is one pipelined statement on PostgreSQL only
def test_the_answers_tasks_are_read_in_the_steps_last_batch(users, agencies, shipped, client_for):
    """A case start's and a completion's answer name the tasks the step has just created, read
    after its writes in its last batch (``selectors.OpenTasksRead``), not in a statement of
    their own after the commit; what they name is what a read after the commit gives."""
    kari = client_for("kari")
    body = {
        "process_key": "prison_release_to_housing",
        "person": PERSON,
        "participants": {kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
    }
    kari.post("/api/v1/cases/", body, format="json")  # the caches
    with CaptureQueriesContext(connection) as context:
        answer = kari.post("/api/v1/cases/", body, format="json")
    assert answer.status_code == 201, answer.content
    case = Task.objects.filter(case__reference=answer.json()["reference"]).first().case
    (intake,) = open_tasks(case)
    assert [row["id"] for row in answer.json()["open_tasks"]] == [tid(intake.pk)]
    statements = [query["sql"] for query in context.captured_queries]
    own_reads = [sql for sql in statements if sql.startswith('SELECT "workflows_task"')]
    in_batch = [sql for sql in statements if 'INSERT INTO "workflows_event"' in sql and 'FROM "workflows_task"' in sql]
    assert own_reads == [] and len(in_batch) == 1, statements

    with CaptureQueriesContext(connection) as context:
        done = kari.post(f"/api/v1/tasks/{tid(intake.pk)}/complete/", {"data": form_data(intake)}, format="json")
    assert done.status_code == 200, done.content
    statements = [query["sql"] for query in context.captured_queries]
    # The first round trip reads the locked task (``rows.lock_and_complete``): no other task read.
    own_reads = [sql for sql in statements if sql.startswith('SELECT "workflows_task"') and "FOR UPDATE" not in sql]
    in_batch = [sql for sql in statements if 'INSERT INTO "workflows_event"' in sql and 'FROM "workflows_task"' in sql]
    assert own_reads == [] and len(in_batch) == 1, statements
    after_commit = selectors.case_tasks_for(users["kari"], Task.objects.get(pk=intake.pk).case)
    assert sorted(row["id"] for row in done.json()["open_tasks"]) == sorted(tid(task.pk) for task in after_commit)
    assert len(open_tasks(case)) == 3  # NAV's, the health service's and the housing office's, created by the step
