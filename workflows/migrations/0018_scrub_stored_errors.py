"""Errors carry no values (issue 11, point 3), also in rows written before they were scrubbed
where they are raised: the stored text of every incident, of every incident event's detail and
of every job's last error is scrubbed once (``bpmn.engine.scrub``) of the values of its case's
data (the case's data and its instances' saved states) and of what Python's messages quote.
Data only; reversed as a no-op (the raw text is gone, as it should be)."""

from django.db import migrations

from bpmn.engine import scrub

BATCH = 500


def _case_literals(apps, case_id, cache):
    if case_id not in cache:
        Case = apps.get_model("workflows", "Case")
        ProcessInstance = apps.get_model("workflows", "ProcessInstance")
        data = Case.objects.filter(pk=case_id).values_list("data", flat=True).first() or {}
        states = ProcessInstance.objects.filter(case_id=case_id).values_list("state", flat=True)
        cache.clear()  # one case at a time: rows are read in case order
        cache[case_id] = sorted({*scrub.literals(data), *scrub.state_literals(*states)}, key=len, reverse=True)
    return cache[case_id]


def scrub_stored_errors(apps, schema_editor=None) -> dict[str, int]:
    """Scrub the stored error texts; returns how many rows of each kind changed."""
    Incident = apps.get_model("workflows", "Incident")
    Event = apps.get_model("workflows", "Event")
    Job = apps.get_model("workflows", "Job")
    cache: dict = {}
    changed = {"incidents": 0, "events": 0, "jobs": 0}

    for pk, case_id, error in Incident.objects.order_by("case_id", "pk").values_list("pk", "case_id", "error"):
        clean = scrub.scrub(error or "", _case_literals(apps, case_id, cache))
        if clean != (error or ""):
            Incident.objects.filter(pk=pk).update(error=clean)
            changed["incidents"] += 1

    events = Event.objects.filter(kind="incident", detail__has_key="error").order_by("case_id", "pk")
    for pk, case_id, detail in events.values_list("pk", "case_id", "detail").iterator(chunk_size=BATCH):
        error = detail.get("error")
        if not isinstance(error, str):
            continue
        clean = scrub.scrub(error, _case_literals(apps, case_id, cache))
        if clean != error:
            Event.objects.filter(pk=pk).update(detail={**detail, "error": clean})
            changed["events"] += 1

    jobs = Job.objects.exclude(last_error="").order_by("case_id", "pk")
    for pk, case_id, error in jobs.values_list("pk", "case_id", "last_error").iterator(chunk_size=BATCH):
        known = _case_literals(apps, case_id, cache) if case_id is not None else []
        clean = scrub.scrub(error, known)
        if clean != error:
            Job.objects.filter(pk=pk).update(last_error=clean)
            changed["jobs"] += 1
    return changed


class Migration(migrations.Migration):
    dependencies = [("workflows", "0017_service_tasks_and_messages")]

    operations = [migrations.RunPython(scrub_stored_errors, migrations.RunPython.noop, elidable=False)]
