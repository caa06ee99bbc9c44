"""Cached workflows are dropped in every process after an erasure, a correction or a person
merge (``workflows.models.WorkflowEviction``): each step's lock reads the newest row's id."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0056_scrub_stored_errors_with_model"),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkflowEviction",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("instance_id", models.BigIntegerField()),
                ("at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "verbose_name": "workflow eviction",
                "verbose_name_plural": "workflow evictions",
            },
        ),
    ]
