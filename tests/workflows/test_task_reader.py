"""The task-reader index (``workflows.models.TaskReader``: a task once for each agency taking
part in its case, kept by PostgreSQL's triggers) narrows a one-agency reader's task lists; it
never decides who sees a row. Kept right through the steps and every change of a case's
participants, and the lists read from it give exactly the rows the rules allow: those of the
lists read without it, none of a case whose agency lost its grant, left it, or never took part."""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from bench.scale.load import username
from permissions import grants, rules
from permissions.models import Agency, AgencyKind, CaseGroupObjectPermission, CaseParticipant, Membership, Role
from tests.loaded import loaded_once
from workflows.filters import TaskFilter
from workflows.models import Task, TaskStatus
from workflows.task_lists import TaskListing

from .helpers import complete, open_tasks, start_prison_case

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FILTERS = [
    {},
    {"overdue": "true"},
    {"status": "active"},
    {"status": "open"},
    {"status": "completed"},
    {"overdue": "false"},
    {"assigned": "agency", "status": "active"},
    {"assigned": "me"},
    {"responsible": "me"},
]
EVERY = 100_000  # a whole list, not a page


def stored() -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT task_id, agency_id, due_at, active FROM workflows_taskreader")
        return set(cursor.fetchall())


def expected() -> set[tuple]:
    """What the index must hold, from the tasks and the participations themselves."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT t.id, p.agency_id, t.due_at, t.status IN ('open', 'claimed') FROM workflows_task t"
            " JOIN workflows_caseparticipant p ON p.case_id = t.case_id"
        )
        return set(cursor.fetchall())


def new_agency(name: str) -> Agency:
    return Agency.objects.create(name=name, kind=AgencyKind.NAV, group=Group.objects.create(name=f"agency:{name}"))


def test_it_follows_the_tasks_and_the_participants(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    assert stored() == expected() and stored()
    for _ in range(4):  # real steps: tasks created, claimed, completed
        tasks = open_tasks(case)
        if not tasks:
            break
        complete(tasks[-1], {"has_home": False, "home_found": True})
        assert stored() == expected()
    task = Task.objects.filter(case=case).first()
    Task.objects.filter(pk=task.pk).update(due_at=None)  # a deadline moved
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.CANCELLED)
    assert stored() == expected()
    other_nav = new_agency("NAV Fredrikstad")
    grants.add_participant(case, "nav", other_nav)  # the part played by another agency
    assert stored() == expected() and any(row[1] == other_nav.pk for row in stored())
    grants.remove_participant(case, "nav")  # it leaves the case
    assert stored() == expected() and not any(row[1] == other_nav.pk for row in stored())
    Task.objects.filter(case=case).delete()
    assert stored() == expected() == set()


loaded = loaded_once(cases=900, tasks=3000)


def listing(user, filters, **options) -> list[Task]:
    filterset = TaskFilter(filters, queryset=Task.objects.none(), request=SimpleNamespace(user=user))
    assert filterset.is_valid()
    return TaskListing(user, filterset, **options)[0:EVERY]


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def readers():
    kinds = [("nav", 0), ("nav", 19), ("housing", 0), ("prison", 9), ("hospital", 4), ("health", 0)]
    return [get_user_model().objects.get(username=username(kind, index)) for kind, index in kinds]


def test_the_lists_read_from_it_give_the_rows_of_the_lists_without_it(loaded, monkeypatch):
    """Equivalence: every reader, every filter, both orders; each row one the rules allow."""
    without = {}
    for user in readers():
        assert rules.task_reader_agency(fresh(user)) is not None
        for filters in FILTERS:
            for descending in (False, True):
                without[user.pk, str(filters), descending] = listing(fresh(user), filters, descending=descending)
    monkeypatch.setattr(rules, "task_reader_agency", lambda user: None)  # the lists as before
    for user in readers():
        for filters in FILTERS:
            for descending in (False, True):
                rows = listing(fresh(user), filters, descending=descending)
                assert rows == without[user.pk, str(filters), descending], (user.username, filters)
                assert all(rules.can_view_task(fresh(user), task) for task in rows[:30])


def test_no_row_of_a_case_whose_agency_lost_its_grant_left_it_or_never_took_part(loaded):
    quiet = get_user_model().objects.get(username=username("nav", 19))
    agency = Membership.objects.get(user=quiet).agency
    # The cases of the first rows of every list: those a leak would show first.
    cases = {rows[0].case_id for filters in FILTERS if (rows := listing(fresh(quiet), filters))}
    assert len(cases) >= 2
    ungranted, left = sorted(cases)[0], sorted(cases)[1:]
    # Takes part without the grant: its index rows stay, the rule refuses them.
    CaseGroupObjectPermission.objects.filter(content_object_id=ungranted, group_id=agency.group_id).delete()
    # Left the case (the grant kept): its index rows go with the participation.
    CaseParticipant.objects.filter(case_id__in=left, agency=agency).delete()
    assert stored() == expected()
    for filters in FILTERS:
        for descending in (False, True):
            rows = listing(fresh(quiet), filters, descending=descending)
            assert not cases & {task.case_id for task in rows}, filters
    # Another agency's participant (the busiest NAV office, in none of these cases as NAV)
    # and a NAV office in no case at all see none of them either.
    busy = get_user_model().objects.get(username=username("nav", 0))
    assert not CaseParticipant.objects.filter(case_id__in=cases, agency__memberships__user=busy).exists()
    outsider_agency = new_agency("NAV utenfor")
    outsider = get_user_model().objects.create_user("utenfor")
    Membership.objects.create(user=outsider, agency=outsider_agency, role=Role.MEMBER)
    for filters in FILTERS:
        assert not cases & {task.case_id for task in listing(fresh(busy), filters)}, filters
        assert listing(fresh(outsider), filters) == [], filters
