"""A cursor of one user's "mine" list (active tasks read from the claimant's index, h-mine)
tells no one else anything (h-attack37, checked: holds).

The claimant's list is read by another path than the other lists (``task_claimant_active``),
and its cursor is signed with the list's path alone, not the user nor the filters: a
colleague of the same agency, a user of another agency or a list filtered otherwise that is
given it reads their own rows after that position, never the claimant's, and a reversed
cursor gives their own first page. The cursor itself carries the last row's deadline and
public id, which its owner was shown."""

import pytest

from tests.ids import task_key
from workflows import services
from workflows.models import Task

from .test_cursor_pagination import BASE, _clone, nav_tasks  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

MINE = "/api/v1/tasks/?assigned=me&status=active&page_size=1"


def _claimed_by_nils(users, case):
    tasks = list(Task.objects.filter(case=case, agency__kind="nav", status="open").order_by("id"))
    for task in tasks:
        services.claim_task(actor=users["nils"], task_id=task.pk)
    return {task.pk for task in tasks}


def _ids(answer):
    assert answer.status_code == 200, answer.content
    return [task_key(row["id"]) for row in answer.json()["results"]]


def test_a_mine_cursor_followed_by_others_shows_them_only_their_own_rows(client_for, users, nav_tasks):  # noqa: F811
    claimed = _claimed_by_nils(users, nav_tasks)
    first = client_for("nils").get(MINE).json()
    assert first["next"] and {task_key(row["id"]) for row in first["results"]} <= claimed

    # nora (NAV too, the same cases) and siri (the hospital) follow nils's link: nothing of his.
    for other in ("nora", "siri"):
        assert _ids(client_for(other).get(first["next"])) == []
    # nora's own claim, after nils's position: hers alone.
    own = Task.objects.filter(case=nav_tasks, agency__kind="nav", due_at__isnull=True).order_by("id").last()
    services.unclaim_task(actor=users["nils"], task_id=own.pk)
    services.claim_task(actor=users["nora"], task_id=own.pk)
    assert set(_ids(client_for("nora").get(first["next"]))) <= {own.pk}

    # Walked back from nils's second page, nora gets her own first page, whole.
    second = client_for("nils").get(first["next"]).json()
    back = client_for("nora").get(second["previous"])
    assert _ids(back) == _ids(client_for("nora").get(MINE))


def test_a_mine_cursor_on_the_agency_list_shows_only_what_that_list_shows(client_for, users, nav_tasks):  # noqa: F811
    _claimed_by_nils(users, nav_tasks)
    link = client_for("nils").get(MINE).json()["next"]
    cursor = link.split("cursor=")[1].split("&")[0]
    for user in ("nora", "siri", "kari"):
        answer = client_for(user).get(f"/api/v1/tasks/?assigned=agency&status=active&cursor={cursor}")
        if answer.status_code == 400:  # another order: refused, naming the cursor only
            assert [error["field"] for error in answer.json()["errors"]] == ["cursor"]
            continue
        seen = _ids(answer)
        own = set(
            Task.objects.filter(agency__memberships__user=users[user], status__in=("open", "claimed")).values_list(
                "id", flat=True
            )
        )
        assert set(seen) <= own
