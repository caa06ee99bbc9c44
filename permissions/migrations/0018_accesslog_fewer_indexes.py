"""The access log's indexes, none kept twice: a row is written for every read, and each
index is written with it.

Dropped: the case's and the person's own indexes (the first columns of
``accesslog_case_time_id`` and ``accesslog_person_time``), ``person_key``'s second index for
``LIKE`` (it is only ever compared whole) and the full indexes of ``consent`` and
``break_glass``, whose rows mostly have neither: partial indexes of the rows that name one
take their place (what the deletion of a consent or an opening looks for). On the bench-http
database the log's twelve indexes were twice the table's size; these five were a third of
them.

Built and dropped ``CONCURRENTLY`` (outside a transaction) on PostgreSQL, so an upgrade does
not hold the log, which every read writes to, while a large one is indexed."""

from django.db import migrations, models

TABLE = "permissions_accesslog"
# What Django named the indexes of db_index=True (the same on PostgreSQL and SQLite).
OLD = {
    "case": "permissions_accesslog_case_id_1d2da9bf",
    "person": "permissions_accesslog_person_id_d80dda6a",
    "consent": "permissions_accesslog_consent_id_39a0216c",
    "break_glass": "permissions_accesslog_break_glass_id_977de03f",
    "person_key": "permissions_accesslog_person_key_39d4b37a",
    "person_key_like": "permissions_accesslog_person_key_39d4b37a_like",
}
NEW = {
    "accesslog_person_key": "(person_key)",
    "accesslog_consent": "(consent_id) WHERE consent_id IS NOT NULL",
    "accesslog_break_glass": "(break_glass_id) WHERE break_glass_id IS NOT NULL",
}
RESTORED = {
    OLD["case"]: "(case_id)",
    OLD["person"]: "(person_id)",
    OLD["consent"]: "(consent_id)",
    OLD["break_glass"]: "(break_glass_id)",
    OLD["person_key"]: "(person_key)",
    OLD["person_key_like"]: "(person_key varchar_pattern_ops)",
}


def _concurrently(schema_editor) -> str:
    return " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""


def fewer(apps, schema_editor):
    how = _concurrently(schema_editor)
    for name, columns in NEW.items():
        schema_editor.execute(f"CREATE INDEX{how} IF NOT EXISTS {name} ON {TABLE} {columns}")
    for name in OLD.values():
        schema_editor.execute(f"DROP INDEX{how} IF EXISTS {name}")


def restore(apps, schema_editor):
    how = _concurrently(schema_editor)
    postgresql = schema_editor.connection.vendor == "postgresql"
    for name, columns in RESTORED.items():
        if "varchar_pattern_ops" in columns and not postgresql:
            continue
        schema_editor.execute(f"CREATE INDEX{how} IF NOT EXISTS {name} ON {TABLE} {columns}")
    for name in NEW:
        schema_editor.execute(f"DROP INDEX{how} IF EXISTS {name}")


def _foreign_key(to: str, related_name: str, **options) -> models.ForeignKey:
    return models.ForeignKey(
        blank=True,
        db_index=False,
        null=True,
        on_delete=models.deletion.PROTECT,
        related_name=related_name,
        to=to,
        **options,
    )


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("permissions", "0017_case_lists_by_id"), ("workflows", "0045_path_categories_script_variables")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(fewer, restore)],
            state_operations=[
                migrations.AlterField(
                    model_name="accesslog",
                    name="break_glass",
                    field=_foreign_key("permissions.breakglass", "+", help_text="with its reason"),
                ),
                migrations.AlterField(
                    model_name="accesslog", name="case", field=_foreign_key("workflows.case", "access_log")
                ),
                migrations.AlterField(
                    model_name="accesslog", name="consent", field=_foreign_key("permissions.consent", "+")
                ),
                migrations.AlterField(
                    model_name="accesslog", name="person", field=_foreign_key("workflows.person", "access_log")
                ),
                migrations.AlterField(
                    model_name="accesslog", name="person_key", field=models.CharField(blank=True, max_length=64)
                ),
                migrations.AddIndex(
                    model_name="accesslog",
                    index=models.Index(fields=["person_key"], name="accesslog_person_key"),
                ),
                migrations.AddIndex(
                    model_name="accesslog",
                    index=models.Index(
                        condition=models.Q(("consent__isnull", False)), fields=["consent"], name="accesslog_consent"
                    ),
                ),
                migrations.AddIndex(
                    model_name="accesslog",
                    index=models.Index(
                        condition=models.Q(("break_glass__isnull", False)),
                        fields=["break_glass"],
                        name="accesslog_break_glass",
                    ),
                ),
            ],
        )
    ]
