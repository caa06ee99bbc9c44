"""Case.next_due_at (issue 12): the earliest due date of the case's open or claimed tasks,
so the overdue cases are read from an index. Filled in for the cases already stored, in
one statement (a few seconds at 300,000 cases), before its index is built."""

from django.conf import settings
from django.db import migrations, models

FILL = """
UPDATE workflows_case SET next_due_at = earliest.due
FROM (SELECT case_id, MIN(due_at) AS due FROM workflows_task
      WHERE status IN ('open', 'claimed') AND due_at IS NOT NULL GROUP BY case_id) earliest
WHERE earliest.case_id = workflows_case.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0015_accesslog_connector_rows"),
        ("workflows", "0020_task_path_categories"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="next_due_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("next_due_at__isnull", False)),
                fields=["opened_at", "id", "next_due_at"],
                name="case_next_due",
            ),
        ),
    ]
