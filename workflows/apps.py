from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Cases"

    def ready(self):
        from workflows import checks  # noqa: F401  (registers the system checks)
        from workflows.jobs import messages  # noqa: F401  (registers the message job's handler)
