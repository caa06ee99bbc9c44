"""Failed jobs are pruned too (``workflows.jobs.queue.prune_finished``), unless an open incident
names them: the index the pruning walks, ``job_finished`` (done and cancelled jobs by
``finished_at``), becomes ``job_prunable`` (done, cancelled and failed). Failed jobs are few,
so the new index is the old one's size.

Built and dropped ``CONCURRENTLY`` on PostgreSQL (outside a transaction), as 0047: the job
table is written by every step.
"""

from django.db import migrations, models

OLD = models.Index(fields=["finished_at"], name="job_finished", condition=models.Q(status__in=("done", "cancelled")))
NEW = models.Index(
    fields=["finished_at"], name="job_prunable", condition=models.Q(status__in=("done", "cancelled", "failed"))
)


def _options(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def forwards(apps, schema_editor):
    job = apps.get_model("workflows", "Job")
    options = _options(schema_editor)
    schema_editor.add_index(job, NEW, **options)
    schema_editor.remove_index(job, OLD, **options)


def backwards(apps, schema_editor):
    job = apps.get_model("workflows", "Job")
    options = _options(schema_editor)
    schema_editor.add_index(job, OLD, **options)
    schema_editor.remove_index(job, NEW, **options)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("workflows", "0048_finished_external_task")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="job", name="job_finished"),
                migrations.AddIndex(model_name="job", index=NEW),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        )
    ]
