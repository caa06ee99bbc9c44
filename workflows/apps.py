from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Cases")

    def ready(self):
        from django.core import checks

        from workflows import public_ids
        from workflows.jobs import files, messages, safety_reminders  # noqa: F401  (register their jobs' handlers)

        public_ids.configure()
        checks.register(public_ids.public_id_key_check, checks.Tags.security, deploy=True)
