"""Process admin routes, mounted at /processes/.

The editor's endpoints live under ``-/``: a BPMN process id is an XML name, which never
starts with "-", so they cannot collide with a process key.
"""

from django.urls import path

from web import editor, processes, version_migration

urlpatterns = [
    path("", processes.process_list, name="processes"),
    path("new/", processes.process_new, name="process-new"),
    path("-/drafts/", editor.draft_save, name="process-draft-save"),
    path("-/drafts/discard/", editor.draft_discard, name="process-draft-discard"),
    path("-/validate/", editor.validate, name="process-validate"),
    path("-/deploy/", editor.deploy, name="process-deploy"),
    path("-/form-preview/", editor.form_preview, name="process-form-preview"),
    path("<str:key>/", processes.process_detail, name="process"),
    path("<str:key>/edit/", processes.process_edit, name="process-edit"),
    path("<str:key>/versions/<int:version>/export/", processes.export_version, name="process-export"),
    path("<str:key>/versions/<int:version>/migrate/", version_migration.migrate_version, name="process-migrate"),
    path(
        "<str:key>/versions/<int:version>/export/forms/",
        processes.export_version,
        {"what": "forms"},
        name="process-export-forms",
    ),
]
