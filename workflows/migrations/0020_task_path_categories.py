"""Task.path_categories (issue 11): the categories read by the gateways whose branches a
task lies on, so that lists across cases can leave out another agency's task whose path
would tell a masked value. Filled in for the tasks already stored, from their version's model."""

from django.db import migrations, models

from bpmn.engine.gateway_paths import gateway_paths
from permissions.rules import path_categories, path_mask


def fill(apps, schema_editor):
    ProcessDefinition = apps.get_model("bpmn", "ProcessDefinition")
    Task = apps.get_model("workflows", "Task")
    for definition_id, bpmn_xml, metadata in ProcessDefinition.objects.values_list("pk", "bpmn_xml", "metadata"):
        found = path_categories(gateway_paths(bpmn_xml), (metadata or {}).get("fields") or {})
        for element_id, categories in found.items():
            Task.objects.filter(instance__definition_id=definition_id, element_id=element_id).update(
                path_categories=path_mask(categories)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0019_list_indexes"),
        ("bpmn", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="path_categories",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
