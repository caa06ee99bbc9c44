"""The index ``(at, id)`` of ``WorkflowEviction``: the pruning (``runner._prune_evictions``)
finds the newest row older than a day on it, one entry read, instead of walking the primary
key back over every younger row. The table is small (rows live a day): a plain build."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0059_path_categories_branch_written_fields"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="workfloweviction",
            index=models.Index(fields=["at", "id"], name="workflow_eviction_at"),
        ),
    ]
