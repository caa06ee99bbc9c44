from django.db import migrations, models


def unlogged(apps, schema_editor):
    # A count that is lost in a crash costs nothing (full buckets), a WAL record per
    # request costs every request.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE ops_rate_bucket SET UNLOGGED")


class Migration(migrations.Migration):
    initial = True

    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="RateBucket",
            fields=[
                ("key", models.CharField(max_length=200, primary_key=True, serialize=False)),
                ("tat", models.FloatField()),
            ],
            options={"db_table": "ops_rate_bucket"},
        ),
        migrations.RunPython(unlogged, migrations.RunPython.noop, elidable=True),
    ]
