"""A correction names the agency it was made for, so the room for corrections is counted
per agency (one agency no longer fills a case's room for all). Step one of three: the
column, nullable until the rows already stored are filled in (0013)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0001_initial"),
        ("retention", "0011_archive_export_kept_package"),
    ]

    operations = [
        migrations.AddField(
            model_name="correction",
            name="agency",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="permissions.agency"
            ),
        ),
    ]
