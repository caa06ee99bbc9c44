"""``Case.data_common`` (2026-12-06, h-paths3): the value of a field a step on a branch may
write over (``DefinitionRuntime.branch_rewritten``) as the start form or a step on no branch
last wrote it, shown to a reader from whom the branch is hidden (``policy.case_data_for``).

Filled in for stored cases from their data: a field no step on a branch has written in the
case (no completed task of such a step, no message received at one) holds the value such a
step wrote. Where one may have, the value is read from the workflow: as the last completed
task of a step on no branch left it, else as the case started (its source agency unknown:
none). Where neither has it, the field is left out, and a reader from whom the branch is
hidden is not shown it (such a case showed them the branch's value before)."""

from django.db import migrations, models

from bpmn.engine import runtime as engine
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
            for name in present - common.keys():
                # As the steps every case passes left it, read from the workflow's tasks.
                kept = _left_by_common_steps(runtime, ProcessInstance, case.pk, name)
                if kept[0]:
                    common[name] = [kept[1], None]
            if common != (case.data_common or {}):
                Case.objects.filter(pk=case.pk).update(data_common=common)


def _left_by_common_steps(runtime, ProcessInstance, case_id, name):
    common = {element for element, names in runtime._writes.items() if name in names} - runtime.on_branches
    for state in ProcessInstance.objects.filter(case_id=case_id, definition_id=runtime.definition_id).values_list(
        "state", flat=True
    ):
        if state and state != "{}":
            try:
                kept = engine.value_left_by(engine.load_workflow(runtime.bundle, state), common, name)
            except Exception:  # noqa: S112 (a state this version cannot load: the field is left out)
                continue
            if kept[0]:
                return kept
    return False, None


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
