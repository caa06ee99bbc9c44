"""Ids count what a reader is not shown (left open, docs/security.md "What the path of a case
gives away"). Tasks and events take their ids from one sequence each, over every case: a task
or event on a branch hidden from the reader still takes a number. So the gap between two ids
the reader is shown counts the rows between them, the hidden ones included: in a quiet hour,
exactly. NAV (health masked) is shown the health service's assessment and its own final task in
both cases below; between them the treatment branch made two tasks of the housing office, the
other branch one, and NAV reads which from the ids alone (3 against 2 between the two tasks, 6
against 4 between the events)."""

from itertools import pairwise

import pytest

from tests.api.test_gateway_inference_lists import HEALTH_FORM, NOTE_FORM, model
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}


def _ids_nav_is_shown(users, agencies, needs_treatment: bool, person) -> dict:
    """One case walked alone, start to NAV's final task; what NAV's lists show of its ids."""
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_lists",
        person=person,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    assess = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=assess.pk, data={"needs_treatment": needs_treatment})
    for task in Task.objects.filter(case=case, status="open").order_by("pk"):
        services.complete_task(actor=users["bjorn"], task_id=task.pk, data={"noted": True})
    client = api(users["nils"])
    tasks = sorted(row["id"] for row in client.get(f"/api/v1/tasks/?case={case.pk}").json()["results"])
    events = [row["id"] for row in client.get(f"/api/v1/cases/{case.pk}/timeline/").json()["results"]]
    return {
        "task gaps": [b - a for a, b in pairwise(tasks)],
        "event gaps": [b - a for a, b in pairwise(events)],
    }


@pytest.mark.xfail(
    strict=True,
    reason="Left open (h-oracle): task and event ids are one sequence each over every case, so the gap "
    "between two ids a reader is shown counts the hidden branch's tasks and events between them. Closing it "
    "needs ids that do not count (opaque public ids for tasks and events, cursors that carry none).",
)
def test_the_ids_nav_is_shown_tell_neither_branch(users, agencies):
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None,
        bpmn_xml=model("Boligkontakt", "NAV"),
        forms={"h.schema.json": HEALTH_FORM, "n.schema.json": NOTE_FORM},
        check_permission=False,
    )
    treatment = _ids_nav_is_shown(users, agencies, True, PERSON)
    other = _ids_nav_is_shown(users, agencies, False, OTHER_PERSON)
    # What NAV is shown is the same kinds of rows in both (the lists' own tests check that) ...
    assert len(treatment["task gaps"]) == len(other["task gaps"]) == 1
    # ... but the numbers between them are not.
    assert treatment == other, (treatment, other)
