"""What a case's path gives away, read anew (2026-12-06, h-paths3), for every stored version,
its tasks and instances, as ``0050`` filled them (its ``fill``, with the analysis as it is
now; it changes only what differs):

- a boundary event, or a catch on a flow, whose every throw lies on a data timer's branch
  (beyond the first task its firing makes too) lies on that branch, with what it leads to
  (``gateway_paths._caught_on_timer_branches``), as it did for a gateway's;
- an event-based gateway's other events beside a catch a branch sets off (a timer that fires
  where the message never came), and what follows them, lie on the branch;
- what follows an activity as usual, when an interrupting boundary event thrown on a branch
  (on a parallel path: a race) may cancel it, lies on the branch
  (``gateway_paths._cut_caught``);
- an event sub-process whose start only throws on a branch set off lies on the branch, and,
  interrupting, what holds it (the process's other work, cancelled or not) with it
  (``gateway_paths._caught_activities``);
- a terminate end event on a split's branch ends what its process (or sub-process) does on
  its other paths: that lies on the branch (``gateway_paths._terminated_on_branches``);
- the other events an event-based gateway waits for beside a data timer, and what only they
  lead to, lie on the timer's branch (``gateway_paths._timer_alternatives``)."""

from importlib import import_module

from django.db import migrations


def fill(apps, schema_editor):
    import_module("workflows.migrations.0050_path_categories_called_files_and_branches").fill(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0054_case_data_common")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
