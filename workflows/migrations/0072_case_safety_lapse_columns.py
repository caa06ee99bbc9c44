"""``Case.safety_since`` and ``Case.safety_until`` (h-lists): when a case's safety warnings
lapse, as columns the lists across cases compare with their clock (``rules.listed_task_rows``),
so that a task or timer on a branch a lapsed warning chose is no longer listed to the
participants who do not keep it. Filled in for stored cases from their data and times in force
(``Case.data_recorded_at``) by the version each runs (``policy.warning_columns``), as every
writer keeps them from now on."""

from django.db import migrations, models

from bpmn.registry import runtime_for
from permissions.policy import warning_columns


def fill(apps, schema_editor):
    Case = apps.get_model("workflows", "Case")
    ProcessInstance = apps.get_model("workflows", "ProcessInstance")
    versions = ProcessInstance.objects.order_by().values_list("definition_id", flat=True).distinct()
    for definition_id in sorted(versions):
        fields = runtime_for(definition_id).field_rules
        safety = sorted(name for name, category in fields.fields.items() if category == "safety")
        if not safety:
            continue
        # The cases that run this version (``selectors.case_runtime``: their latest instance's).
        latest = ProcessInstance.objects.filter(case_id=models.OuterRef("pk")).order_by("-id").values("definition_id")
        cases = (
            Case.objects.annotate(runs=models.Subquery(latest[:1]))
            .filter(runs=definition_id, data__has_any_keys=safety)
            .only("pk", "data", "data_recorded_at", "opened_at")
        )
        for case in cases.iterator(chunk_size=500):
            columns = warning_columns(case, fields)
            if any(value is not None for value in columns.values()):
                Case.objects.filter(pk=case.pk).update(**columns)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0071_safety_reminder_mail_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="safety_since",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="case",
            name="safety_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
