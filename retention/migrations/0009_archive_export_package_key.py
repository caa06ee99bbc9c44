"""Each archive export gets a random ``package_key``, from which its package's Noark
systemIDs are derived, so every attempt of the export posts the same bytes.

Three steps: the column nullable, a key of its own for every row (a default on the column
would give every existing export the same one), then NOT NULL."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    ArchiveExport = apps.get_model("retention", "ArchiveExport")
    for pk in ArchiveExport.objects.filter(package_key__isnull=True).values_list("pk", flat=True).iterator():
        ArchiveExport.objects.filter(pk=pk).update(package_key=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("retention", "0008_correction_refused_label")]

    operations = [
        migrations.AddField(
            model_name="archiveexport", name="package_key", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="archiveexport",
            name="package_key",
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
    ]
