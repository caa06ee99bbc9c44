from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Cases"

    def ready(self):
        from workflows.jobs import messages  # noqa: F401  (registers the message job's handler)
