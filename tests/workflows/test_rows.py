"""The hand-compiled statements of the hot path write and read what the ORM would."""

import uuid
from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from permissions.prepared import prepares_statements
from workflows.models import (
    Case,
    Event,
    EventKind,
    Incident,
    Job,
    JobKind,
    JobStatus,
    ProcessInstance,
    Task,
    TaskStatus,
)
from workflows.steps.runner import rows

from .helpers import open_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["prepared", "joined"])
def sending(request, monkeypatch):
    """Both ways a batch reaches PostgreSQL: pipelined and prepared on the server (the
    default), or joined into one text (``DB_PREPARE_THRESHOLD=0``, behind a pooler)."""
    if request.param == "joined":
        monkeypatch.setattr(rows, "prepares_statements", lambda db: False)
    return request.param


def test_no_signal_receiver_listens_on_the_models_written_without_save():
    # Batch.update/insert do not send pre_save/post_save: a receiver added later would be
    # silently skipped on the hot path, so adding one must change rows.py too.
    for model in (Case, ProcessInstance, Task, Event, Job):
        assert not pre_save.has_listeners(model), model
        assert not post_save.has_listeners(model), model


def test_update_writes_json_and_stamps_auto_now(case, sending):
    instance = case.instances.get()
    before = instance.updated_at
    instance.status, instance.version = "running", instance.version + 5
    case.data = {"has_home": False, "nested": {"æøå": [1, 2]}}

    batch = rows.Batch()
    batch.update(instance, ("status", "version", "updated_at"))
    batch.update(case, ("data",))
    batch.flush()

    instance.refresh_from_db()
    case.refresh_from_db()
    assert instance.updated_at > before and instance.version >= 6
    assert case.data == {"has_home": False, "nested": {"æøå": [1, 2]}}


def test_insert_sets_keys_defaults_and_parents_saved_after_the_object_was_built(case, agencies):
    (task,) = open_tasks(case)
    new_task = Task(
        spiff_task_id=uuid.uuid4(),
        instance=task.instance,
        case=case,
        element_id="Task_x",
        name="X",
        agency=agencies["nav"],
        due_at=timezone.now() + timedelta(days=3),
    )
    event = Event(case=case, instance=task.instance, task=new_task, kind=EventKind.TASK_CREATED, detail={"name": "X"})
    batch = rows.Batch()
    batch.insert([new_task])
    batch.flush()  # the event's task gets its id now
    batch.insert([event, Event(case=case, kind=EventKind.HANDOFF)])
    batch.flush()

    stored = Task.objects.get(pk=new_task.pk)
    assert stored.spiff_task_id == new_task.spiff_task_id and stored.status == TaskStatus.OPEN
    assert stored.created_at is not None and stored.due_at == new_task.due_at
    stored_event = Event.objects.get(pk=event.pk)
    assert stored_event.task_id == new_task.pk and stored_event.detail == {"name": "X"}
    assert not event._state.adding


def test_insert_refuses_an_unsaved_parent(case):
    unsaved = Task(spiff_task_id=uuid.uuid4(), case=case, element_id="e", name="n")
    with pytest.raises(ValueError, match="unsaved Task"):
        rows.Batch().insert([Event(case=case, task=unsaved, kind=EventKind.TASK_CREATED)])


def test_lock_and_complete_reads_what_the_orm_reads(case, users, agencies):
    (task,) = open_tasks(case)
    instance = ProcessInstance.objects.get(pk=task.instance_id)

    completion = rows.lock_and_complete(task.pk, users["kari"].pk, timezone.now())

    locked = completion.task
    assert completion.completed is True
    assert locked.spiff_task_id == task.spiff_task_id and isinstance(locked.spiff_task_id, uuid.UUID)
    assert (locked.element_id, locked.agency_id) == (task.element_id, task.agency_id)
    assert locked.agency.name == task.agency.name
    assert locked.instance.state == instance.state and locked.instance.version == instance.version
    assert locked.instance.next_timer_at == instance.next_timer_at
    assert locked.case.data == case.data and isinstance(locked.case.data_sources, dict)
    assert locked.instance.case is locked.case
    assert completion.participants == {kind: agencies[kind] for kind in ("prison", "nav", "health", "housing")}
    assert Task.objects.get(pk=task.pk).status == TaskStatus.COMPLETED


def test_lock_and_complete_of_an_unknown_task(case, users):
    completion = rows.lock_and_complete(10**9, users["kari"].pk, timezone.now())
    assert (completion.task, completion.completed, completion.participants) == (None, False, {})


def test_participant_agencies_by_kind(case, agencies):
    assert rows.participant_agencies(case.pk) == {
        kind: agencies[kind] for kind in ("prison", "nav", "health", "housing")
    }


