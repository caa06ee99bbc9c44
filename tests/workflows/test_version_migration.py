"""Moving running cases to a new version of their process (issue 14, point 6)."""

from datetime import timedelta

import pytest

from bpmn.services import deploy_definition
from core.errors import Forbidden, InvalidInput, NotFound
from workflows import services
from workflows.models import Event, EventKind, InstanceStatus, Job, JobKind, JobStatus, Task, VersionMigration
from workflows.services import versions

from .helpers import PERSON, complete, open_tasks
from .version_models import FORMS, model


def deploy(xml):
    return deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False).definition


def start(users, agencies):
    return services.start_case(
        actor=users["nils"], process_key="versioned", person=PERSON, participants={"nav": agencies["nav"].pk}
    )


@pytest.fixture
def v1(db):
    return deploy(model())


def test_preview_maps_each_waiting_task_and_changes_nothing(v1, users, agencies):
    case = start(users, agencies)
    instance = case.instances.get()
    state_before = instance.state
    deploy(model(a_name="Assess the need", with_c=True))

    plan = versions.migration_counts(actor=users["ada"], key="versioned", from_version=1)

    assert (plan.from_version, plan.to_version) == (1, 2)
    assert (plan.cases, plan.movable, plan.refused) == (versions.Count(1), versions.Count(1), versions.Count(0))
    (row,) = plan.standings
    ((waiting,), ()) = (row.waiting, row.problems)
    assert (waiting.element_id, waiting.new_element_id, row.cases) == ("Task_a", "Task_a", versions.Count(1))
    assert "bpmn_name" in waiting.changed
    instance.refresh_from_db()
    assert instance.state == state_before and instance.definition_id == v1.pk


def test_migrated_case_runs_on_the_new_version_with_its_task_rows_renamed(v1, users, agencies):
    case = start(users, agencies)
    (task_a,) = open_tasks(case)
    v2 = deploy(model(a_name="Assess the need", with_c=True))

    record = versions.migrate_instances(actor=users["ada"], key="versioned", from_version=1)

    instance = case.instances.get()
    assert instance.definition_id == v2.pk and record.migrated == [instance.pk] and record.refused == []
    assert record.actor == users["ada"] and record.to_definition_id == v2.pk
    (row,) = open_tasks(case)
    assert row.pk == task_a.pk and row.name == "Assess the need"  # the same task, its new name
    event = Event.objects.get(case=case, kind=EventKind.VERSION_MIGRATED)
    assert event.actor == users["ada"]
    assert event.detail == {"from_version": 1, "to_version": 2, "tasks": [{"from": "Task_a", "to": "Task_a"}]}
    complete(row)
    complete(open_tasks(case)[0])
    (task_c,) = open_tasks(case)
    assert task_c.element_id == "Task_c"  # only the new version has it
    complete(task_c)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED


def test_a_waiting_timer_keeps_its_due_time(v1, users, agencies):
    case = start(users, agencies)
    complete(open_tasks(case)[0])
    instance = case.instances.get()
    due = instance.next_timer_at
    assert due is not None
    deploy(model(with_c=True))

    versions.migrate_instances(actor=users["ada"], key="versioned", from_version=1)

    instance.refresh_from_db()
    assert instance.next_timer_at == due
    job = Job.objects.get(instance=instance, kind=JobKind.TIMER, status=JobStatus.PENDING)
    assert job.due_at == due


def test_a_changed_timer_counts_from_the_migration(v1, users, agencies):
    case = start(users, agencies)
    complete(open_tasks(case)[0])
    instance = case.instances.get()
    due = instance.next_timer_at
    deploy(model(timer="P30D"))

    versions.migrate_instances(actor=users["ada"], key="versioned", from_version=1)

    instance.refresh_from_db()
    assert instance.next_timer_at > due + timedelta(days=19)
    assert Job.objects.get(instance=instance, kind=JobKind.TIMER, status=JobStatus.PENDING).due_at == (
        instance.next_timer_at
    )


