"""Web UI routes (design §8), mounted at the site root."""

from django.urls import path

from . import views, views_cases

urlpatterns = [
    path("tasks/", views.inbox, name="tasks"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/claim/", views.task_claim, name="task-claim"),
    path("tasks/<int:pk>/unclaim/", views.task_unclaim, name="task-unclaim"),
    path("cases/", views_cases.case_list, name="cases"),
    path("cases/new/", views_cases.case_new, name="case-new"),
    path("cases/<int:pk>/", views_cases.case_detail, name="case"),
    path("cases/<int:pk>/person-access-report/", views_cases.person_access_report, name="person-access-report"),
    path("cases/<int:pk>/consents/", views_cases.consent_record, name="consent-record"),
    path("cases/<int:pk>/consents/<int:consent_pk>/revoke/", views_cases.consent_revoke, name="consent-revoke"),
]
