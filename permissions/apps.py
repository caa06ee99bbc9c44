from django.apps import AppConfig


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "Agencies and access"

    def ready(self):
        from django.utils.translation import ngettext

        from core import messages

        # The lowest app of the project: core's messages say counts in the reader's language.
        messages.use_ngettext(ngettext)

        from django.db.models.signals import post_migrate

        post_migrate.connect(_constants_read_again, dispatch_uid="permissions.constants")


def _constants_read_again(sender, using=None, **kwargs) -> None:
    """A migration, a test database created again or a test's flush (all send ``post_migrate``,
    once per app) may have given a permission another id: ``DatabaseConstant``s are
    forgotten and read again at the signal for ``workflows``, whose permissions ``contenttypes``
    and ``auth`` have just made in their own receivers (connected before this one), so that a
    request does not pay for the read (nor a test's count of statements see it)."""
    from django.db import DEFAULT_DB_ALIAS, connections

    from permissions.prepared import forget_constants, warm_constants

    if sender.label != "workflows":  # (once per migrate or flush)
        return
    forget_constants()
    warm_constants(connections[using or DEFAULT_DB_ALIAS])
