"""CaseParticipant, moved here from the workflows app in Django's state only: the table
``workflows_caseparticipant`` and its rows stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0003_agency_webhook"),
        ("workflows", "0003_caseparticipant_moves_to_permissions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CaseParticipant",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("kind", models.CharField(max_length=20)),
                        ("added_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "agency",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="participations",
                                to="permissions.agency",
                            ),
                        ),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="participants",
                                to="workflows.case",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "workflows_caseparticipant",
                        "constraints": [models.UniqueConstraint(fields=("case", "kind"), name="unique_case_kind")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
