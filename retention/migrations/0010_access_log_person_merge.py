# The access log's trigger (permissions 0002, 0010; retention 0004, 0005) learns one more
# change: an auditor's merge of two person rows (``retention.services.merge_persons``) moves
# the merged person's rows to the person who holds the number, and re-keys the rows of their
# erased cases from the old number's key to the holder's. Only while the transaction has set
# ``brobygger.person_merge`` to "<merged id> <holder id> <old key> <new key>", and only the
# person or the key of a row, nothing else of it. Every other UPDATE and DELETE is refused
# as before (0005's function, unchanged, is what the reverse puts back). The merge status's
# label names the auditor, who now merges, instead of an administrator.

import importlib

from django.db import migrations, models

BEFORE = importlib.import_module("retention.migrations.0005_person_access_log_deletion").TRIGGER_SQL

MERGE_CLAUSE = """
    merge := string_to_array(coalesce(current_setting('brobygger.person_merge', true), ''), ' ');
    IF TG_OP = 'UPDATE' AND cardinality(merge) = 4
       AND (to_jsonb(NEW) - 'person_id' - 'person_key') = (to_jsonb(OLD) - 'person_id' - 'person_key')
       AND (
           (OLD.person_id = merge[1]::bigint AND NEW.person_id = merge[2]::bigint
            AND NEW.person_key = OLD.person_key)
           OR (OLD.person_id IS NULL AND NEW.person_id IS NULL
               AND OLD.person_key = merge[3] AND NEW.person_key = merge[4] AND merge[4] <> '')
       )
    THEN
        RETURN NEW;
    END IF;
"""
AFTER = BEFORE.replace("AS $$\nBEGIN\n", "AS $$\nDECLARE\n    merge text[];\nBEGIN\n" + MERGE_CLAUSE, 1)
assert AFTER != BEFORE


def allow_merges(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(AFTER, params=None)


def refuse_merges(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BEFORE, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0009_archive_export_package_key"),
        ("permissions", "0010_accesslog_person_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="correction",
            name="status",
            field=models.CharField(
                choices=[
                    ("done", "corrected"),
                    ("waiting", "waiting for review"),
                    ("merge", "another person holds the number: waiting for the auditor to merge the persons"),
                    ("refused", "not carried out after the auditor's review"),
                ],
                default="done",
                max_length=20,
            ),
        ),
        migrations.RunPython(allow_merges, refuse_merges),
    ]
