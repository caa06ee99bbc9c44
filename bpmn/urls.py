"""Process admin routes, mounted at /processes/.

The editor's endpoints live under ``-/``: a BPMN process id is an XML name, which never
starts with "-", so they cannot collide with a process key.
"""

from django.urls import path

from . import views, views_editor

urlpatterns = [
    path("", views.process_list, name="processes"),
    path("new/", views.process_new, name="process-new"),
    path("-/drafts/", views_editor.draft_save, name="process-draft-save"),
    path("-/drafts/discard/", views_editor.draft_discard, name="process-draft-discard"),
    path("-/validate/", views_editor.validate, name="process-validate"),
    path("-/deploy/", views_editor.deploy, name="process-deploy"),
    path("-/form-preview/", views_editor.form_preview, name="process-form-preview"),
    path("<str:key>/", views.process_detail, name="process"),
    path("<str:key>/edit/", views.process_edit, name="process-edit"),
    path("<str:key>/versions/<int:version>/export/", views.export_version, name="process-export"),
    path("<str:key>/versions/<int:version>/export/forms/", views.export_version, {"what": "forms"},
         name="process-export-forms"),
]
