"""``python -m bench.http --history-cases N`` loads a live database's history before the node starts.

A live municipality's tables hold years of cases; the bench's started empty, so its server
planned on tables of a page or two (README, "Production server"). The history is
``bench.scale``'s rows in its own agencies: the bench's clients, members of other agencies,
still find only their own cases' tasks in their inboxes, one page.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from bench.http import server
from bench.http.cases import NATIONAL_IDS
from bench.http.history import load_history
from permissions.models import Agency, AgencyKind, CaseParticipant, Membership, Role
from tests.ids import tid
from workflows.models import Case, ProcessInstance, Task, TaskStatus
from workflows.services import start_case

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

KINDS = ("prison", "nav", "health", "housing")
HISTORY = 300  # cases: 1,000 tasks (3.33 a case, as the bench's 30,000 and 100,000)


def _workers() -> dict[str, object]:
    """An agency of each kind with one worker, as the demo cast's (kind -> user)."""
    workers = {}
    for kind in KINDS:
        group = Group.objects.create(name=f"agency:Historietest {kind}")
        agency = Agency.objects.create(name=f"Historietest {kind}", kind=kind, group=group)
        user = get_user_model().objects.create_user(username=f"historietest-{kind}", password="x")
        role = Role.COORDINATOR if kind == AgencyKind.HOUSING else Role.MEMBER
        Membership.objects.create(user=user, agency=agency, role=role)
        user.groups.add(group)
        workers[kind] = user
    return workers


def _database_url() -> str:
    settings = connection.settings_dict
    user, host, port = settings["USER"] or "", settings["HOST"] or "localhost", settings["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


def test_the_history_is_loaded_whole_and_the_clients_see_only_their_own_cases(shipped):
    workers = _workers()
    participants = server.demo_participants(_database_url(), {kind: user.username for kind, user in workers.items()})
    assert participants == {kind: Agency.objects.get(name=f"Historietest {kind}").pk for kind in KINDS}
    ours = start_case(
        actor=workers["prison"],
        process_key="prison_release_to_housing",
        person={"name": "Historietest Person", "national_id": NATIONAL_IDS[0]},
        participants=participants,
    )
    our_tasks = set(Task.objects.filter(case=ours, status=TaskStatus.OPEN).values_list("pk", flat=True))

    facts = load_history(HISTORY)

    history = Case.objects.filter(reference__startswith="BK-S-")
    assert facts["history_cases"] == HISTORY == history.count()
    assert Task.objects.filter(case__in=history).count() == 1000
    assert facts["history_tasks"] == Task.objects.count()
    assert facts["cases_in_database"] == Case.objects.count()
    # Consistent as steps would have left it: every case an instance and its participants
    # with their grants; an open case one task waiting, a closed one none; a task's agency
    # takes part in its case.
    assert ProcessInstance.objects.filter(case__in=history).count() == HISTORY
    assert not history.filter(participants__isnull=True).exists()
    active = (TaskStatus.OPEN, TaskStatus.CLAIMED)
    waiting = Task.objects.filter(case__in=history, status__in=active)
    assert waiting.count() == history.filter(status="open").count() > 0
    assert not Task.objects.filter(case__in=history.filter(status="completed"), status__in=active).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM workflows_task t WHERE NOT EXISTS (
                   SELECT 1 FROM workflows_caseparticipant p
                   WHERE p.case_id = t.case_id AND p.agency_id = t.agency_id)"""
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            """SELECT count(*) FROM workflows_caseparticipant p JOIN permissions_agency a ON a.id = p.agency_id
               WHERE NOT EXISTS (SELECT 1 FROM permissions_casegroupobjectpermission g
                                 WHERE g.content_object_id = p.case_id AND g.group_id = a.group_id)"""
        )
        assert cursor.fetchone()[0] == 0
        # Analyzed: the node's connections plan on statistics of these sizes.
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'workflows_task'")
        assert cursor.fetchone()[0] >= 1000
    assert not CaseParticipant.objects.filter(case__in=history, agency__in=participants.values()).exists()

    # Each worker's inbox lists its own case's open tasks and nothing of the history: one page.
    listed = set()
    for user in workers.values():
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
        answer = api.get(reverse("api-tasks"), {"assigned": "agency", "status": "active"})
        assert answer.status_code == 200, answer.content
        page = answer.json()
        assert page["next"] is None
        assert {row["case"]["id"] for row in page["results"]} <= {ours.pk}
        listed |= {row["id"] for row in page["results"]}
    assert listed == {tid(key) for key in our_tasks}
