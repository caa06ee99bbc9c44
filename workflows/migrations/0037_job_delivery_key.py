"""Each job gets a random ``delivery_key``, the idempotency key its external calls carry
(instead of the job id, which is sequential over every job of the municipality).

Three steps: the column nullable, a key of its own for every row (a default on the column
would give every existing row the same one), then NOT NULL."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("UPDATE workflows_job SET delivery_key = gen_random_uuid() WHERE delivery_key IS NULL")
        return
    Job = apps.get_model("workflows", "Job")
    for pk in Job.objects.filter(delivery_key__isnull=True).values_list("pk", flat=True).iterator():
        Job.objects.filter(pk=pk).update(delivery_key=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("workflows", "0036_instance_timer_reads")]

    operations = [
        migrations.AddField(model_name="job", name="delivery_key", field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="job", name="delivery_key", field=models.UUIDField(default=uuid.uuid4, editable=False)
        ),
    ]
