# The coordinator reads a national id another person holds (merge) as a refusal reads, so the
# refusal's label says what both are to them: not carried out after the auditor's review.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0007_retention_rule_changes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="correction",
            name="status",
            field=models.CharField(
                choices=[
                    ("done", "corrected"),
                    ("waiting", "waiting for review"),
                    ("merge", "another person holds the number: waiting for an administrator to merge the persons"),
                    ("refused", "not carried out after the auditor's review"),
                ],
                default="done",
                max_length=20,
            ),
        ),
    ]