def test_a_task_claimed_by_someone_else_is_not_completed(case, users):
    (task,) = open_tasks(case)
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.CLAIMED, assignee=users["kari"])

    assert rows.lock_and_complete(task.pk, users["nils"].pk, timezone.now()).completed is False
    assert rows.lock_and_complete(task.pk, users["kari"].pk, timezone.now()).completed is True
    task.refresh_from_db()
    assert (task.status, task.assignee, task.completed_by) == (TaskStatus.COMPLETED, users["kari"], users["kari"])
    assert rows.lock_and_complete(task.pk, users["kari"].pk, timezone.now()).completed is False


def test_an_open_task_is_assigned_to_whoever_completes_it(case, users):
    (task,) = open_tasks(case)
    assert rows.lock_and_complete(task.pk, users["kari"].pk, timezone.now()).completed is True
    task.refresh_from_db()
    assert task.assignee == users["kari"]


def test_a_batch_runs_in_order_and_hands_each_statement_its_result(case, agencies, sending):
    (task,) = open_tasks(case)
    seen = []
    first = Event(case=case, kind=EventKind.HANDOFF)
    second = Event(case=case, kind=EventKind.TASK_CREATED, task=task)
    batch = rows.Batch()
    batch.insert([first])
    batch.add("SELECT COUNT(*) FROM workflows_event WHERE id = %s", [0], lambda c: seen.append(c.fetchone()))
    batch.update(case, ("status",))
    batch.insert([second])
    batch.notify("brobygger_jobs")
    batch.notify("brobygger_jobs")  # once per batch
    assert first.pk is None  # nothing is sent before flush

    batch.flush()

    assert first.pk and second.pk > first.pk and seen == [(0,)]
    assert Event.objects.get(pk=second.pk).task_id == task.pk
    batch.flush()  # empty: nothing to send


def test_a_failing_statement_fails_the_flush(case, sending):
    """The whole batch fails (its first statement's row too), and the connection works on
    after the transaction rolls back: a failed pipeline does not leave it in pipeline mode."""
    events = Event.objects.count()
    batch = rows.Batch()
    batch.insert([Event(case=case, kind=EventKind.HANDOFF)])
    batch.add("UPDATE workflows_task SET no_such_column = 1", [])
    with pytest.raises(DatabaseError, match="no_such_column"), transaction.atomic():
        batch.flush()

    assert Event.objects.count() == events
    again = rows.Batch()
    again.insert([Event(case=case, kind=EventKind.HANDOFF)])
    again.flush()
    assert Event.objects.count() == events + 1


@pytest.mark.postgres
def test_a_batch_is_prepared_on_the_server_and_sent_once(case):
    """PostgreSQL parses and plans a step's statements once per connection (a third of its
    CPU per completion went there), and the batch is one statement to Django's execute
    wrappers and query log, as one round trip."""
    from django.db import connection

    if not prepares_statements(connection):
        pytest.skip("DB_PREPARE_THRESHOLD=0: nothing is prepared (the joined text is tested above)")

    def run_batch():
        batch = rows.Batch()
        batch.insert([Event(case=case, kind=EventKind.HANDOFF), Event(case=case, kind=EventKind.HANDOFF)])
        batch.update(case, ("status",))
        batch.flush()

    run_batch()
    seen = []
    with connection.execute_wrapper(
        lambda execute, sql, params, many, context: seen.append(sql) or execute(sql, params, many, context)
    ):
        run_batch()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any(statement.startswith('INSERT INTO "workflows_event"') for statement in prepared), prepared
    assert any(statement.startswith('UPDATE "workflows_case"') for statement in prepared), prepared
    assert len(seen) == 1 and seen[0].count("; ") == 1


def test_the_pending_timer_job_is_inserted_then_moved(case):
    instance = case.instances.get()
    Job.objects.filter(instance=instance).delete()
    first, later = timezone.now() + timedelta(days=2), timezone.now() + timedelta(days=9)
    for due in (first, later):
        batch = rows.Batch()
        rows.upsert_pending_timer(batch, Job(kind=JobKind.TIMER, due_at=due, instance=instance, case=case))
        batch.flush()

    (job,) = Job.objects.filter(instance=instance, kind=JobKind.TIMER, status=JobStatus.PENDING)
    assert job.due_at == later


def test_deleting_the_pending_timer_job_unlinks_its_incidents(case):
    instance = case.instances.get()
    Job.objects.filter(instance=instance).delete()
    job = Job.objects.create(kind=JobKind.TIMER, due_at=timezone.now(), instance=instance, case=case)
    other = Job.objects.create(
        kind=JobKind.TIMER, status=JobStatus.DONE, due_at=timezone.now(), instance=instance, case=case
    )
    incident = Incident.objects.create(instance=instance, case=case, kind="job-failed", error="x", job=job)

    batch = rows.Batch()
    rows.delete_pending_timer(batch, instance.pk)
    batch.flush()

    assert not Job.objects.filter(pk=job.pk).exists() and Job.objects.filter(pk=other.pk).exists()
    incident.refresh_from_db()
    assert incident.job is None


