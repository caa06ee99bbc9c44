from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Cases"

    def ready(self):
        from workflows import checks  # noqa: F401  (registers the system checks)
