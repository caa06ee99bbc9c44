import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class FormsAndLanesText:
    """Forms and lane map kept as JSON text (key order is field order), read as dicts."""

    # The models' text fields.
    forms_json: Any
    lanes_json: Any
    routing_json: Any

    @property
    def forms(self) -> dict[str, Any]:
        return json.loads(self.forms_json)

    @property
    def lanes(self) -> dict[str, Any]:
        return json.loads(self.lanes_json)

    @property
    def routing(self) -> dict[str, Any]:
        return json.loads(self.routing_json)


class ProcessDefinition(FormsAndLanesText, models.Model):
    """One immutable version of a deployed process model.

    Forms and lane map are stored as JSON *text*: jsonb would reorder the keys, and the
    order of a form's properties is the order its fields are shown in.
    """

    key = models.CharField(max_length=200, help_text=_("The BPMN process id"), verbose_name=_("key"))
    version = models.PositiveIntegerField(verbose_name=_("version"))
    name = models.CharField(max_length=300, verbose_name=_("name"))
    bpmn_xml = models.TextField(verbose_name=_("bpmn xml"))
    forms_json = models.TextField(default="{}", verbose_name=_("forms json"))
    lanes_json = models.TextField(
        default="{}", help_text=_("Explicit lane name -> agency kind map"), verbose_name=_("lanes json")
    )
    routing_json = models.TextField(
        default="{}",
        help_text=_("Routing map given at import: lanes, pools, groups, assignees -> kind; default kind"),
        verbose_name=_("routing json"),
    )
    checksum = models.CharField(max_length=64, verbose_name=_("checksum"))
    called_json = models.TextField(
        default="[]",
        help_text=_('Other files whose processes it calls: [{"filename", "bpmn_xml"}]'),
        verbose_name=_("called json"),
    )
    spec_json = models.TextField(
        help_text=_("Serialized SpiffWorkflow spec, stored once per version"), verbose_name=_("spec json")
    )
    metadata = models.JSONField(
        default=dict, help_text=_("Compiled: lanes, user tasks, field categories"), verbose_name=_("metadata")
    )
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("deployed by"),
    )
    deployed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("deployed at"))

    class Meta:
        ordering = ["key", "-version"]
        verbose_name = _("process definition")
        verbose_name_plural = _("process definitions")
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="unique_definition_version"),
        ]

    def __str__(self):
        return f"{self.key} v{self.version}"


class ProcessDraft(FormsAndLanesText, models.Model):
    """Work in progress from the process editor: saved on the server so it survives a reload.

    One draft per process key, shared by its admins (a save made from an older draft is
    refused: ``bpmn.services.save_draft``); a process that is not deployed yet has
    ``key=""`` and one draft per admin who started it.
    """

    key = models.CharField(max_length=200, blank=True, help_text="The process being edited; empty for a new one")
    bpmn_xml = models.TextField()
    forms_json = models.TextField(default="{}")
    lanes_json = models.TextField(default="{}")
    routing_json = models.TextField(default="{}")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=~models.Q(key=""), name="one_draft_per_process"),
            models.UniqueConstraint(
                fields=["created_by"], condition=models.Q(key=""), name="one_new_process_draft_per_admin"
            ),
        ]

    def __str__(self):
        return gettext("draft of {process}").format(process=self.key or gettext("a new process"))


class DeployRecord(models.Model):
    """Audit trail: every deploy, including those that changed nothing. Append-only."""

    definition = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="deploys")
    key = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    checksum = models.CharField(max_length=64)
    created = models.BooleanField(help_text="False when the content was identical to the latest version")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["key", "-at"], name="deploy_record_key_at")]

    def __str__(self):
        done = gettext("deployed") if self.created else gettext("unchanged")
        return f"{self.key} v{self.version} {done}"
