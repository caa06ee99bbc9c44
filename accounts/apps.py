from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Sign-in"

    def ready(self):
        from django.core import checks

        from accounts import signals  # noqa: F401 - connects the receivers
        from accounts.lockout import forwarded_allow_ips_check
        from accounts.oidc import endpoints_check

        checks.register(forwarded_allow_ips_check, checks.Tags.security)
        checks.register(endpoints_check, checks.Tags.security)
