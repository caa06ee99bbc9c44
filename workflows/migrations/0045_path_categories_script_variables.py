"""A gateway's or a timer's reads now take in what a script computed their variables from
(``bpmn.engine.element_needs.script_sources``): ``flag = needs_treatment`` read by a gateway
counts as reading the health field, not only a restricted name, which the coordinator sees.
And a loop whose count reads data is a split of its own (``gateway_paths.loop_paths``), a
conditional event one as a timer whose moment the data sets (``timer_paths``), and a signal,
escalation or error reaches its catches as a message does (``_message_edges``).
The categories stored at deploy (``metadata["path_categories"]``), the tasks'
``Task.path_categories`` and the instances' ``timer_path_categories`` are filled in again
from each version's model, as ``0041`` filled them, so that the lists across cases leave
such a branch's tasks and timers out for a reader who may not see the field."""

from importlib import import_module

from django.db import migrations


def fill(apps, schema_editor):
    import_module("workflows.migrations.0041_path_categories_messages_timers").fill(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0044_case_search_indexes"), ("bpmn", "0001_initial")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
