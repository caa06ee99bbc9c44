"""What a case's path gives away, read anew (2026-12-06), for every stored version and its
tasks, as ``0050`` filled them (its ``fill``, with the analysis as it is now; it changes only
what differs). One migration for two changes of the analysis, both landed that day:

- a value a script changes in place through another name (``alias = flags`` then
  ``alias["treatment"] = needs_treatment``, a base that is no name, a loop's name, ``+=`` on a
  list) carries what was written under every name that may hold it
  (``bpmn.engine.element_needs._share_changes``), so a gateway on ``flags`` reads the health
  field;
- a walk that reaches a sub-process or a call activity on a branch walks on inside it: a
  message thrown in a called file on a hidden branch and caught in another file (or the
  model) carries the branch to the catch and what follows it;
- a message, signal, escalation or error boundary event whose every throw lies on a
  gateway's branches lies on them, with what it leads to and, interrupting, its activity;
  what follows an activity such an event thrown inside it ends is reached by its other ends;
  a catch event on a flow whose every throw lies on the branches goes on only on them;
- an element of a called file whose id another file's element has takes another id in the
  analysis (``gateway_paths.with_called``). Versions deployed before deploy refused a shared
  task, flow or gateway id (``called-duplicate-id``) kept the analysis that joined the two:
  what followed the called one was reached from the model's namesake, on every branch. Their
  categories are those of the two apart now, a shared id hidden where either element is (a
  task of that id in a case may be either); a message id two files share (still deployed)
  is each file's own.

The stored categories (``metadata["path_categories"]``), the tasks' ``Task.path_categories``
and the instances' ``timer_path_categories`` are set from them."""

from importlib import import_module

from django.db import migrations


def fill(apps, schema_editor):
    import_module("workflows.migrations.0050_path_categories_called_files_and_branches").fill(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0051_migrated_tasks_path_categories")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
