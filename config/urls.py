"""The site's routes: the web pages at the root, the REST API under /api/v1/, the admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as accounts_views
from api import views as api_views
from web import pages, password_reset

urlpatterns = [
    # First: the API's paths are most of the requests, and no other pattern matches them
    # (Django tries the patterns in order).
    path("api/v1/", include("api.urls")),
    path("", include("ops.urls")),  # /healthz, /readyz, /metrics (ops/)
    path("", RedirectView.as_view(pattern_name="tasks", permanent=False), name="home"),
    # The admin's password change counts a wrong current password like a failed sign-in.
    path(
        "admin/password_change/",
        admin.site.admin_view(accounts_views.admin_password_change),
        name="admin-password-change",
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),  # before Django's own: its login view is replaced
    # The reset mail goes through the job table: the page's answer says nothing of the address.
    path("accounts/password_reset/", password_reset.PasswordResetView.as_view(), name="password_reset"),
    # A link to an account made inactive since it was mailed sets no password.
    path(
        "accounts/reset/<uidb64>/<token>/",
        password_reset.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("processes/", include("web.process_urls")),
    path("", include("web.urls")),
]


def not_found(request, exception=None):
    """404: JSON in the API's error shape under /api/, the HTML page everywhere else."""
    if request.path.startswith("/api/"):
        return api_views.not_found(request)
    return pages.not_found(request, exception)


handler400 = "config.input_guard.unreadable"
handler404 = not_found
handler500 = "ops.errors.server_error"
