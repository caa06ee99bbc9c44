from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Sign-in")

    def ready(self):
        from django.core import checks

        from accounts import failure_log, signals  # noqa: F401 - connects the receivers
        from accounts.lockout import forwarded_allow_ips_check
        from accounts.oidc import endpoints_check
        from accounts.rate_limit import prune_full
        from accounts.sessions import end_deactivated_sessions
        from core import hooks

        hooks.subscribe_sweep(hooks.SESSIONS_TO_END, end_deactivated_sessions)
        hooks.subscribe_sweep(hooks.EXPIRED_ROWS, prune_full)
        hooks.subscribe_sweep(hooks.EXPIRED_ROWS, failure_log.prune)

        checks.register(forwarded_allow_ips_check, checks.Tags.security)
        checks.register(endpoints_check, checks.Tags.security)
