from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running Brobygger: the production server, health checks, metrics, request logs."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        from core import hooks

        from . import metrics, quick_settings

        quick_settings.install()

        hooks.subscribe(hooks.CASE_STARTED, metrics.count_case_started)
        hooks.subscribe(hooks.TASK_COMPLETED, metrics.count_task_completed)
        hooks.subscribe(hooks.TIMER_FIRED, metrics.count_timer_fired)
