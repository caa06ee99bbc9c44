"""complete/claim/unclaim: checks, per-field errors, conflicts, atomicity."""

import pytest
from django.db import connection

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.threads import all_at_once
from workflows import services, steps
from workflows.models import Case, Event, EventKind, ProcessInstance, Task, TaskStatus

from .helpers import complete, form_data, open_tasks, start_prison_case


def test_invalid_data_answers_per_field_and_changes_nothing(case, users):
    (task,) = open_tasks(case)
    data = form_data(task)
    data["has_home"] = "maybe"
    del data["expected_release_date"]
    data["favourite_colour"] = "blue"
    with pytest.raises(InvalidInput) as raised:
        services.complete_task(actor=users["kari"], task_id=task.pk, data=data)
    fields = {error["field"]: error["message"] for error in raised.value.errors}
    assert len(raised.value.errors) == len(fields) == 3  # one error per field, no repeats
    assert set(fields) == {"has_home", "expected_release_date", "favourite_colour"}
    assert "boolean" in fields["has_home"]
    assert "required" in fields["expected_release_date"]
    assert "unknown field" in fields["favourite_colour"]
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert not Event.objects.filter(case=case, kind=EventKind.TASK_COMPLETED).exists()


def test_only_the_lane_agency_completes_and_others_do_not_see_it(case, users):
    (task,) = open_tasks(case)
    with pytest.raises(Forbidden):  # NAV participates, so sees the task, but it is the prison's
        services.complete_task(actor=users["nils"], task_id=task.pk, data=form_data(task))
    for outsider in ("oscar", "siri", "ada", "aud"):  # no case role in a participating agency
        with pytest.raises(NotFound):
            services.complete_task(actor=users[outsider], task_id=task.pk, data=form_data(task))
    with pytest.raises(NotFound):
        services.complete_task(actor=users["kari"], task_id=999_999, data={})


def test_completed_task_answers_conflict(case, users):
    (task,) = open_tasks(case)
    complete(task, actor=users["kari"])
    with pytest.raises(Conflict):
        complete(task, actor=users["kari"])


def test_claimed_task_is_reserved_for_its_claimant(nav_task, users):
    services.claim_task(actor=users["nils"], task_id=nav_task.pk)
    with pytest.raises(Conflict, match="claimed by Nils NAV-veileder"):
        complete(nav_task, actor=users["nora"])
    with pytest.raises(Conflict):
        services.unclaim_task(actor=users["nora"], task_id=nav_task.pk)
    services.unclaim_task(actor=users["nils"], task_id=nav_task.pk)
    complete(nav_task, actor=users["nora"])
    nav_task.refresh_from_db()
    assert nav_task.completed_by == users["nora"]
    kinds = list(Event.objects.filter(task=nav_task).values_list("kind", flat=True))
    assert kinds[-3:] == [EventKind.TASK_CLAIMED, EventKind.TASK_UNCLAIMED, EventKind.TASK_COMPLETED]


def test_failure_in_the_middle_of_a_step_leaves_no_partial_state(case, users, monkeypatch):
    (task,) = open_tasks(case)
    instance = ProcessInstance.objects.get(case=case)

    def broken_sync(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(steps.runner, "sync_tasks", broken_sync)
    with pytest.raises(RuntimeError):
        complete(task, {"has_home": False}, actor=users["kari"])

    task.refresh_from_db()
    after = ProcessInstance.objects.get(pk=instance.pk)
    assert task.status == TaskStatus.OPEN and task.completed_by is None
    assert (after.state, after.version) == (instance.state, instance.version)
    assert Case.objects.get(pk=case.pk).data == {}
    assert not Event.objects.filter(case=case, kind=EventKind.TASK_COMPLETED).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_users_complete_the_same_task_at_once_exactly_one_wins(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    task = next(t for t in open_tasks(case) if t.agency.kind == "nav")
    data = form_data(task)
    version_before = ProcessInstance.objects.get(case=case).version

    outcomes = all_at_once(
        [
            lambda name=name: services.complete_task(actor=users[name], task_id=task.pk, data=data)
            for name in ("nils", "nora")
        ]
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "Task"]
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
    assert Event.objects.filter(task=task, kind=EventKind.TASK_COMPLETED).count() == 1
    assert ProcessInstance.objects.get(case=case).version == version_before + 1
    # The other two branches are untouched and still open.
    assert {t.agency.kind for t in open_tasks(case)} == {"health", "housing"}
    assert Task.objects.filter(case=case).count() == 4
    assert connection.vendor == "postgresql"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_branches_completed_at_once_lose_no_case_data(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    by_kind = {t.agency.kind: t for t in open_tasks(case)}
    work = {"nils": by_kind["nav"], "helga": by_kind["health"], "bjorn": by_kind["housing"]}
    payloads = {name: form_data(task) for name, task in work.items()}

    outcomes = all_at_once(
        [
            lambda name=name: services.complete_task(actor=users[name], task_id=work[name].pk, data=payloads[name])
            for name in work
        ]
    )

    assert [outcome for outcome in outcomes if isinstance(outcome, Exception)] == []
    data = Case.objects.get(pk=case.pk).data
    for payload in payloads.values():
        for field, value in payload.items():
            assert data[field] == value, field
    # The join fired once: exactly one "find a home" task follows the three branches.
    assert [t.element_id for t in open_tasks(case)] == ["Task_find_home"]
