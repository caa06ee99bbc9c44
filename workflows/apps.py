from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Cases"

    def ready(self):
        from django.core import checks

        from core.public_ids import public_id_key_check
        from workflows.jobs import files, messages  # noqa: F401  (register their jobs' handlers)

        checks.register(public_id_key_check, checks.Tags.security, deploy=True)
