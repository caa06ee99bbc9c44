"""API v1 routes (design §7), mounted at ``/api/v1/``."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import auth_views, messages, notes, retention, views
from workflows.public_ids import register_converters

register_converters()  # <task_id:pk>, <event_id:pk>: public ids in, keys to the views

urlpatterns = [
    # The routes every task completion asks for first: Django tries the patterns in order (each
    # tried one a regular expression search), and no other pattern matches their paths.
    path("tasks/", views.TaskList.as_view(), name="api-tasks"),
    path("tasks/<task_id:pk>/", views.TaskDetail.as_view(), name="api-task"),
    path("tasks/<task_id:pk>/claim/", views.TaskClaim.as_view(), name="api-task-claim"),
    path("tasks/<task_id:pk>/unclaim/", views.TaskUnclaim.as_view(), name="api-task-unclaim"),
    path("tasks/<task_id:pk>/reassign/", views.TaskReassign.as_view(), name="api-task-reassign"),
    path("tasks/<task_id:pk>/complete/", views.TaskComplete.as_view(), name="api-task-complete"),
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("auth/token/revoke/", auth_views.TokenRevoke.as_view(), name="api-token-revoke"),
    path("auth/token/revoke-all/", auth_views.TokenRevokeAll.as_view(), name="api-token-revoke-all"),
    path("agencies/", views.AgencyList.as_view(), name="api-agencies"),
    path("legal-bases/", views.LegalBasisList.as_view(), name="api-legal-bases"),
    path("legal-bases/<int:pk>/", views.LegalBasisDetail.as_view(), name="api-legal-basis"),
    path("legal-bases/<int:pk>/retire/", views.LegalBasisRetire.as_view(), name="api-legal-basis-retire"),
    path("process-definitions/", views.ProcessDefinitionList.as_view(), name="api-process-definitions"),
    path("process-definitions/<str:key>/", views.ProcessDefinitionDetail.as_view(), name="api-process-definition"),
    path(
        "process-definitions/<str:key>/versions/<int:version>/",
        views.ProcessDefinitionVersion.as_view(),
        name="api-process-definition-version",
    ),
    path(
        "process-definitions/<str:key>/versions/<int:version>/migration/",
        views.VersionMigrationView.as_view(),
        name="api-process-version-migration",
    ),
    path("cases/", views.CaseList.as_view(), name="api-cases"),
    path("cases/<int:pk>/", views.CaseDetail.as_view(), name="api-case"),
    path("cases/<int:pk>/responsible/", views.CaseResponsible.as_view(), name="api-case-responsible"),
    path("caseload/", views.CaseloadView.as_view(), name="api-caseload"),
    path("cases/<int:pk>/follow-on/", views.CaseFollowOn.as_view(), name="api-case-follow-on"),
    path(
        "cases/<int:pk>/safety-confirmations/",
        views.CaseSafetyConfirmations.as_view(),
        name="api-case-safety-confirmations",
    ),
    path("cases/<int:pk>/withdrawals/", views.CaseWithdrawals.as_view(), name="api-case-withdrawals"),
    path("cases/<int:pk>/person/", views.CasePersonPath.as_view(), name="api-case-person"),
    path("cases/<int:pk>/timeline/", views.CaseTimeline.as_view(), name="api-case-timeline"),
    path("cases/<int:pk>/diagram/", views.CaseDiagram.as_view(), name="api-case-diagram"),
    path("cases/<int:pk>/consents/", views.CaseConsents.as_view(), name="api-case-consents"),
    path("cases/<int:pk>/break-glass/", views.CaseBreakGlass.as_view(), name="api-case-break-glass"),
    path("cases/<int:pk>/retention/", retention.CaseRetention.as_view(), name="api-case-retention"),
    path("cases/<int:pk>/erasure/", retention.CaseErasure.as_view(), name="api-case-erasure"),
    path("cases/<int:pk>/archive-export/", retention.CaseArchiveExport.as_view(), name="api-case-archive-export"),
    path("cases/<int:pk>/corrections/", retention.CaseCorrections.as_view(), name="api-case-corrections"),
    path("retention-rules/", retention.RetentionRuleList.as_view(), name="api-retention-rules"),
    path("retention-rules/changes/", retention.RetentionRuleChangeList.as_view(), name="api-retention-rule-changes"),
    path("retention-rules/<int:pk>/", retention.RetentionRuleDetail.as_view(), name="api-retention-rule"),
    path("erasures/<int:pk>/review/", retention.ErasureReview.as_view(), name="api-erasure-review"),
    path("corrections/<int:pk>/review/", retention.NationalIdReview.as_view(), name="api-national-id-review"),
    path("corrections/<int:pk>/merge/", retention.PersonMerge.as_view(), name="api-person-merge"),
    path("cases/<int:pk>/access-log/", views.CaseAccessLog.as_view(), name="api-case-access-log"),
    path("cases/<int:pk>/person-access-report/", views.PersonAccessReport.as_view(), name="api-person-access-report"),
    path("cases/<int:pk>/notes/", notes.CaseNotes.as_view(), name="api-case-notes"),
    path("cases/<int:pk>/notes/<int:note_pk>/", notes.CaseNote.as_view(), name="api-case-note"),
    path("cases/<int:pk>/notes/<int:note_pk>/correct/", notes.NoteCorrect.as_view(), name="api-note-correct"),
    path("cases/<int:pk>/notes/<int:note_pk>/withdraw/", notes.NoteWithdraw.as_view(), name="api-note-withdraw"),
    path("cases/<int:pk>/notes/<int:note_pk>/confirm/", notes.NoteConfirm.as_view(), name="api-note-confirm"),
    path("cases/<int:pk>/attachments/", notes.CaseAttachments.as_view(), name="api-case-attachments"),
    path(
        "cases/<int:pk>/attachments/<int:attachment_pk>/content/",
        notes.AttachmentContent.as_view(),
        name="api-attachment-content",
    ),
    path(
        "cases/<int:pk>/attachments/<int:attachment_pk>/withdraw/",
        notes.AttachmentWithdraw.as_view(),
        name="api-attachment-withdraw",
    ),
    path(
        "cases/<int:pk>/attachments/<int:attachment_pk>/confirm/",
        notes.AttachmentConfirm.as_view(),
        name="api-attachment-confirm",
    ),
    path("consents/<int:pk>/revoke/", views.ConsentRevoke.as_view(), name="api-consent-revoke"),
    path("break-glass/", views.BreakGlassReviewList.as_view(), name="api-break-glass-review-list"),
    path("break-glass/<int:pk>/review/", views.BreakGlassReview.as_view(), name="api-break-glass-review"),
    path("break-glass/<int:pk>/end/", views.BreakGlassEnd.as_view(), name="api-break-glass-end"),
    path("messages/", messages.MessageCreate.as_view(), name="api-messages"),
    path("external-tasks/fetch-and-lock/", views.ExternalTaskFetch.as_view(), name="api-external-fetch"),
    path("external-tasks/<str:task_id>/complete/", views.ExternalTaskComplete.as_view(), name="api-external-complete"),
    path("external-tasks/<str:task_id>/failure/", views.ExternalTaskFailure.as_view(), name="api-external-failure"),
    path("incidents/", views.IncidentList.as_view(), name="api-incidents"),
    path("incidents/<int:pk>/retry/", views.IncidentRetry.as_view(), name="api-incident-retry"),
    path("incidents/<int:pk>/data/", views.IncidentData.as_view(), name="api-incident-data"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # GET and HEAD only: DRF answered OPTIONS with its metadata, which the page's template
    # renderer cannot render (a 500).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", http_method_names=["get", "head"]),
        name="api-docs",
    ),
    # Last: JSON 404 for unknown paths (no slash: APPEND_SLASH first). [\s\S] rather than
    # (?s:.) so that reverse() of every other URL still works (Django cannot reverse (?s:).
    re_path(r"^[\s\S]*/$", views.not_found),
]
