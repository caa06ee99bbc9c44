from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Cases"

    def ready(self):
        from workflows.jobs import files, messages  # noqa: F401  (register their jobs' handlers)
