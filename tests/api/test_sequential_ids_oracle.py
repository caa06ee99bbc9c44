"""Ids counted what a reader is not shown (docs/security.md "What the path of a case gives
away"). Tasks and events take their keys from one sequence each, over every case: a task or
event on a branch hidden from the reader still takes a number. Shown as they were, the gap
between two ids the reader was shown counted the rows between them, the hidden ones included:
in a quiet hour, exactly. NAV (health masked) is shown the health service's assessment and its
own final task in both cases below; between them the treatment branch made two tasks of the
housing office, the other branch one, and NAV read which from the ids alone (3 against 2
between the two tasks, 6 against 4 between the events). Now every id a reader is shown is a
keyed permutation of the key (``core.public_ids``): its gaps count nothing."""

from itertools import pairwise

import pytest
from django.urls import reverse

from tests.api.test_gateway_inference_lists import HEALTH_FORM, NOTE_FORM, model
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}


def walked_to_navs_final_task(users, agencies, needs_treatment: bool, person):
    """One case walked alone, start to NAV's final task, the health assessment deciding."""
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
    return case


def _ids_nav_is_shown(users, agencies, needs_treatment: bool, person) -> dict:
    """What NAV's lists show of the ids of a case walked to its final task."""
    case = walked_to_navs_final_task(users, agencies, needs_treatment, person)
    client = api(users["nils"])
    tasks = client.get(reverse("api-tasks"), {"case": case.pk}).json()["results"]
    events = client.get(reverse("api-case-timeline", args=[case.pk])).json()["results"]
    shown_tasks = sorted(row["id"] for row in tasks)
    shown_events = [row["id"] for row in events]
    keys = sorted(
        Task.objects.filter(case=case, element_id__in=[row["element_id"] for row in tasks]).values_list("pk", flat=True)
    )
    return {
        "task gaps": [b - a for a, b in pairwise(shown_tasks)],
        "event gaps": [b - a for a, b in pairwise(shown_events)],
        "key gaps": [b - a for a, b in pairwise(keys)],
        "events shown": len(shown_events),
    }


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
    assert treatment["events shown"] == other["events shown"]
    # ... the keys between them count the hidden branch (3 against 2) ...
    assert treatment["key gaps"] != other["key gaps"]
    # ... but the ids NAV is shown count nothing: a gap between two of them is no count of
    # rows (a few thousand at most in this database), it is anywhere in the 52 bits (one
    # under 2**20 by chance about once in 2**31).
    for gap in treatment["task gaps"] + other["task gaps"] + treatment["event gaps"] + other["event gaps"]:
        assert abs(gap) > 2**20, (treatment, other)
