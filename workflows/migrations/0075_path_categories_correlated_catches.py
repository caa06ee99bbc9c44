"""What a case's path gives away, read anew (h-attack38), for every stored version, its tasks
and instances, as ``0050`` filled them (its ``fill``, with the analysis as it is now; it
changes only what differs): a message catch whose correlation values are computed from data
(``gateway_paths._correlation_reads``) catches a message only when the message's values equal
those its process holds, so it and what only it leads to lie on a split of their own, with the
model's throws of its message (one its process catches leaves no "message sent" event), as a
conditional event's do. A health value compared with ``True`` that way opened the housing
office's task, listed to NAV, only where the value held. And an ad-hoc sub-process whose
completion condition reads data, with what is inside it, lies on a split of its own
(``gateway_paths.loop_paths``): it cancelled the housing task inside it where the value held.
And a transaction's cancel end event reaches its cancel boundary events as an error end reaches
its catches (``gateway_paths.SIGNAL_LIKE``): the tasks after the boundary and after the
transaction lay on no branch of the gateway that chose the cancel."""

from importlib import import_module

from django.db import migrations


def fill(apps, schema_editor):
    import_module("workflows.migrations.0050_path_categories_called_files_and_branches").fill(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0074_overdue_roll_jobs")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
