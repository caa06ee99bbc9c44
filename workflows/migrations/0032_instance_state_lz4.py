# The workflow's state is written whole on every step (tens of kB of JSON text), and
# PostgreSQL compressed it with pglz: 3.6 % of the database's CPU in a `make bench` run
# (perf, 2026-12-04), more than any single statement's own work. lz4 compresses several
# times faster for a slightly larger value. Values already stored keep pglz until their
# instance's next step writes them again; both read the same.
from django.db import migrations

# A server built without lz4 (--without-lz4) keeps pglz: the column works either way.
_LZ4 = "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"


def _set_compression(method: str):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(_LZ4)
            row = cursor.fetchone()
        if row and row[0]:
            schema_editor.execute(
                f"ALTER TABLE workflows_processinstance ALTER COLUMN state SET COMPRESSION {method}", params=None
            )

    return run


class Migration(migrations.Migration):
    dependencies = [("workflows", "0031_fill_case_person_name")]

    operations = [migrations.RunPython(_set_compression("lz4"), _set_compression("DEFAULT"))]