def test_a_case_waiting_on_a_removed_element_stays_and_says_why(v1, users, agencies):
    waiting_at_a = start(users, agencies)
    at_b = start(users, agencies)
    complete(open_tasks(at_b)[0])
    states = {i.pk: i.state for i in (waiting_at_a.instances.get(), at_b.instances.get())}
    deploy(model(with_a=False))

    plan = versions.migration_counts(actor=users["ada"], key="versioned", from_version=1)
    assert sorted(([w.element_id for w in r.waiting], list(r.problems), r.cases.value) for r in plan.standings) == [
        (["Task_a"], [versions.Problem("Task_a", "waiting-element-removed")], 1),
        (["Task_b", "Timer_b"], [versions.Problem("Task_a", "finished-element-removed")], 1),
    ]
    assert (plan.movable.value, plan.refused.value) == (0, 2)

    record = versions.migrate_instances(actor=users["ada"], key="versioned", from_version=1)

    assert record.migrated == []
    assert {r["case"]: r["problems"] for r in record.refused} == {
        waiting_at_a.reference: [{"element_id": "Task_a", "reason": "waiting-element-removed"}],
        at_b.reference: [{"element_id": "Task_a", "reason": "finished-element-removed"}],
    }
    for instance_id, state in states.items():
        instance = waiting_at_a.instances.model.objects.get(pk=instance_id)
        assert instance.definition_id == v1.pk and instance.state == state
    assert not Event.objects.filter(kind=EventKind.VERSION_MIGRATED).exists()


def test_a_waiting_task_routed_to_an_agency_not_in_the_case_refuses_it(v1, users, agencies):
    at_a = start(users, agencies)
    at_b = start(users, agencies)
    complete(open_tasks(at_b)[0])
    deploy(model(b_lane="Helse"))  # the case has no health participant

    record = versions.migrate_instances(actor=users["ada"], key="versioned", from_version=1)

    # waiting on Task_a (still NAV's) it moves; Task_b later meets the usual incident
    assert record.migrated == [at_a.instances.get().pk]
    assert record.refused == [
        {
            "instance": at_b.instances.get().pk,
            "case": at_b.reference,
            "problems": [{"element_id": "Task_b", "reason": "lane-without-participant"}],
        }
    ]


def test_one_case_only(v1, users, agencies):
    first = start(users, agencies)
    second = start(users, agencies)
    v2 = deploy(model(with_c=True))

    versions.migrate_instances(actor=users["ada"], key="versioned", from_version=1, case_id=second.pk)

    assert first.instances.get().definition_id == v1.pk
    assert second.instances.get().definition_id == v2.pk


def test_only_process_admins(v1, users, agencies):
    start(users, agencies)
    deploy(model(with_c=True))
    for name, refusal in (("nils", Forbidden), ("bjorn", Forbidden), ("aud", Forbidden), ("oscar", NotFound)):
        with pytest.raises(refusal):
            versions.migration_counts(actor=users[name], key="versioned", from_version=1)
        with pytest.raises(refusal):
            versions.migrate_instances(actor=users[name], key="versioned", from_version=1)
    assert not VersionMigration.objects.exists()


def test_same_version_refused(v1, users, agencies):
    with pytest.raises(InvalidInput) as error:
        versions.migrate_instances(actor=users["ada"], key="versioned", from_version=1, to_version=1)
    assert error.value.errors[0]["field"] == "to_version"


def test_case_on_an_incident_is_refused(v1, users, agencies):
    case = start(users, agencies)
    instance = case.instances.get()
    instance.status = InstanceStatus.INCIDENT
    instance.save(update_fields=["status"])
    deploy(model(with_c=True))
    record = versions.migrate_instances(actor=users["ada"], key="versioned", from_version=1)
    assert record.refused[0]["problems"] == [{"element_id": "", "reason": "instance-has-incident"}]
    assert Task.objects.filter(case=case).count() == 1


def test_a_claimed_task_moved_to_another_agency_waits_in_its_inbox_unclaimed(v1, users, agencies):
    """NAV's caseworker had claimed Task_b; version 2 routes it to health. Nobody at health
    holds it yet: it must be open there, for anyone at health to claim and complete (a claimed
    task with no assignee could be neither claimed nor completed by anyone)."""
    case = services.start_case(
        actor=users["nils"],
        process_key="versioned",
        person=PERSON,
        participants={"nav": agencies["nav"].pk, "health": agencies["health"].pk},
    )
    complete(open_tasks(case)[0])
    (task_b,) = open_tasks(case)
    services.claim_task(actor=users["nils"], task_id=task_b.pk)
    deploy(model(b_lane="Helse"))

    versions.migrate_instances(actor=users["ada"], key="versioned", from_version=1)

    task_b.refresh_from_db()
    assert (task_b.agency_id, task_b.status, task_b.assignee_id, task_b.claimed_at) == (
        agencies["health"].pk,
        "open",
        None,
        None,
    )
    services.claim_task(actor=users["helga"], task_id=task_b.pk)
    task_b.refresh_from_db()
    assert (task_b.status, task_b.assignee_id) == ("claimed", users["helga"].pk)
    complete(task_b)
    assert Task.objects.get(pk=task_b.pk).status == "completed"
