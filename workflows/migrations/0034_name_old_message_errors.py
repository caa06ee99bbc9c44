"""A thrown message that no case waited for was recorded by the class of its exception only
(``NothingWaits``), which tells the process admin nothing. Such a job's row knows the
message's name (its payload): its error, and its open incident's, become the message that
says it (``job.message.nothing_waits``), shown in the reader's language. Other rows written
before errors had codes keep their text, and are shown as they were stored. Reversed: the
text as it was."""

from django.db import migrations

OLD = "NothingWaits"
CODE = "job.message.nothing_waits"
ENGLISH = "no case waits for the message “%(name)s” with its correlation now"


def name_the_messages(apps, schema_editor=None) -> int:
    Job = apps.get_model("workflows", "Job")
    Incident = apps.get_model("workflows", "Incident")
    changed = 0
    for job in Job.objects.filter(kind="message", last_error=OLD).iterator(chunk_size=500):
        name = (job.payload or {}).get("name")
        if not isinstance(name, str) or not name:
            continue
        message = {"code": CODE, "params": {"name": name}}
        text = ENGLISH % {"name": name}
        Job.objects.filter(pk=job.pk).update(last_error=text, last_error_message=message)
        Incident.objects.filter(job_id=job.pk, error=OLD).update(error=text, error_message=message)
        changed += 1
    return changed


def as_they_were(apps, schema_editor=None) -> None:
    Job = apps.get_model("workflows", "Job")
    Incident = apps.get_model("workflows", "Incident")
    Incident.objects.filter(error_message__code=CODE).update(error=OLD, error_message=None)
    Job.objects.filter(kind="message", last_error_message__code=CODE).update(last_error=OLD, last_error_message=None)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0033_error_messages")]

    operations = [migrations.RunPython(name_the_messages, as_they_were)]
