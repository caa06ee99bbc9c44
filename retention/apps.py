from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention"

    def ready(self):
        from retention.jobs import run_archive_export_job, run_erasure_job
        from workflows.jobs import handlers
        from workflows.models import JobKind

        handlers.register(JobKind.ERASURE, run_erasure_job)
        handlers.register(JobKind.ARCHIVE_EXPORT, run_archive_export_job)
