from django.apps import AppConfig


class InsightConfig(AppConfig):
    """Figures for leaders: summary tables kept in the events' transaction, and their reading."""

    name = "insight"
    verbose_name = "Insight"

    def ready(self):
        from core import hooks
        from workflows.jobs import handlers
        from workflows.models import JobKind

        from . import recording, rolling

        hooks.subscribe_writer(hooks.STEP_EVENTS, recording.record_step)
        handlers.register(JobKind.OVERDUE_ROLL, rolling.run_roll_job)
