"""Web UI routes (design §8), mounted at the site root."""

from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from web import break_glass, cases, insight, legal_bases, notes, retention, retention_rules, tasks
from workflows.public_ids import register_converters

register_converters()  # <task_id:pk>, <event_id:pk>: public ids in, keys to the views

urlpatterns = [
    path("insight/", insight.insight_page, name="insight"),
    path("insight/annual/", insight.annual_report, name="insight-annual"),
    path("insight/heatmap/", insight.heatmap_page, name="insight-heatmap"),
    path("insight/export/<slug:key>.<str:fmt>", insight.insight_export, name="insight-export"),
    # Browsers ask for /favicon.ico on every page whatever the page links: answer, not 404.
    path("favicon.ico", RedirectView.as_view(url=static("brobygger/favicon.svg"), permanent=True)),
    path("tasks/", tasks.inbox, name="tasks"),
    path("tasks/<task_id:pk>/", tasks.task_detail, name="task"),
    path("tasks/<task_id:pk>/claim/", tasks.task_claim, name="task-claim"),
    path("tasks/<task_id:pk>/unclaim/", tasks.task_unclaim, name="task-unclaim"),
    path("tasks/<task_id:pk>/reassign/", tasks.task_reassign, name="task-reassign"),
    path("tasks/<task_id:pk>/safety/confirm/", tasks.task_safety_confirm, name="task-safety-confirm"),
    path("tasks/<task_id:pk>/safety/remove/", tasks.task_safety_remove, name="task-safety-remove"),
    path("cases/", cases.case_list, name="cases"),
    path("audit/", cases.audit_list, name="audit"),
    path("today/", cases.today, name="today"),
    path("cases/<int:pk>/messages/", cases.message_send, name="case-message"),
    path("cases/new/", cases.case_new, name="case-new"),
    path("cases/<int:pk>/", cases.case_detail, name="case"),
    path("cases/<int:pk>/sections/<slug:section>/", cases.case_section, name="case-section"),
    path("process-models/<int:definition_id>.bpmn", cases.process_model, name="process-model"),
    path("cases/<int:pk>/person-access-report/", cases.person_access_report, name="person-access-report"),
    path("cases/<int:pk>/responsible/", cases.case_responsible, name="case-responsible"),
    path("caseload/", cases.caseload, name="caseload"),
    path("cases/<int:pk>/follow-on/", cases.case_follow_on, name="case-follow-on"),
    path("cases/<int:pk>/safety/confirm/", cases.case_safety_confirm, name="case-safety-confirm"),
    path("cases/<int:pk>/safety/remove/", cases.case_safety_remove, name="case-safety-remove"),
    path("cases/<int:pk>/withdrawals/", cases.case_withdraw_agency, name="case-withdraw-agency"),
    path("cases/<int:pk>/person/", cases.case_person_page, name="case-person"),
    path("cases/<int:pk>/consents/", cases.consent_record, name="consent-record"),
    path("cases/<int:pk>/consents/<int:consent_pk>/revoke/", cases.consent_revoke, name="consent-revoke"),
    path("cases/<int:pk>/break-glass/", cases.break_glass_open, name="break-glass-open"),
    path("break-glass/", break_glass.review_list, name="break-glass-review"),
    path("break-glass/<int:grant_pk>/review/", break_glass.review, name="break-glass-reviewed"),
    path("break-glass/<int:grant_pk>/end/", break_glass.end, name="break-glass-end"),
    path("legal-bases/", legal_bases.legal_basis_list, name="legal-bases"),
    path("legal-bases/new/", legal_bases.legal_basis_new, name="legal-basis-new"),
    path("legal-bases/<int:pk>/", legal_bases.legal_basis_edit, name="legal-basis"),
    path("legal-bases/<int:pk>/retire/", legal_bases.legal_basis_retire, name="legal-basis-retire"),
    path("legal-bases/<int:pk>/delete/", legal_bases.legal_basis_delete, name="legal-basis-delete"),
    path("cases/<int:pk>/retention/", retention.case_retention, name="case-retention"),
    path("cases/<int:pk>/retention/erasure/", retention.erasure_request, name="case-erasure"),
    path("cases/<int:pk>/retention/correction/", retention.correction, name="case-correction"),
    path("cases/<int:pk>/retention/archive-export/", retention.archive_export, name="case-archive-export"),
    path("retention/", retention.audit, name="retention-audit"),
    path("retention/rules/", retention_rules.rule_list, name="retention-rules"),
    path("retention/rules/new/", retention_rules.rule_new, name="retention-rule-new"),
    path("retention/rules/<int:pk>/", retention_rules.rule_edit, name="retention-rule"),
    path("retention/rules/<int:pk>/delete/", retention_rules.rule_delete, name="retention-rule-delete"),
    path("retention/erasures/<int:erasure_pk>/review/", retention.erasure_review, name="erasure-review"),
    path("retention/corrections/<int:correction_pk>/review/", retention.national_id_review, name="national-id-review"),
    path("retention/corrections/<int:correction_pk>/merge/", retention.person_merge, name="person-merge"),
    path("cases/<int:pk>/notes/", notes.notes_page, name="case-notes"),
    path("cases/<int:pk>/notes/<int:note_pk>/correct/", notes.note_correct, name="note-correct"),
    path("cases/<int:pk>/notes/<int:note_pk>/withdraw/", notes.note_withdraw, name="note-withdraw"),
    path("cases/<int:pk>/notes/<int:note_pk>/confirm/", notes.note_confirm, name="note-confirm"),
    path("cases/<int:pk>/attachments/", notes.attachment_add, name="attachment-add"),
    path("cases/<int:pk>/attachments/<int:attachment_pk>/", notes.attachment_download, name="attachment"),
    path(
        "cases/<int:pk>/attachments/<int:attachment_pk>/withdraw/",
        notes.attachment_withdraw,
        name="attachment-withdraw",
    ),
    path(
        "cases/<int:pk>/attachments/<int:attachment_pk>/confirm/",
        notes.attachment_confirm,
        name="attachment-confirm",
    ),
]
