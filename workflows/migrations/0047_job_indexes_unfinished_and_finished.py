"""The job table's indexes for a table that is pruned (``workflows.jobs.queue.prune_finished``).

``job_due`` (status, due_at) held every job ever run: 108 MB at two million done jobs, of
which the workers read only the pending and running ones. ``job_due_open`` is the same
index over the unfinished jobs only (176 kB at the same table), and a job that finishes
leaves it instead of being written into it again. ``job_finished`` is what the pruning
walks: done and cancelled jobs by ``finished_at``.

Built and dropped ``CONCURRENTLY`` on PostgreSQL (outside a transaction): the job table is
written by every step, and an upgrade must not hold it against writes while they are built.
"""

from django.db import migrations, models

OLD = models.Index(fields=["status", "due_at"], name="job_due")
OPEN = models.Index(
    fields=["status", "due_at"], name="job_due_open", condition=models.Q(status__in=("pending", "running"))
)
FINISHED = models.Index(
    fields=["finished_at"], name="job_finished", condition=models.Q(status__in=("done", "cancelled"))
)


def _options(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def forwards(apps, schema_editor):
    job = apps.get_model("workflows", "Job")
    options = _options(schema_editor)
    schema_editor.add_index(job, OPEN, **options)
    schema_editor.add_index(job, FINISHED, **options)
    schema_editor.remove_index(job, OLD, **options)


def backwards(apps, schema_editor):
    job = apps.get_model("workflows", "Job")
    options = _options(schema_editor)
    schema_editor.add_index(job, OLD, **options)
    schema_editor.remove_index(job, FINISHED, **options)
    schema_editor.remove_index(job, OPEN, **options)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("workflows", "0046_path_categories_event_variables")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="job", name="job_due"),
                migrations.AddIndex(model_name="job", index=OPEN),
                migrations.AddIndex(model_name="job", index=FINISHED),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        )
    ]
