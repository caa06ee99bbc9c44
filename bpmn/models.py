import json

from django.conf import settings
from django.db import models


class ProcessDefinition(models.Model):
    """One immutable version of a deployed process model.

    Forms and lane map are stored as JSON *text*: jsonb would reorder the keys, and the
    order of a form's properties is the order its fields are shown in.
    """

    key = models.CharField(max_length=200, help_text="The BPMN process id")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=300)
    bpmn_xml = models.TextField()
    forms_json = models.TextField(default="{}")
    lanes_json = models.TextField(default="{}", help_text="Explicit lane name -> agency kind map")
    checksum = models.CharField(max_length=64)
    spec_json = models.TextField(help_text="Serialized SpiffWorkflow spec, stored once per version")
    metadata = models.JSONField(default=dict, help_text="Compiled: lanes, user tasks, field categories")
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deployed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="unique_definition_version"),
        ]

    def __str__(self):
        return f"{self.key} v{self.version}"

    @property
    def forms(self) -> dict:
        return json.loads(self.forms_json)

    @property
    def lanes(self) -> dict:
        return json.loads(self.lanes_json)
