"""How many discharges of a month waited a day or more after "ready for discharge": the days
are theirs alone, so the days (and their cost) are shown only where five or more waited.

Rows counted before this column have no such count: each of their discharges is taken to
have waited where the month has days (what the figures assumed until now); ``manage.py
insight_backfill --replace`` counts them exactly from the cases."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("insight", "0005_open_tasks_one_merge_per_statement"),
    ]

    operations = [
        migrations.AddField(
            model_name="dischargewait",
            name="waited",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunSQL(
            "UPDATE insight_dischargewait SET waited = discharges WHERE days > 0",
            migrations.RunSQL.noop,
        ),
    ]
