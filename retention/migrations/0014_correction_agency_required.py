"""Every correction names its agency (filled in by 0013); the room is counted per case and
agency, on an index."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0013_correction_agency_backfill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="correction",
            name="agency",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="permissions.agency"
            ),
        ),
        migrations.AddIndex(
            model_name="correction",
            index=models.Index(fields=["case", "agency"], name="correction_case_agency"),
        ),
    ]