def test_open_to_means_the_same_in_sql_and_in_python(case, users):
    """``Task.open_to`` (compiled into the completion's UPDATE) and ``Task.is_open_to`` (the
    Python check that explains a refusal) agree on every status and assignee."""
    (task,) = open_tasks(case)
    kari, nora = users["kari"], users["nora"]
    for status in TaskStatus.values:
        for assignee in (None, kari, nora):
            Task.objects.filter(pk=task.pk).update(status=status, assignee=assignee)
            task.refresh_from_db()
            in_sql = Task.objects.filter(Task.open_to(kari.pk), pk=task.pk).exists()
            assert in_sql == task.is_open_to(kari.pk), (status, assignee)


def test_completing_updates_only_a_task_still_open_to_the_actor(case, users):
    (task,) = open_tasks(case)
    kari, nora = users["kari"], users["nora"]
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.CLAIMED, assignee=nora)
    from django.db import transaction

    with transaction.atomic():
        completion = rows.lock_and_complete(task.pk, kari.pk, timezone.now())
        assert completion.task.pk == task.pk and not completion.completed
        transaction.set_rollback(True)
    Task.objects.filter(pk=task.pk).update(assignee=kari)
    with transaction.atomic():
        assert rows.lock_and_complete(task.pk, kari.pk, timezone.now()).completed
        transaction.set_rollback(True)


@pytest.mark.postgres
def test_a_batch_travels_in_one_query_text_on_a_connection_that_prepares_statements():
    """``DB_PREPARE_THRESHOLD`` turns on server-side binding, which allows one statement per
    query text; the batch keeps binding in the client, and the connection's other
    statements are prepared once they repeat."""
    from django.db import DatabaseError, connections

    from config.database import postgres_settings

    options = postgres_settings(
        "postgres://x@h/d", env_bool=lambda _n, d: d, env_int=lambda n, d: {"DB_PREPARE_THRESHOLD": 1}.get(n, d)
    )["OPTIONS"]
    assert options["server_side_binding"] is True and options["prepare_threshold"] == 1
    default = connections["default"]
    settings_dict = {**default.settings_dict, "OPTIONS": {**default.settings_dict["OPTIONS"], **options}}
    prepared = type(default)(settings_dict, alias="prepared")
    try:
        answers = []
        batch = rows.Batch()
        batch.db = prepared
        batch.add("SELECT %s", [1], lambda cursor: answers.append(cursor.fetchone()[0]))
        batch.add("SELECT %s", [2], lambda cursor: answers.append(cursor.fetchone()[0]))
        batch.flush()
        assert answers == [1, 2]
        with prepared.cursor() as cursor:
            with pytest.raises(DatabaseError):  # what the batch would meet on the connection's own cursor
                cursor.execute("SELECT %s; SELECT %s", [1, 2])
            prepared.rollback() if not prepared.get_autocommit() else None
            for _ in range(2):
                cursor.execute("SELECT count(*) FROM workflows_task WHERE id = %s", [0])
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%workflows_task%"])
            assert cursor.fetchone()[0] == 1
    finally:
        prepared.close()


