"""The task-reader index's update and delete triggers take the case's bucket lock too.

0026/0027 made the triggers on new tasks and on the participants serialize per bucket of
case ids, but a task whose deadline or activity changed (a completion, a cancellation, a
moved deadline) or that was deleted took no lock: an agency joining the case meanwhile read
the task as committed before that change (READ COMMITTED) and kept the stale row for good,
while the change's own trigger did not see the joining agency's uncommitted row. The joining
agency then listed a completed task among its active and overdue ones, ordered a task by a
deadline it no longer had, or kept a row of a deleted task
(``tests/workflows/test_task_reader_race.py``). Now the second writer waits for the first to
commit and then reads (or updates) its rows. The update trigger stays per row, behind its
WHEN (a claim changes neither column and takes no lock); the delete trigger per statement,
its buckets in order as the others take them."""

from django.db import migrations

ACTIVE = "status IN ('open', 'claimed')"  # workflows.models.ACTIVE_TASK_STATUSES
# 0027's namespace and buckets (the first key of the two-key advisory lock; case id % 64).
LOCK_OLD = "PERFORM pg_advisory_xact_lock(7161, b.bucket) FROM (SELECT DISTINCT (case_id % 64)::int AS bucket FROM old_rows ORDER BY 1) b;"
TRIGGERS_SQL = """
CREATE OR REPLACE FUNCTION workflows_task_readers_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7161, (NEW.case_id % 64)::int);
    UPDATE workflows_taskreader SET due_at = NEW.due_at, active = NEW.{active} WHERE task_id = NEW.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION workflows_task_readers_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {lock_old}
    DELETE FROM workflows_taskreader r USING old_rows o WHERE r.task_id = o.id;
    RETURN NULL;
END $$;
""".replace("{lock_old}", LOCK_OLD).replace("{active}", ACTIVE)
# 0024's bodies, without a lock.
UNLOCKED_SQL = """
CREATE OR REPLACE FUNCTION workflows_task_readers_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workflows_taskreader SET due_at = NEW.due_at, active = NEW.{active} WHERE task_id = NEW.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION workflows_task_readers_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM workflows_taskreader r USING old_rows o WHERE r.task_id = o.id;
    RETURN NULL;
END $$;
""".replace("{active}", ACTIVE)


def lock_updates_and_deletes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS_SQL, params=None)


def unlock(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNLOCKED_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0027_task_reader_lock_buckets")]

    operations = [migrations.RunPython(lock_updates_and_deletes, unlock)]
