"""``Case.data_recorded_at`` (h-safety): when each safety warning of a case was recorded or
last confirmed, from which it is shown for ``SAFETY_WARNING_DAYS`` (``policy.warning_dates``).

Filled in for stored cases from their history, where it tells: the last completed task,
message received or service task whose event names the field (``detail["fields"]``,
``["taken"]``). A field no event names came with the case's start form when the agency that
started the case recorded it (the start names no fields): the case's start. Anything else
(a value whose writer the history does not tell) counts from this migration, so that no
warning is hidden on the day of the upgrade by a guess (README "Safety warnings")."""

from django.db import migrations, models
from django.utils import timezone

from bpmn.registry import runtime_for

WRITES = ("task_completed", "message_received", "service_called")


def fill(apps, schema_editor):
    Case = apps.get_model("workflows", "Case")
    ProcessInstance = apps.get_model("workflows", "ProcessInstance")
    Event = apps.get_model("workflows", "Event")
    migrated = timezone.now().isoformat()
    versions = ProcessInstance.objects.order_by().values_list("definition_id", flat=True).distinct()
    done = set()
    for definition_id in versions:
        fields = runtime_for(definition_id).field_rules.fields
        safety = {name for name, category in fields.items() if category == "safety"}
        if not safety:
            continue
        case_ids = ProcessInstance.objects.filter(definition_id=definition_id).values_list("case_id", flat=True)
        for case in Case.objects.filter(pk__in=case_ids).only("pk", "data", "data_sources", "opened_at"):
            present = safety & (case.data or {}).keys()
            if case.pk in done or not present:
                continue
            done.add(case.pk)
            recorded = {}
            events = Event.objects.filter(case_id=case.pk, kind__in=(*WRITES, "case_started")).order_by(
                "created_at", "id"
            )
            starter = None
            for kind, detail, at, agency_id in events.values_list("kind", "detail", "created_at", "agency_id"):
                if kind == "case_started":
                    starter = agency_id
                    continue
                detail = detail or {}
                named = detail.get("fields") or detail.get("taken") or []
                for name in present & set(named if isinstance(named, list) else []):
                    recorded[name] = at.isoformat()
            for name in present - recorded.keys():
                by_starter = starter is not None and (case.data_sources or {}).get(name) == starter
                recorded[name] = case.opened_at.isoformat() if by_starter else migrated
            Case.objects.filter(pk=case.pk).update(data_recorded_at=recorded)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0065_failure_text_scrub"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="data_recorded_at",
            field=models.JSONField(blank=True, db_default={}, default=dict),
        ),
        migrations.AlterField(
            model_name="event",
            name="kind",
            field=models.CharField(
                choices=[
                    ("case_started", "Case started"),
                    ("case_completed", "Case completed"),
                    ("task_created", "Task created"),
                    ("task_claimed", "Task taken"),
                    ("task_unclaimed", "Task released"),
                    ("task_completed", "Task completed"),
                    ("task_cancelled", "Task cancelled"),
                    ("handoff", "Handoff"),
                    ("timer_fired", "Timer fired"),
                    ("message_received", "Message received"),
                    ("message_thrown", "Message sent"),
                    ("incident", "Incident"),
                    ("incident_resolved", "Incident resolved"),
                    ("incident_data_set", "Data set for a retry"),
                    ("consent_given", "Consent given"),
                    ("consent_revoked", "Consent revoked"),
                    ("responsible_changed", "Responsible housing contact changed"),
                    ("follow_on_started", "Follow-on case started"),
                    ("note_added", "Note added"),
                    ("note_corrected", "Note corrected"),
                    ("note_withdrawn", "Note withdrawn"),
                    ("attachment_added", "Attachment added"),
                    ("attachment_withdrawn", "Attachment withdrawn"),
                    ("value_corrected", "Value corrected"),
                    ("version_migrated", "Moved to a new process version"),
                    ("service_called", "Service task done"),
                    ("agency_withdrawn", "Agency withdrawn from the case"),
                    ("safety_confirmed", "Safety warning confirmed"),
                ],
                max_length=30,
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
