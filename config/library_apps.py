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
"""

from axes.apps import AppConfig as LibraryAxesConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as LibraryTOTPConfig


def _name_model(app_config: AppConfig, model_name: str, singular, plural) -> None:
    meta = app_config.get_model(model_name)._meta
    meta.verbose_name, meta.verbose_name_plural = singular, plural


class AxesConfig(LibraryAxesConfig):
    verbose_name = _("Sign-in attempts")


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
