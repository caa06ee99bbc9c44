"""``Case.data_common`` (2026-12-06, h-paths3): the value of a field a step on a branch may
write over (``DefinitionRuntime.branch_rewritten``) as the start form or a step on no branch
last wrote it, shown to a reader from whom the branch is hidden (``policy.case_data_for``).

Filled in for stored cases from their data: a field no step on a branch has written in the
case (no completed task of such a step, no message received at one) holds the value such a
step wrote. Where one may have, the earlier value is not known: the field is left out, and a
reader from whom the branch is hidden is not shown it (the safe side; as before 2026-12-05 a
field only the branch wrote)."""

from django.db import migrations, models

from bpmn.registry import runtime_for


def fill(apps, schema_editor):
    Case = apps.get_model("workflows", "Case")
    ProcessInstance = apps.get_model("workflows", "ProcessInstance")
    Task = apps.get_model("workflows", "Task")
    Event = apps.get_model("workflows", "Event")
    versions = ProcessInstance.objects.order_by().values_list("definition_id", flat=True).distinct()
    for definition_id in versions:
        runtime = runtime_for(definition_id)
        rewritten = runtime.branch_rewritten
        if not rewritten:
            continue
        writers = {name: {e for e, names in runtime.branch_writers.items() if name in names} for name in rewritten}
        case_ids = ProcessInstance.objects.filter(definition_id=definition_id).values_list("case_id", flat=True)
        for case in Case.objects.filter(pk__in=case_ids).only("pk", "data", "data_sources", "data_common"):
            present = rewritten & (case.data or {}).keys()
            if not present:
                continue
            elements = set().union(*(writers[name] for name in present))
            ran = set(
                Task.objects.filter(case=case, element_id__in=elements, status="completed").values_list(
                    "element_id", flat=True
                )
            ) | set(
                Event.objects.filter(case=case, kind="message_received", element_id__in=elements).values_list(
                    "element_id", flat=True
                )
            )
            if Event.objects.filter(case=case, kind="message_received", element_id="").exists():
                ran |= elements - runtime.user_tasks.keys()  # a catch the sender did not see: any
            common = {
                name: [case.data[name], (case.data_sources or {}).get(name)]
                for name in present
                if not writers[name] & ran
            }
            if common != (case.data_common or {}):
                Case.objects.filter(pk=case.pk).update(data_common=common)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0053_file_deletion_jobs")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="data_common",
            field=models.JSONField(blank=True, db_default={}, default=dict),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
