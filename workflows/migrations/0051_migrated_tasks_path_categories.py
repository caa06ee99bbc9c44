"""A case moved to another version (``workflows.services.versions``) kept, on its open tasks,
the path categories of their element in the version it left: a task the new version hides
behind a gateway that reads health data stayed in the lists of readers who may not see it.
The move now sets them as a task created on the new version gets them; this fills them in
for the open tasks of the instances moved before, from their version's stored categories."""

from django.db import migrations

from permissions.rules import path_mask

OPEN = ("open", "claimed")


def fill(apps, schema_editor):
    ProcessDefinition = apps.get_model("bpmn", "ProcessDefinition")
    Task = apps.get_model("workflows", "Task")
    VersionMigration = apps.get_model("workflows", "VersionMigration")
    targets = VersionMigration.objects.values_list("to_definition_id", flat=True).distinct()
    rows = ProcessDefinition.objects.filter(pk__in=targets).values_list("pk", "metadata")
    for definition_id, metadata in rows.iterator():
        found = (metadata or {}).get("path_categories") or {}
        tasks = Task.objects.filter(instance__definition_id=definition_id, status__in=OPEN)
        for element_id in tasks.values_list("element_id", flat=True).distinct():
            mask = path_mask(found.get(element_id, ()))
            tasks.filter(element_id=element_id).exclude(path_categories=mask).update(path_categories=mask)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0050_path_categories_called_files_and_branches")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
