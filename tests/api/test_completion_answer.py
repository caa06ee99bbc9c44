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
