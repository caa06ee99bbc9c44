from django.apps import AppConfig


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "Agencies and access"

    def ready(self):
        from django.utils.translation import ngettext

        from core import messages

        # The lowest app of the project: core's messages say counts in the reader's language.
        messages.use_ngettext(ngettext)
