"""How many statements PostgreSQL runs for the completions of the shipped prison process,
the hot path of ``make bench``: pinned, so a statement added to it is a decision, not a drift.

A step's batch travels as one text to Django's execute wrappers (``rows.Batch``), its
statements joined with "; ": counted here one by one. Issue 12 asks that a completion cost
no more than on 2026-11-25 (37645a8): 58 statements for the walk below then (8.3 a
completion), 72 on main before h-perf2 (the actor's memberships read on their own, the
insight counters' upsert on its own), 58 again (the memberships read in the conditional
UPDATE's statement, the counters riding in the events' insert: ``rows._completing_with_memberships``,
``rows._ride``), 50 since h-perf21 (a new task's e-mail job rides in the events' insert
beside the counters, the instance's update in the new tasks' insert: ``rows._ride``,
``queue.enqueue_task_notifications``). The round trips are those of November too: 18.
"""

import pytest
from django.db import connection

from tests.workflows.helpers import form_data, open_tasks, start_prison_case, worker_for
from workflows import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The bench's choices (bench.service): no home yet, then a home found.
OVERRIDES = {"has_home": False, "home_found": True}


def _walk_counting(case) -> tuple[list[str], int, int]:
    """Complete the case's tasks in order, as the bench does; the elements completed and the
    statements and round trips of the ``complete_task`` calls alone."""
    elements, log = [], []

    def count(execute, sql, params, many, context):
        log.append(sql)
        return execute(sql, params, many, context)

    while tasks := open_tasks(case):
        task = tasks[0]
        actor, data = worker_for(task), form_data(task, OVERRIDES)
        with connection.execute_wrapper(count):
            services.complete_task(actor=actor, task_id=task.pk, data=data)
        elements.append(task.element_id)
    return elements, sum(len(sql.split("; ")) for sql in log), len(log)


def test_a_prison_case_s_completions_run_as_many_statements_as_in_november(shipped, users, agencies):
    _walk_counting(start_prison_case(users, agencies))  # warm: caches, prepared statements
    elements, statements, trips = _walk_counting(start_prison_case(users, agencies))
    assert elements == [
        "Task_intake_interview",
        "Task_economy_assessment",
        "Task_health_follow_up_plan",
        "Task_housing_application",
        "Task_find_home",
        "Task_confirm_release_date",
        "Task_move_in_follow_up",
    ]
    assert (statements, trips) == (50, 18)
