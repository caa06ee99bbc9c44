"""Repeated failures of one kind fold into one open incident (``queue.FOLDED``: the password-reset
mail a mail server refuses): how many (``occurrences``), the last one's time, and the kind
(``fold_key``), one open incident per kind. Columns with a database default and a partial
unique index over no row yet: nothing is rewritten."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0061_incident_without_case"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="fold_key",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.AddField(
            model_name="incident",
            name="last_occurred_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="incident",
            name="occurrences",
            field=models.PositiveIntegerField(db_default=1, default=1),
        ),
        migrations.AddConstraint(
            model_name="incident",
            constraint=models.UniqueConstraint(
                condition=models.Q(("resolved_at__isnull", True), models.Q(("fold_key", ""), _negated=True)),
                fields=("fold_key",),
                name="incident_open_fold",
            ),
        ),
    ]
