from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", include("ops.urls")),  # /healthz, /readyz, /metrics (ops/)
    path("", RedirectView.as_view(pattern_name="tasks", permanent=False), name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("processes/", include("bpmn.urls")),
    path("", include("workflows.urls")),
]

handler404 = "api.views.not_found"
handler500 = "ops.errors.server_error"
