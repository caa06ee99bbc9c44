"""``TaskReader``: each task once for every agency taking part in its case, in the task lists'
order, so a list of one agency's reader walks only rows of that agency's cases (README "Read
paths at scale"). Kept by PostgreSQL in the writing transaction, for every write to the
tasks or the case participants (the steps, the bench loader, a version migration, an
erasure alike), as the insight summary is (``insight/migrations/0003``); filled here from
the tasks, then indexed. SQLite keeps no rows: its lists read as before."""

import django.db.models.deletion
from django.db import migrations, models

ACTIVE = "status IN ('open', 'claimed')"  # workflows.models.ACTIVE_TASK_STATUSES
TRIGGERS_SQL = """
-- New tasks: a row for each agency taking part in the case (once, whatever parts it plays).
CREATE FUNCTION workflows_task_readers_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO workflows_taskreader (task_id, agency_id, due_at, active)
    SELECT n.id, p.agency_id, n.due_at, n.{active}
    FROM new_rows n JOIN workflows_caseparticipant p ON p.case_id = n.case_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

-- A task's deadline or whether it is active changed (the trigger's WHEN: a claim changes neither).
CREATE FUNCTION workflows_task_readers_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workflows_taskreader SET due_at = NEW.due_at, active = NEW.{active} WHERE task_id = NEW.id;
    RETURN NULL;
END $$;

CREATE FUNCTION workflows_task_readers_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM workflows_taskreader r USING old_rows o WHERE r.task_id = o.id;
    RETURN NULL;
END $$;

-- An agency joining a case (in any part) reads its tasks; leaving its last part, no longer.
CREATE FUNCTION workflows_task_readers_participants_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        DELETE FROM workflows_taskreader r
        USING old_rows o, workflows_task t
        WHERE t.case_id = o.case_id AND r.task_id = t.id AND r.agency_id = o.agency_id
          AND NOT EXISTS (
              SELECT 1 FROM workflows_caseparticipant p WHERE p.case_id = o.case_id AND p.agency_id = o.agency_id
          );
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO workflows_taskreader (task_id, agency_id, due_at, active)
        SELECT t.id, n.agency_id, t.due_at, t.{active}
        FROM new_rows n JOIN workflows_task t ON t.case_id = n.case_id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workflows_task_readers_inserted AFTER INSERT ON workflows_task
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION workflows_task_readers_inserted();
CREATE TRIGGER workflows_task_readers_updated AFTER UPDATE ON workflows_task FOR EACH ROW
    WHEN (OLD.due_at IS DISTINCT FROM NEW.due_at OR (OLD.{active}) IS DISTINCT FROM (NEW.{active}))
    EXECUTE FUNCTION workflows_task_readers_updated();
CREATE TRIGGER workflows_task_readers_deleted AFTER DELETE ON workflows_task
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION workflows_task_readers_deleted();
CREATE TRIGGER workflows_task_readers_participant_inserted AFTER INSERT ON workflows_caseparticipant
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION workflows_task_readers_participants_changed();
CREATE TRIGGER workflows_task_readers_participant_updated AFTER UPDATE ON workflows_caseparticipant
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION workflows_task_readers_participants_changed();
CREATE TRIGGER workflows_task_readers_participant_deleted AFTER DELETE ON workflows_caseparticipant
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION workflows_task_readers_participants_changed();

INSERT INTO workflows_taskreader (task_id, agency_id, due_at, active)
SELECT t.id, p.agency_id, t.due_at, t.{active}
FROM workflows_task t JOIN workflows_caseparticipant p ON p.case_id = t.case_id
ON CONFLICT DO NOTHING;
""".replace("{active}", ACTIVE)
DROP_SQL = """
DROP TRIGGER workflows_task_readers_inserted ON workflows_task;
DROP TRIGGER workflows_task_readers_updated ON workflows_task;
DROP TRIGGER workflows_task_readers_deleted ON workflows_task;
DROP TRIGGER workflows_task_readers_participant_inserted ON workflows_caseparticipant;
DROP TRIGGER workflows_task_readers_participant_updated ON workflows_caseparticipant;
DROP TRIGGER workflows_task_readers_participant_deleted ON workflows_caseparticipant;
DROP FUNCTION workflows_task_readers_inserted();
DROP FUNCTION workflows_task_readers_updated();
DROP FUNCTION workflows_task_readers_deleted();
DROP FUNCTION workflows_task_readers_participants_changed();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS_SQL, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE workflows_taskreader")


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0016_agency_withdrawn"),
        ("workflows", "0023_task_mine_statistics"),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskReader",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "task", "agency", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("due_at", models.DateTimeField(blank=True, null=True)),
                ("active", models.BooleanField()),
                (
                    "agency",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="permissions.agency",
                    ),
                ),
                (
                    "task",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="readers",
                        to="workflows.task",
                    ),
                ),
            ],
        ),
        # Filled before it is indexed (at a million tasks, four million rows).
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.AddIndex(
            model_name="taskreader",
            index=models.Index(fields=["agency", "due_at", "task"], name="taskreader_list"),
        ),
        migrations.AddIndex(
            model_name="taskreader",
            index=models.Index(
                condition=models.Q(("active", True)), fields=["agency", "due_at", "task"], name="taskreader_active"
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
