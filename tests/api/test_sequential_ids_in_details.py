"""Row keys in the timeline's event detail counted what a reader is not shown (docs/security.md
"Ids count nothing"). Jobs and incidents take their keys from one sequence each, over every
case, and each task landing in an inbox writes its notification jobs, a task on a branch
hidden from the reader too. A job retried by an admin after the mail server was down leaves
"incident resolved" on the timeline with ``{"incident": ..., "job": ...}``: NAV (health
masked) read, off the gap between the job ids of the health service's assessment and its own
final task, how many tasks the hidden branch made (two housing tasks on the treatment branch,
one on the other), and as much off the incident ids. The reader addresses neither (process
admins retry incidents from their own list), so no reader's detail carries them now."""

from itertools import pairwise

import pytest
from django.db import transaction
from django.urls import reverse

from tests.api.test_gateway_inference_lists import HEALTH_FORM, NOTE_FORM, model
from tests.api.test_sequential_ids_oracle import OTHER_PERSON, walked_to_navs_final_task
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows.jobs import queue
from workflows.jobs.models import Job, JobKind

pytestmark = pytest.mark.django_db

ROW_KEYS = ("job", "incident")


@pytest.fixture(autouse=True)
def _incidents_on_the_case(monkeypatch):
    """Each notification job's incident on its case, as before notification failures folded
    into one incident of no case (h-scrub5): a job kind of a case whose incident's resolution
    the timeline tells, whose keys count the tasks (what this file guards against)."""
    monkeypatch.setattr(queue, "FOLDED", queue.FOLDED - {JobKind.NOTIFICATION})


def _mail_down_then_retried(case, admin) -> None:
    """Every notification job of ``case`` fails its last attempt (an incident each), in the
    order they were written; an admin's retry then passes each and resolves its incident."""
    jobs = list(Job.objects.filter(case=case, kind=JobKind.NOTIFICATION).order_by("pk"))
    for job in jobs:
        with transaction.atomic():
            row = Job.objects.select_for_update().get(pk=job.pk)
            row.attempts = row.max_attempts
            queue.record_outcome(row, "smtp down")
    for job in jobs:
        with transaction.atomic():
            row = Job.objects.select_for_update().get(pk=job.pk)
            queue.record_outcome(row, None, retry=queue.Retry(actor=admin))


def _what_nav_reads(users, agencies, needs_treatment: bool, person) -> dict:
    case = walked_to_navs_final_task(users, agencies, needs_treatment, person)
    _mail_down_then_retried(case, users["ada"])
    events = api(users["nils"]).get(reverse("api-case-timeline", args=[case.pk])).json()["results"]
    resolved = [event for event in events if event["kind"] == "incident_resolved"]
    shown = {key: [event["detail"][key] for event in resolved if key in event["detail"]] for key in ROW_KEYS}
    keys = sorted(Job.objects.filter(case=case, kind=JobKind.NOTIFICATION).values_list("pk", flat=True))
    return {
        "resolutions shown": [event["element_id"] for event in resolved],
        "shown": shown,
        "shown gaps": {key: [b - a for a, b in pairwise(values)] for key, values in shown.items()},
        "job key gaps": [b - a for a, b in pairwise(keys)],
    }


def test_the_detail_nav_is_shown_names_no_job_or_incident(users, agencies):
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None,
        bpmn_xml=model("Boligkontakt", "NAV"),
        forms={"h.schema.json": HEALTH_FORM, "n.schema.json": NOTE_FORM},
        check_permission=False,
    )
    treatment = _what_nav_reads(users, agencies, True, PERSON)
    other = _what_nav_reads(users, agencies, False, OTHER_PERSON)
    # NAV is shown the same resolutions in both: the assessment's and its own task's ...
    assert treatment["resolutions shown"] == other["resolutions shown"] == ["Task_assess", "Task_final"]
    # ... while the jobs between them count the hidden branch's tasks (three against two) ...
    assert sum(treatment["job key gaps"]) != sum(other["job key gaps"])
    # ... and no key of a job or an incident reaches NAV to count them with.
    gaps = (treatment["shown gaps"], other["shown gaps"])
    assert treatment["shown"] == other["shown"] == {"job": [], "incident": []}, gaps
