"""Failure texts stored before they were kept scrubbed as shown (h-scrub5, h-scrub6) are scrubbed
again at rest, once (``manage.py scrub_failure_texts``, run by the upgrade step and by
``manage.py serve``): a job's last error, an incident's error and an incident event's detail
that an old version stored with a national id, the applicant id of the person's other case,
a value corrected away or an ``o'brien@...`` address kept them in the database (an export of
the rows, a query by hand, a backup) though every page scrubbed them when shown."""

import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.messages import Message
from tests.workflows.test_step_incidents_kept_scrubbed import (  # noqa: F401 (a fixture)
    NEW_ID,
    OLD_ID,
    OTHER_ID,
    corrected_case,
    people,
)
from workflows import failure_texts
from workflows.models import Event, EventKind, FailureTextScrub, Incident, Job, JobKind, ProcessInstance

pytestmark = pytest.mark.django_db

# As an agency's system said it, stored so by an old version: the applicant id corrected
# away, the person's national id, the applicant id of their other case, an address with an
# apostrophe (the old e-mail rule stopped at it).
RAW = (
    f"register: applicant {OLD_ID} unknown, fnr 17912099997 (known from {OTHER_ID}); "
    "copy to o'brien@nav.example refused"
)
NOT_KEPT = (OLD_ID, "447133", "17912099997", OTHER_ID, "brien", "nav.example")
CLEAN = "the connector answered 503: Service Unavailable"


def _assert_scrubbed(text: str) -> None:
    assert "register: applicant" in text and "unknown" in text and "refused" in text, text  # its words stay
    for value in NOT_KEPT:
        assert value not in text, (value, text)


def _as_an_old_version_stored(case) -> dict:
    """The rows an old version left: a job's error as another system said it, its incident,
    an engine step's incident with the text as a param of its message, and its event."""
    instance = ProcessInstance.objects.get(case=case)
    said = Message("incident.step.expression_error", {"detail": RAW})
    job = Job.objects.create(
        kind=JobKind.EXTERNAL_TASK, case=case, instance=instance, payload={}, due_at=timezone.now(), last_error=RAW
    )
    job_incident = Incident.objects.create(
        instance=instance, case=case, job=job, kind="external_task-failed", error=RAW
    )
    step = Incident.objects.create(
        instance=instance,
        case=case,
        kind="expression-error",
        element_id="Script_s",
        error=str(said),
        error_message=said.as_json(),
    )
    event = Event.objects.create(
        case=case,
        instance=instance,
        kind=EventKind.INCIDENT,
        element_id="Script_s",
        detail={"incident": step.pk, "kind": "expression-error", "error": str(said), "error_message": said.as_json()},
    )
    # Of no case (a password-reset mail): by the rules alone.
    lone = Job.objects.create(
        kind=JobKind.PASSWORD_RESET, payload={}, due_at=timezone.now(), last_error="mailbox o'brien@nav.example full"
    )
    return {"job": job, "job_incident": job_incident, "step": step, "event": event, "lone": lone}


def _clean_rows(case) -> list:
    """Rows with nothing to scrub: another system's words and one of ours, by code."""
    ours = Message("job.call_failed", {"detail": CLEAN})
    return [
        Incident.objects.create(case=case, kind="service-failed", error=CLEAN),
        Job.objects.create(
            kind=JobKind.SERVICE,
            case=case,
            payload={},
            due_at=timezone.now(),
            last_error=str(ours),
            last_error_message=ours.as_json(),
        ),
    ]


def _stored(row) -> tuple:
    row.refresh_from_db()
    if isinstance(row, Job):
        return row.last_error, row.last_error_message
    if isinstance(row, Event):
        return row.detail
    return row.error, row.error_message


