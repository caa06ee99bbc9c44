"""The case page's event list shows the latest ``CASE_EVENTS_SHOWN`` events. It cut the
case's events first and left out those of a hidden branch after: how many rows it showed,
and whether it said there were older ones, counted the events of the branch NAV may not
see (NAV, adding claims of its own until the hint came, read off how many there were, and
so whether the health service's treatment branch ran). The events a reader's path view
leaves out are left out before the cut now, as the API's timeline does."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api.test_case_completed_hidden_end import deploy, finished
from tests.clients import api, web
from workflows.models import Event, EventKind, Task
from workflows.selectors import CASE_EVENTS_SHOWN

pytestmark = pytest.mark.django_db


def test_the_events_of_a_hidden_branch_are_not_counted_by_the_cut(users, agencies):
    deploy()
    case = finished(users, agencies, needs_treatment=True)
    treat = Task.objects.get(case=case, element_id="Task_treat")  # hidden from NAV
    Event.objects.bulk_create(
        Event(
            case=case,
            instance_id=treat.instance_id,
            task=treat,
            kind=(EventKind.TASK_CLAIMED, EventKind.TASK_UNCLAIMED)[index % 2],
            actor=users["helga"],
            agency=treat.agency,
            element_id=treat.element_id,
        )
        for index in range(CASE_EVENTS_SHOWN + 10)
    )
    nils = users["nils"]
    answer = api(nils).get(f"/api/v1/cases/{case.pk}/timeline/").json()
    assert not answer["next"]
    visible = len(answer["results"])
    page = web(nils).get(reverse("case-section", args=[case.pk, "events"])).content.decode()
    assert f"De siste {CASE_EVENTS_SHOWN} hendelsene" not in page
    dash = "\u2013"  # each event: its time, a dash, what happened
    assert len([line for line in page.splitlines() if "<li>" in line and dash in line]) == visible
