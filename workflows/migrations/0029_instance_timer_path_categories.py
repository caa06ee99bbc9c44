"""ProcessInstance.timer_path_categories (issue 11, point 7): the categories read by the
gateways on whose branches any timer of the instance's model lies, so that the case lists,
"today" and the case's next deadline show a timer only to a reader who sees them all (which
timer waits told the branch taken). Filled in for the instances already stored, from their
version's model; every step keeps it after."""

from django.db import migrations, models

from bpmn.engine.gateway_paths import gateway_paths, timer_elements
from permissions.rules import path_categories, path_mask


def fill(apps, schema_editor):
    ProcessDefinition = apps.get_model("bpmn", "ProcessDefinition")
    ProcessInstance = apps.get_model("workflows", "ProcessInstance")
    for definition_id, bpmn_xml, metadata in ProcessDefinition.objects.values_list("pk", "bpmn_xml", "metadata"):
        metadata = metadata or {}
        found = metadata.get("path_categories")
        if found is None:
            found = path_categories(gateway_paths(bpmn_xml), metadata.get("fields") or {})
        mask = 0
        for element_id in timer_elements(bpmn_xml):
            mask |= path_mask(found.get(element_id, ()))
        if mask:
            ProcessInstance.objects.filter(definition_id=definition_id).update(timer_path_categories=mask)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0028_task_reader_update_delete_lock"),
        ("bpmn", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="processinstance",
            name="timer_path_categories",
            field=models.PositiveSmallIntegerField(db_default=0),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
