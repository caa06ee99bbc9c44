from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password_change/", views.password_change, name="password_change"),
    path("two-factor/", views.verify, name="two-factor-verify"),
    path("two-factor/setup/", views.setup, name="two-factor-setup"),
    path("two-factor/enrol/<str:token>/", views.enrol, name="two-factor-enrol"),
    path("sso/", views.SingleSignOnStart.as_view(), name="oidc_authentication_init"),
    path("sso/callback/", views.SingleSignOnCallback.as_view(), name="oidc_authentication_callback"),
]