def test_old_failure_texts_are_scrubbed_at_rest_once_and_clean_ones_stay(people, agencies):  # noqa: F811
    case = corrected_case(people, agencies)
    rows = _as_an_old_version_stored(case)
    clean = _clean_rows(case)
    clean_before = [_stored(row) for row in clean]
    assert OLD_ID in rows["job"].last_error and OLD_ID in rows["step"].error  # as stored

    out = io.StringIO()
    call_command("scrub_failure_texts", "--batch", "2", stdout=out)  # several batches per table
    assert "failure texts scrubbed: jobs 2, incidents 2, events 1" in out.getvalue()

    job_text, job_message = _stored(rows["job"])
    _assert_scrubbed(job_text)
    assert job_message is None
    for key in ("job_incident", "step"):
        text, message = _stored(rows[key])
        _assert_scrubbed(f"{text} {json.dumps(message)}")
    step_text, step_message = _stored(rows["step"])
    assert step_text.startswith("an expression or script of the model failed: register: applicant")
    assert step_message["code"] == "incident.step.expression_error"
    detail = _stored(rows["event"])
    _assert_scrubbed(json.dumps(detail))
    assert detail["incident"] == rows["step"].pk and detail["error"] == step_text
    assert "brien" not in _stored(rows["lone"])[0] and "full" in _stored(rows["lone"])[0]
    assert NEW_ID not in json.dumps([_stored(row) for row in rows.values()])
    assert [_stored(row) for row in clean] == clean_before  # nothing to scrub: as they were

    # Done once: a second run reads whether the pass finished, and changes nothing.
    assert FailureTextScrub.objects.get(name=failure_texts.CURRENT).finished_at is not None
    again = io.StringIO()
    call_command("scrub_failure_texts", stdout=again)
    assert "scrubbed already" in again.getvalue()
    # And a scrubbed text scrubs to itself (a pass of another name finds nothing to change).
    assert failure_texts.rescrub(name="again") == {"jobs": 0, "incidents": 0, "events": 0}


def test_a_pass_broken_off_goes_on_from_where_it_was(people, agencies, monkeypatch):  # noqa: F811
    case = corrected_case(people, agencies)
    rows = _as_an_old_version_stored(case)
    real = failure_texts._batch

    def broken(name, table, size):  # after the first batch of incidents
        if table.key == "incidents" and FailureTextScrub.objects.get(name=name).progress.get("incidents"):
            raise RuntimeError("the node went away")
        return real(name, table, size)

    monkeypatch.setattr(failure_texts, "_batch", broken)
    with pytest.raises(RuntimeError):
        failure_texts.rescrub(batch=1)
    record = FailureTextScrub.objects.get(name=failure_texts.CURRENT)
    assert record.finished_at is None and record.changed == {"jobs": 2, "incidents": 1}
    monkeypatch.setattr(failure_texts, "_batch", real)
    assert failure_texts.rescrub(batch=1) == {"jobs": 2, "incidents": 2, "events": 1}
    for key in ("job_incident", "step"):
        _assert_scrubbed(" ".join(map(str, _stored(rows[key]))))


def test_serve_scrubs_them_after_migrating(monkeypatch, tmp_path):
    """``manage.py serve`` (``make serve``) runs the pass after the migrations, before the
    processes start (at once when it is done)."""
    from ops.management.commands import serve

    called = []
    monkeypatch.setattr(serve, "call_command", lambda name, *args, **kwargs: called.append(name))
    monkeypatch.setattr(serve.Command, "_refuse_unsafe", lambda self: None)

    class Supervisor:
        def __init__(self, **kwargs):
            pass

        def add(self, *args, **kwargs):
            pass

        def run(self):
            return 0

    monkeypatch.setattr(serve, "Supervisor", Supervisor)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    call_command("serve", "--bind", "127.0.0.1:1", "--job-workers", "0", stdout=io.StringIO())
    assert called[:2] == ["migrate", "scrub_failure_texts"]
    assert "insight_roll_overdue" in called  # the day's roll of the overdue summary (insight.rolling)
