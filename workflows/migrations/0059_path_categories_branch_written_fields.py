"""What a case's path gives away, read anew (2026-12-06, h-paths4), for every stored version,
its tasks and instances, as ``0050`` filled them (its ``fill``, with the analysis as it is
now; it changes only what differs):

- a field a step on a split's branch writes (a user task's form field, a message catch's
  declared field, a service task's output: ``gateway_paths.element_writes``) carries what the
  split reads, as a script's variable set there did (``paths_and_sources(writes=)``): a
  gateway, timer or loop after the branches meet that reads ``treatment_home_plan``, which
  only the treatment branch's housing task writes, reads the health value that chose the
  branch, and the tasks on its branches (``Task.path_categories``) and the instances' timers
  (``timer_path_categories``) are listed across cases only to a reader who sees it;
- what follows only the events an event-based gateway waits for beside a data timer takes in
  the nodes of a loop there and what follows it (``gateway_paths._only_through``): they lay on
  no branch and told that the answer came before the masked moment."""

from importlib import import_module

from django.db import migrations


def fill(apps, schema_editor):
    import_module("workflows.migrations.0050_path_categories_called_files_and_branches").fill(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0058_covered_foreign_key_indexes")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