def test_a_rider_travels_in_the_plain_insert_after_it_and_both_write(case, agencies, sending):
    """The insight counters' upsert rides in the events' insert (``rows._ride``): one
    statement less, both rows written; not in an upsert, a notification or another rider."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from insight.models import TaskTime
    from insight.recording import TABLES, _add_on_conflict

    instance = case.instances.get()
    columns = TABLES[TaskTime][0] + TABLES[TaskTime][1]
    month = timezone.localdate().replace(day=1)
    row = (0, month, instance.definition_id, "Task_rider", agencies["prison"].pk, 1, 5, 0, 0)
    conflict = _add_on_conflict(TaskTime)
    event = Event(case=case, kind=EventKind.HANDOFF)
    batch = rows.Batch()
    batch.insert_values(TaskTime, columns, [row], on_conflict=conflict)
    batch.insert([event])
    batch.insert_values(TaskTime, columns, [(*row[:3], "Task_alone", *row[4:])], on_conflict=conflict)
    batch.notify("brobygger_jobs")
    with CaptureQueriesContext(connection) as queries:
        batch.flush()

    if connection.vendor == "postgresql":  # on SQLite each statement goes alone, nothing rides
        (sent,) = queries.captured_queries
        statements = sent["sql"].split("; ")
        assert len(statements) == 3 and statements[0].startswith("WITH rider AS (INSERT INTO")
    assert event.pk and Event.objects.filter(pk=event.pk).exists()
    assert set(TaskTime.objects.filter(definition_id=instance.definition_id).values_list("element_id", flat=True)) >= {
        "Task_rider",
        "Task_alone",
    }


def test_lock_and_complete_of_an_actor_without_memberships(case, users):
    """The memberships are read in the conditional UPDATE's statement: an actor with none
    still learns whether the task was completed (the caller then refuses and rolls back)."""
    from django.contrib.auth import get_user_model

    (task,) = open_tasks(case)
    stranger = get_user_model().objects.create_user("stranger-rows", password="x")
    with transaction.atomic():
        completion = rows.lock_and_complete(task.pk, stranger.pk, timezone.now())
        assert (completion.completed, completion.memberships, completion.agency_standing) == (True, [], False)
        assert completion.completed_as == (task.agency_id, task.element_id)
        transaction.set_rollback(True)
    completion = rows.lock_and_complete(task.pk, users["kari"].pk, timezone.now())
    assert completion.completed and completion.agency_standing
    assert {m.agency_id for m in completion.memberships} == {m.agency_id for m in users["kari"].memberships.all()}


def test_lock_free_riders_travel_beside_one_that_locks_and_every_row_is_written(case, agencies, sending):
    """A new task's e-mail job (an insert no unique index could make wait) and the step's
    instance update (its row locked already) take no lock they do not hold: they ride beside
    the counters' upsert in one plain insert, and every row is written as alone. Two riders
    that lock (two counters' upserts) do not travel together: the first goes alone."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from insight.models import TaskTime, TimerFired
    from insight.recording import TABLES, _add_on_conflict

    instance = ProcessInstance.objects.get(case=case)
    month = timezone.localdate().replace(day=1)
    task_time = (0, month, instance.definition_id, "Task_rider", agencies["prison"].pk, 1, 5, 0, 0)
    fired = (0, month, instance.definition_id, "Timer_rider", 1)
    job = Job(
        kind=JobKind.NOTIFICATION,
        due_at=timezone.now(),
        instance_id=instance.pk,
        case_id=case.pk,
        max_attempts=3,
        payload={"event": "task_created", "task_id": 1, "agency_id": agencies["prison"].pk, "element_id": "Task_x"},
    )
    first, second = Event(case=case, kind=EventKind.HANDOFF), Event(case=case, kind=EventKind.HANDOFF)
    with transaction.atomic():
        instance = ProcessInstance.objects.select_for_update().get(pk=instance.pk)
        instance.version += 1
        batch = rows.Batch()
        batch.update(instance, ("version", "updated_at"), rides=True)
        batch.insert([job], rides=True)
        batch.insert_values(TaskTime, sum(TABLES[TaskTime], ()), [task_time], on_conflict=_add_on_conflict(TaskTime))
        batch.insert([first])
        batch.insert_values(TimerFired, sum(TABLES[TimerFired], ()), [fired], on_conflict=_add_on_conflict(TimerFired))
        batch.insert_values(TaskTime, sum(TABLES[TaskTime], ()), [task_time], on_conflict=_add_on_conflict(TaskTime))
        batch.insert([second])
        batch.notify("brobygger_jobs")
        with CaptureQueriesContext(connection) as queries:
            batch.flush()

    if connection.vendor == "postgresql":  # on SQLite each statement goes alone, nothing rides
        (sent,) = queries.captured_queries
        statements = sent["sql"].split("; ")
        assert len(statements) == 4, statements
        assert statements[0].startswith('WITH rider AS (UPDATE "workflows_processinstance"')
        assert 'rider1 AS (INSERT INTO "workflows_job"' in statements[0]
        assert 'rider2 AS (INSERT INTO "insight_tasktime"' in statements[0]
        assert statements[1].startswith('INSERT INTO "insight_timerfired"')
        assert statements[2].startswith('WITH rider AS (INSERT INTO "insight_tasktime"')
        assert statements[3] == "NOTIFY brobygger_jobs"
    assert first.pk and second.pk and Event.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
    assert ProcessInstance.objects.get(pk=instance.pk).version == instance.version
    written = Job.objects.get(kind=JobKind.NOTIFICATION, case=case, payload__element_id="Task_x")
    assert (written.status, written.attempts, written.max_attempts, written.payload) == (
        JobStatus.PENDING,
        0,
        3,
        job.payload,
    )
    assert written.delivery_key == job.delivery_key
    counted = TaskTime.objects.get(definition_id=instance.definition_id, element_id="Task_rider", scope=0)
    assert (counted.completed, counted.seconds) == (2, 10)
    assert TimerFired.objects.filter(definition_id=instance.definition_id, element_id="Timer_rider").exists()
