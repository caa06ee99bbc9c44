"""The sign-in libraries' apps under names an operator reads in the admin.

django-axes, django-rest-knox and django-otp name their apps "Axes", "Knox" and "Otp_Totp".
Only the name changes: the label, the models and the migrations are the libraries' own.
"""

from axes.apps import AppConfig as LibraryAxesConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as LibraryTOTPConfig


class AxesConfig(LibraryAxesConfig):
    verbose_name = _("Sign-in attempts")


class KnoxConfig(AppConfig):
    # django-rest-knox ships no AppConfig of its own: Django made this one.
    name = "knox"
    verbose_name = _("API tokens")


class TOTPConfig(LibraryTOTPConfig):
    verbose_name = _("Second factor (authenticator app)")
