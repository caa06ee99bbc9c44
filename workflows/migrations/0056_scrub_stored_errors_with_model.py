"""Incident texts stored before the scrub read the model (``scrub.model_tokens``: a quoted
name or a number of two digits or more is kept only when the model's texts or the data's
names hold it) are scrubbed once with the same function: a value computed from case data
(``{}[note.split()[1]]`` quoted a word of a health note) stayed in the text of every incident
raised before. The incidents of engine steps (not a job's, whose text is ours or another
system's: ``workflows 0018`` and the read-time scrub cover those) and their timeline events:
the stored message's texts, and the English text made from it again (or, for a row without
a message, the text itself). Data only; reversed as a no-op (the raw text is gone, as it
should be)."""

from django.db import migrations

from bpmn.engine import runtime, scrub
from core.messages import Message

MAX_ERROR = 2000
BATCH = 200


class _Instances:
    """Per instance: the literals of its case's data and states, and its model's tokens (the
    workflow loaded from its saved state; the spec alone when the state does not load)."""

    def __init__(self, apps):
        self.apps = apps
        self.specs: dict = {}
        self.known: dict = {}

    def __call__(self, instance_id):
        if instance_id not in self.known:
            self.known.clear()  # rows are read in instance order: one at a time
            self.known[instance_id] = self._read(instance_id)
        return self.known[instance_id]

    def _read(self, instance_id):
        ProcessInstance = self.apps.get_model("workflows", "ProcessInstance")
        row = ProcessInstance.objects.filter(pk=instance_id).values("case_id", "definition_id", "state").first()
        if row is None:
            return [], None
        Case = self.apps.get_model("workflows", "Case")
        data = Case.objects.filter(pk=row["case_id"]).values_list("data", flat=True).first() or {}
        states = ProcessInstance.objects.filter(case_id=row["case_id"]).values_list("state", flat=True)
        literals = sorted({*scrub.literals(data), *scrub.state_literals(*states)}, key=len, reverse=True)
        return literals, self._model(row["definition_id"], row["state"])

    def _model(self, definition_id, state):
        if definition_id not in self.specs:
            ProcessDefinition = self.apps.get_model("bpmn", "ProcessDefinition")
            spec_json = ProcessDefinition.objects.filter(pk=definition_id).values_list("spec_json", flat=True).first()
            try:
                self.specs[definition_id] = runtime.restore_spec(spec_json) if spec_json else None
            except Exception:  # noqa: BLE001 - a spec that no longer restores: the rules without the model
                self.specs[definition_id] = None
        bundle = self.specs[definition_id]
        if bundle is None:
            return frozenset()  # no model: every quoted name and long number is masked
        try:
            workflow = runtime.load_workflow(bundle, state)
        except Exception:  # noqa: BLE001 - the spec's texts without the data's names
            workflow = runtime.new_workflow(bundle)
        return scrub.model_tokens(workflow)


def _scrubbed(text, message, literals, model):
    """(text, message) scrubbed: the message's texts, the text made from it again; a row
    without a (known) message has its text scrubbed."""
    known = Message.from_json(message) if message else None
    if known is None:
        return scrub.scrub(text or "", literals, model), message
    clean = known.map_text(lambda value: scrub.scrub(value, literals, model))
    return str(clean)[:MAX_ERROR], clean.as_json()


def scrub_stored_errors_with_model(apps, schema_editor=None) -> dict[str, int]:
    """Scrub the stored texts of engine incidents and their events; how many rows changed."""
    Incident = apps.get_model("workflows", "Incident")
    Event = apps.get_model("workflows", "Event")
    instances = _Instances(apps)
    changed = {"incidents": 0, "events": 0}
    incidents = Incident.objects.filter(job__isnull=True).order_by("instance_id", "pk")
    rows = incidents.values_list("pk", "instance_id", "error", "error_message").iterator(chunk_size=BATCH)
    for pk, instance_id, error, message in rows:
        text, clean = _scrubbed(error, message, *instances(instance_id))
        if (text, clean) != (error, message):
            Incident.objects.filter(pk=pk).update(error=text, error_message=clean)
            changed["incidents"] += 1
    events = Event.objects.filter(kind="incident", instance__isnull=False, detail__has_key="error")
    rows = events.order_by("instance_id", "pk").values_list("pk", "instance_id", "detail").iterator(chunk_size=BATCH)
    for pk, instance_id, detail in rows:
        error, message = detail.get("error"), detail.get("error_message")
        if not isinstance(error, str):
            continue
        text, clean = _scrubbed(error, message, *instances(instance_id))
        if (text, clean) != (error, message):
            scrubbed = {**detail, "error": text}
            if "error_message" in detail:
                scrubbed["error_message"] = clean
            Event.objects.filter(pk=pk).update(detail=scrubbed)
            changed["events"] += 1
    return changed


class Migration(migrations.Migration):
    dependencies = [
        ("bpmn", "0001_initial"),
        ("workflows", "0055_path_categories_caught_events"),
    ]

    operations = [migrations.RunPython(scrub_stored_errors_with_model, migrations.RunPython.noop, elidable=False)]
