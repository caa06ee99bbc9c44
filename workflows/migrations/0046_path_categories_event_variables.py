"""An event's payload caught into a variable (a message's ``messageVariable``, an error's,
signal's or escalation's ``variableName``) now carries what the payloads caught into it read,
and a name a script sets on a branch of a gateway, timer or loop what that split reads
(``bpmn.engine.element_needs.script_sources``): a gateway that reads such a variable reads the
health field behind it, not only a restricted name, which the coordinator sees. The categories
stored at deploy, the tasks' and the instances' are filled in again from each version's
model, as ``0041`` and ``0045`` filled them, so that versions deployed before leave such a
branch's tasks out of the lists of a reader who may not see the field, without a new deploy."""

from importlib import import_module

from django.db import migrations


def fill(apps, schema_editor):
    import_module("workflows.migrations.0041_path_categories_messages_timers").fill(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0045_path_categories_script_variables")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
