"""An x-share counts on a field whose category in the model (``metadata["fields"]``: the
forms its tasks use) is justice, not on one that only the marking form calls justice (a
form no task uses, which the lint does not read, shared a health field so). The categories
stored for the paths (migration 0041's ``fill``, now with that rule) are filled in again."""

from importlib import import_module

from django.db import migrations


def fill(apps, schema_editor):
    import_module("workflows.migrations.0041_path_categories_messages_timers").fill(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0042_password_reset_counts")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
