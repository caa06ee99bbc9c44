"""What a case's path gives away, read anew (2026-12-06): a value a script changes in place
through another name (``alias = flags`` then ``alias["treatment"] = needs_treatment``, a base
that is no name, a loop's name, ``+=`` on a list) carries what was written under every name
that may hold it (``bpmn.engine.element_needs._share_changes``), so a gateway on ``flags``
reads the health field. The stored categories (``metadata["path_categories"]``,
``Task.path_categories``, ``ProcessInstance.timer_path_categories``) are filled in again from
each version's model, as ``0050`` filled them: the same function, which changes only what
differs."""

from importlib import import_module

from django.db import migrations


def fill(apps, schema_editor):
    import_module("workflows.migrations.0050_path_categories_called_files_and_branches").fill(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0051_migrated_tasks_path_categories")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
