from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = _("Agencies and access")

    def ready(self):
        from django.utils.translation import ngettext

        from core import messages

        # The lowest app of the project: core's messages say counts in the reader's language.
        messages.use_ngettext(ngettext)
