# The open-task summary's index on the agency alone is dropped (README "Production server"):
# no read walks it (the merge's upsert and the overdue figure read by scope and day through
# ``insight_opentasks_key``, deletes go by the primary key) and the column has no foreign-key
# check to serve (``db_constraint=False``), while every summary row written added an entry:
# a bench case's day row is inserted and deleted again at each completion (five a
# completion).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("insight", "0010_open_tasks_one_merge_per_transaction"),
        ("permissions", "0025_request_labels_in_bokmal"),
    ]

    operations = [
        migrations.AlterField(
            model_name="opentasksdue",
            name="agency",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="permissions.agency",
            ),
        ),
    ]
