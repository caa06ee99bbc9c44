"""The sign-in libraries' apps and models under names an operator reads in the admin.

django-axes, django-rest-knox and django-otp name their apps "Axes", "Knox" and "Otp_Totp",
and knox and django-otp their models "auth token" and "TOTP device", marked for no
translation: the admin's index, lists, page titles, breadcrumbs, delete and history pages,
its messages and the permission names said them in English. Only the names change: the
labels, the models and the migrations are the libraries' own (django-axes' names are
translated: ``config/library_locale``).

A model's name is set on its ``_meta`` when the app is ready. ``makemigrations`` reads a
model's options from what its ``Meta`` declared (``Options.original_attrs``), never from
``_meta``, so no migration follows in the libraries' apps (set in their ``Meta``, it would be
an ``AlterModelOptions`` there; ``makemigrations --check`` stays clean). Their fields keep
their names: our admins name them as columns and filter titles (``accounts.admin``).

django-axes names its rows in English ("Attempted Access: ...", "Access Log for ... @ ...",
"Failed access: user ..."), which the admin's titles, breadcrumbs, delete and history pages
and messages say: its models' ``__str__`` is set to ours when the app is ready, from what
their admin pages show (username, time, address). Nothing else reads it: the library logs
its own texts, never a row's.
"""

from axes.apps import AppConfig as LibraryAxesConfig
from django.apps import AppConfig
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as LibraryTOTPConfig


def _name_model(app_config: AppConfig, model_name: str, singular, plural) -> None:
    meta = app_config.get_model(model_name)._meta
    meta.verbose_name, meta.verbose_name_plural = singular, plural


def _when(row) -> str:
    return f"{timezone.localtime(row.attempt_time):%Y-%m-%d %H:%M}" if row.attempt_time else ""


def _attempt_name(row) -> str:
    return gettext("sign-in attempts by {username}, {time}").format(username=row.username or "?", time=_when(row))


def _sign_in_name(row) -> str:
    return gettext("sign-in by {username}, {time}").format(username=row.username or "?", time=_when(row))


def _failure_name(row) -> str:
    text = (
        gettext("failed sign-in by {username}, {time}, from {address} (locked)")
        if row.locked_out
        else gettext("failed sign-in by {username}, {time}, from {address}")
    )
    return text.format(username=row.username or "?", time=_when(row), address=row.ip_address or "?")


class AxesConfig(LibraryAxesConfig):
    verbose_name = _("Sign-in attempts")

    def ready(self):
        super().ready()
        for model_name, name in (
            ("AccessAttempt", _attempt_name),
            ("AccessLog", _sign_in_name),
            ("AccessFailureLog", _failure_name),
        ):
            self.get_model(model_name).__str__ = name


class KnoxConfig(AppConfig):
    # django-rest-knox ships no AppConfig of its own: Django made this one.
    name = "knox"
    verbose_name = _("API tokens")

    def ready(self):
        _name_model(self, "AuthToken", _("API token"), _("API tokens"))


class TOTPConfig(LibraryTOTPConfig):
    verbose_name = _("Second factor (authenticator app)")

    def ready(self):
        super().ready()
        _name_model(self, "TOTPDevice", _("authenticator app"), _("authenticator apps"))
