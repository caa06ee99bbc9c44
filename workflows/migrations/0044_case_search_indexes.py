"""Trigram indexes for the case search (``CaseFilter.q``): part of a name or a reference.

``person_name ILIKE '%...%'`` cannot use a b-tree, so a search walked every case the reader
sees: 300-365 ms for a busy NAV office at a million tasks (`make bench-scale`, "case
search"), where the lists answer in under 20. GIN indexes of the upper-cased name and
reference with pg_trgm's operator class answer ``UPPER(x) LIKE '%...%'`` (what Django's
``icontains`` sends) from the index: 4.6 ms for the same search. pg_trgm ships with
PostgreSQL (contrib) and is a trusted extension: the database's owner may create it.

Built ``CONCURRENTLY`` (outside a transaction), so an upgrade does not hold the case table
against writes while the indexes are built (about 2 s for 300,000 cases)."""

from django.db import migrations

INDEXES = {
    "case_search_name": "UPPER(person_name) gin_trgm_ops",
    "case_search_reference": "UPPER(reference) gin_trgm_ops",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite (the demo) searches its few cases without an index
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON workflows_case USING gin ({expression})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("workflows", "0043_shared_fields_by_model_category")]

    operations = [migrations.RunPython(create, drop)]
