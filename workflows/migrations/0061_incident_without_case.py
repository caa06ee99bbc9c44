"""An incident may name no case and no instance: a deletion job's (a file's, an erasure's) that
fails without either is still one the admins see (``queue.SEEN_WITHOUT_A_CASE``). Dropping
NOT NULL rewrites nothing."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0060_workflow_eviction_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="incident",
            name="case",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="incidents",
                to="workflows.case",
            ),
        ),
        migrations.AlterField(
            model_name="incident",
            name="instance",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="incidents",
                to="workflows.processinstance",
            ),
        ),
    ]
