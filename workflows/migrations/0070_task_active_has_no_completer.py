"""'Mine' among active tasks read a page at a time (issue 12, point 3; README "Read paths at scale").

An active task has no completer (a check: only a completion names one, and it ends the
task), so "mine" among active tasks (``assigned=me&status=active``, the inbox's first tab)
is the claimant's alone, read in the list's order from ``task_claimant_active``: each
active task's claimant (``workflows.models.active_claimant``), its deadline and id. The OR
with "completed by me" made PostgreSQL read every active task the user holds and sort them,
or walk every active task of the table for theirs; and the assignee column's statistics
(it names who did every completed task too) made it think a desk of 300 was 1,550 rows.
``task_assignee_active`` and ``task_completed_by_active`` (only NULLs under the check)
served nothing else. ANALYZE gathers the index expression's statistics now rather than at
autovacuum's next visit. Adding the check reads the table once; a row an earlier hand edit
left active with a completer stops it, named by PostgreSQL.
"""

import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE workflows_task")


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0026_accesslog_task_basis"),
        ("workflows", "0069_note_safety_reminded_for"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="task",
            name="task_assignee_active",
        ),
        migrations.RemoveIndex(
            model_name="task",
            name="task_completed_by_active",
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                models.Case(models.When(status__in=("open", "claimed"), then=models.F("assignee_id"))),
                models.F("due_at"),
                models.F("id"),
                condition=models.Q(
                    django.db.models.lookups.IsNull(
                        models.Case(models.When(status__in=("open", "claimed"), then=models.F("assignee_id"))), False
                    )
                ),
                name="task_claimant_active",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("completed_by__isnull", True),
                    models.Q(("status__in", ("open", "claimed")), _negated=True),
                    _connector="OR",
                ),
                name="task_active_has_no_completer",
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
