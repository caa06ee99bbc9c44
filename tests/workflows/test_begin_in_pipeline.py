"""A transaction's BEGIN in its first pipeline and its COMMIT in a step's last batch
(``steps.rows.send_pipelined``, ``Step.commits``): one round trip less each, and the
transaction behaves as Django's ``atomic`` promises: an error rolls everything back, the
on-commit hooks run once, a block inside another's commits nothing, two starts of one new
person make one person row. PostgreSQL only: SQLite sends no pipeline."""

import psycopg
import pytest
from django.db import connection, transaction

from core import hooks
from tests.threads import all_at_once, meet_after
from tests.workflows.helpers import PERSON, start_prison_case
from workflows import steps
from workflows.models import Case, CaseReferenceCounter, Person
from workflows.services import cases as case_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NEW_PERSON = {"name": "Kari Ny", "national_id": "05840399895"}
IDLE = psycopg.pq.TransactionStatus.IDLE


def _counter() -> int:
    year, _prefix = case_services._reference_parts()
    row = CaseReferenceCounter.objects.filter(year=year).first()
    return row.last if row else 0


@pytest.fixture
def started_hooks():
    heard = []

    def heard_it(**facts):
        heard.append(facts)

    hooks.subscribe(hooks.CASE_STARTED, heard_it)
    yield heard
    hooks.unsubscribe(hooks.CASE_STARTED, heard_it)


def test_a_start_commits_once_and_its_hooks_run_once(shipped, users, agencies, started_hooks):
    start_prison_case(users, agencies)  # warm
    started_hooks.clear()
    case = start_prison_case(users, agencies, person=NEW_PERSON)
    assert started_hooks == [{"process": "prison_release_to_housing"}]
    assert connection.connection.pgconn.transaction_status == IDLE
    assert not connection.in_atomic_block and connection.get_autocommit()
    assert connection.connection.autocommit  # psycopg's flag is Django's again
    assert Case.objects.filter(pk=case.pk, person__national_id=NEW_PERSON["national_id"]).exists()


def test_a_failing_last_batch_leaves_nothing_written(monkeypatch, shipped, users, agencies, started_hooks):
    start_prison_case(users, agencies)  # warm
    started_hooks.clear()
    numbered, cases = _counter(), Case.objects.count()
    write = steps.Step.write

    def failing_write(step):
        step.batch.add("SELECT 1 / 0", [])  # fails in the batch that carries the COMMIT
        write(step)

    monkeypatch.setattr(steps.Step, "write", failing_write)
    with pytest.raises(Exception, match="division by zero"):
        start_prison_case(users, agencies, person=NEW_PERSON)
    monkeypatch.undo()
    assert started_hooks == []
    assert Case.objects.count() == cases and _counter() == numbered
    assert not Person.objects.filter(national_id=NEW_PERSON["national_id"]).exists()
    assert connection.connection.pgconn.transaction_status == IDLE
    start_prison_case(users, agencies, person=NEW_PERSON)  # the connection goes on as before
    assert started_hooks == [{"process": "prison_release_to_housing"}]
    assert Person.objects.filter(national_id=NEW_PERSON["national_id"]).count() == 1


def test_a_failing_first_pipeline_leaves_the_connection_as_it_was(monkeypatch, shipped, users, agencies):
    start_prison_case(users, agencies)  # warm
    cases = Case.objects.count()
    flush = case_services.rows.Batch.flush

    def failing_flush(batch):
        batch.add("SELECT 1 / 0", [])
        flush(batch)

    monkeypatch.setattr(case_services.rows.Batch, "flush", failing_flush)
    with pytest.raises(Exception, match="division by zero"):
        start_prison_case(users, agencies)
    monkeypatch.undo()
    assert Case.objects.count() == cases
    with transaction.atomic():  # psycopg begins a transaction for a plain statement again
        Person.objects.create(name="Rulles tilbake", national_id="29822099635")
        assert connection.connection.pgconn.transaction_status != IDLE
        transaction.set_rollback(True)
    assert not Person.objects.filter(national_id="29822099635").exists()
    start_prison_case(users, agencies)
    assert Case.objects.count() == cases + 1


def test_a_start_inside_another_block_commits_with_it_not_before(shipped, users, agencies, started_hooks):
    start_prison_case(users, agencies)  # warm
    started_hooks.clear()
    cases = Case.objects.count()
    with transaction.atomic():
        start_prison_case(users, agencies, person=NEW_PERSON)
        assert connection.connection.pgconn.transaction_status != IDLE  # the step sent no COMMIT
        transaction.set_rollback(True)
    assert Case.objects.count() == cases and started_hooks == []
    assert not Person.objects.filter(national_id=NEW_PERSON["national_id"]).exists()


def test_a_start_in_a_savepoint_rolls_back_alone(shipped, users, agencies):
    start_prison_case(users, agencies)  # warm
    cases = Case.objects.count()
    with transaction.atomic():
        kept = start_prison_case(users, agencies)
        try:
            with transaction.atomic():
                start_prison_case(users, agencies, person=NEW_PERSON)
                raise RuntimeError("undo the inner start")
        except RuntimeError:
            pass
    assert Case.objects.count() == cases + 1 and Case.objects.filter(pk=kept.pk).exists()
    assert not Person.objects.filter(national_id=NEW_PERSON["national_id"]).exists()


