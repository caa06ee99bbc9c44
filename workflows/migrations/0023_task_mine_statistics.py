"""Statistics on a task's status, claimant and completer together (PostgreSQL's extended
statistics), for the "mine" lists: read on their own, the columns told the planner that a
user who completed a tenth of all tasks holds a tenth of the active ones too, and it walked
every active task in deadline order looking for them (231 ms for a busy NAV user at a
million tasks). Knowing that active tasks have no completer, it reads the user's claimed
and completed active tasks from their two partial indexes instead (README "Read paths at
scale"). ANALYZE fills the statistics now rather than at autovacuum's next visit."""

from django.db import migrations

CREATE = (
    "CREATE STATISTICS IF NOT EXISTS task_mine_statistics (mcv) "
    "ON status, assignee_id, completed_by_id FROM workflows_task"
)
DROP = "DROP STATISTICS IF EXISTS task_mine_statistics"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        schema_editor.execute("ANALYZE workflows_task")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0022_agency_withdrawn")]

    operations = [migrations.RunPython(create, drop)]
