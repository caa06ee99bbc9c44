"""0026's locks, one per bucket of 64 of case ids instead of one per case: a statement that
writes thousands of cases (the bench loader, a version migration) took a lock per case, more
than PostgreSQL's lock table holds (max_locks_per_transaction). Same exclusion for a case."""

from django.db import migrations

ACTIVE = "status IN ('open', 'claimed')"  # workflows.models.ACTIVE_TASK_STATUSES
# The lock's namespace (the first key of the two-key advisory lock); the second, one of 64
# buckets of case ids: a statement writing thousands of cases (the bench loader, a version
# migration) takes at most 64 locks, not one per case (PostgreSQL's lock table is small).
LOCK = "PERFORM pg_advisory_xact_lock(7161, b.bucket) FROM (SELECT DISTINCT (case_id % 64)::int AS bucket FROM {rows} ORDER BY 1) b;"
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
    dependencies = [("workflows", "0026_task_reader_case_lock")]

    # Backwards: the functions keep their lock (harmless; 0024's reverse drops them).
    operations = [migrations.RunPython(lock_per_case, migrations.RunPython.noop)]
