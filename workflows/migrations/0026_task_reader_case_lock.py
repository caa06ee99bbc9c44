"""The task-reader index's triggers take a lock per case before they read the other table.

An agency joining a case while a task of that case was created in another transaction left
the task out of the agency's rows for good: each trigger read the other table as committed
before its own insert, so neither saw the other's row (READ COMMITTED), and the agency's
lists never showed the task (``tests/workflows/test_task_reader_race.py``). Now both take a
transaction-level advisory lock on each case they write, in case order (no deadlock between
two of them), so the second waits for the first to commit and then reads its row."""

from django.db import migrations

ACTIVE = "status IN ('open', 'claimed')"  # workflows.models.ACTIVE_TASK_STATUSES
# The lock's namespace (the first key of the two-key advisory lock); the case id the second.
LOCK = "PERFORM pg_advisory_xact_lock(7161, (c.case_id % 2147483647)::int) FROM (SELECT DISTINCT case_id FROM {rows} ORDER BY 1) c;"
TRIGGERS_SQL = (
    """
CREATE OR REPLACE FUNCTION workflows_task_readers_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {lock_new}
    INSERT INTO workflows_taskreader (task_id, agency_id, due_at, active)
    SELECT n.id, p.agency_id, n.due_at, n.{active}
    FROM new_rows n JOIN workflows_caseparticipant p ON p.case_id = n.case_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION workflows_task_readers_participants_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        {lock_old}
        DELETE FROM workflows_taskreader r
        USING old_rows o, workflows_task t
        WHERE t.case_id = o.case_id AND r.task_id = t.id AND r.agency_id = o.agency_id
          AND NOT EXISTS (
              SELECT 1 FROM workflows_caseparticipant p WHERE p.case_id = o.case_id AND p.agency_id = o.agency_id
          );
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {lock_new}
        INSERT INTO workflows_taskreader (task_id, agency_id, due_at, active)
        SELECT t.id, n.agency_id, t.due_at, t.{active}
        FROM new_rows n JOIN workflows_task t ON t.case_id = n.case_id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
""".replace("{lock_new}", LOCK.replace("{rows}", "new_rows"))
    .replace("{lock_old}", LOCK.replace("{rows}", "old_rows"))
    .replace("{active}", ACTIVE)
)


def lock_per_case(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0025_case_lists_by_id")]

    # Backwards: the functions keep their lock (harmless; 0024's reverse drops them).
    operations = [migrations.RunPython(lock_per_case, migrations.RunPython.noop)]