def test_two_starts_of_one_new_person_make_one_person(monkeypatch, shipped, users, agencies):
    start_prison_case(users, agencies)  # warm
    # Both have begun and read before either writes: neither finds the person on file.
    meet_after(monkeypatch, case_services, "_StartReads")
    started = all_at_once([lambda: start_prison_case(users, agencies, person=NEW_PERSON)] * 2)
    assert all(isinstance(case, Case) for case in started), started
    people = Person.objects.filter(national_id=NEW_PERSON["national_id"])
    assert people.count() == 1
    assert set(Case.objects.filter(pk__in=[case.pk for case in started]).values_list("person", flat=True)) == {
        people.get().pk
    }
    assert {case.person.pk for case in started} == {people.get().pk}


def test_a_person_on_file_keeps_their_name(shipped, users, agencies):
    first = start_prison_case(users, agencies)
    second = start_prison_case(users, agencies, person={**PERSON, "name": "Et annet navn"})
    assert first.person.pk == second.person.pk
    assert Person.objects.get(pk=first.person.pk).name == PERSON["name"]
    assert Case.objects.get(pk=second.pk).person_name == "Et annet navn"


def test_psycopg_still_behaves_as_the_pipelines_begin_needs(db):
    """What ``rows._begins_in_pipeline`` relies on, of psycopg itself (pinned in pyproject):
    its autocommit flag set while no transaction is open sends nothing; with it set, psycopg
    sends no BEGIN of its own; ``commit()`` and ``rollback()`` act on the server's
    transaction whatever the flag says. Should psycopg change any of it, this fails."""
    from django.conf import settings

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params.pop("server_side_binding", None)
    with psycopg.connect(**params) as raw:
        raw.execute("CREATE TEMPORARY TABLE held (n int)")
        raw.commit()
        for end, kept in ((raw.commit, 1), (raw.rollback, 0)):
            assert not raw.autocommit and raw.pgconn.transaction_status == IDLE
            raw.autocommit = True  # sends nothing
            assert raw.pgconn.transaction_status == IDLE
            with raw.pipeline():
                raw.execute("BEGIN", prepare=False)
                raw.execute("INSERT INTO held VALUES (1)")
            assert raw.pgconn.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            end()
            assert raw.pgconn.transaction_status == IDLE
            raw.autocommit = False
            assert raw.execute("SELECT count(*) FROM held").fetchone() == (kept,)
            raw.execute("DELETE FROM held")
            raw.commit()
        # COMMIT in a pipeline: psycopg's commit() afterwards finds nothing to do.
        raw.execute("SELECT 1")
        with raw.pipeline():
            raw.execute("INSERT INTO held VALUES (2)")
            raw.execute("COMMIT", prepare=False)
        assert raw.pgconn.transaction_status == IDLE
        raw.commit()
        assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _fails_at_commit(monkeypatch):
    """The step's last batch ends with a deferred unique check that only COMMIT runs (as a
    deferred foreign key or a serialization failure would): every statement of the batch
    succeeds, and the COMMIT sent with them fails."""
    write = steps.Step.write

    def failing_commit(step):
        step.batch.add("CREATE TEMPORARY TABLE checked_at_commit (n int UNIQUE DEFERRABLE INITIALLY DEFERRED)", [])
        step.batch.add("INSERT INTO checked_at_commit VALUES (1), (1)", [])
        write(step)

    monkeypatch.setattr(steps.Step, "write", failing_commit)


def test_a_start_whose_commit_fails_leaves_nothing_written(monkeypatch, shipped, users, agencies, started_hooks):
    start_prison_case(users, agencies)  # warm
    started_hooks.clear()
    numbered, cases = _counter(), Case.objects.count()
    _fails_at_commit(monkeypatch)
    with pytest.raises(Exception, match="checked_at_commit"):
        start_prison_case(users, agencies, person=NEW_PERSON)
    monkeypatch.undo()
    assert started_hooks == []
    assert Case.objects.count() == cases and _counter() == numbered
    assert not Person.objects.filter(national_id=NEW_PERSON["national_id"]).exists()
    assert connection.connection.pgconn.transaction_status == IDLE
    assert not connection.in_atomic_block and connection.get_autocommit() and connection.connection.autocommit
    with transaction.atomic():  # the next block is a transaction again, not autocommitted statements
        Person.objects.create(name="Rulles tilbake", national_id="29822099635")
        transaction.set_rollback(True)
    assert not Person.objects.filter(national_id="29822099635").exists()
    start_prison_case(users, agencies, person=NEW_PERSON)
    assert started_hooks == [{"process": "prison_release_to_housing"}]


def test_a_completion_whose_commit_fails_leaves_the_task_open(monkeypatch, shipped, users, agencies):
    from core import hooks as core_hooks
    from tests.workflows.helpers import complete, open_tasks
    from workflows.models import Event, TaskStatus

    case = start_prison_case(users, agencies)
    complete(open_tasks(case)[0])  # warm the completion's statements
    task = open_tasks(case)[0]
    events, tasks = Event.objects.filter(case=case).count(), len(open_tasks(case))
    heard = []

    def heard_it(**facts):
        heard.append(facts)

    core_hooks.subscribe(core_hooks.TASK_COMPLETED, heard_it)
    try:
        _fails_at_commit(monkeypatch)
        with pytest.raises(Exception, match="checked_at_commit"):
            complete(task)
        monkeypatch.undo()
        assert heard == []
        task.refresh_from_db()
        assert task.status != TaskStatus.COMPLETED and task.completed_at is None
        assert Event.objects.filter(case=case).count() == events and len(open_tasks(case)) == tasks
        assert connection.connection.pgconn.transaction_status == IDLE
        assert not connection.in_atomic_block and connection.get_autocommit() and connection.connection.autocommit
        complete(task)  # the same completion again goes through, once
        assert heard == [{"process": "prison_release_to_housing", "agency_kind": task.agency.kind}]
    finally:
        core_hooks.unsubscribe(core_hooks.TASK_COMPLETED, heard_it)
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
