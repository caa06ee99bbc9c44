"""Issue 13, point 10, in Chromium: on a phone the case's diagram is drawn at a zoom where
its labels can be read (fitted whole, a prison model's labels were about 6 px), around the
work at hand, and the flows the case has already taken are highlighted."""

import pytest

from tests.workflows.helpers import complete, open_tasks, start_prison_case

from .conftest import PHONE, ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

READABLE_PX = 8  # a label line's height on screen; 12 px text at the viewer's least zoom (0.75) is 9


def test_the_phone_diagram_has_readable_labels_and_highlights_the_flows_taken(
    as_user, live_server, users, agencies, shipped
):
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False, "housing_situation": "uten_bolig"})
    bjorn = as_user("bjorn", **PHONE)
    bjorn.goto(f"{live_server.url}/cases/{case.pk}/")
    ready(bjorn)

    active = bjorn.locator('.djs-element.bb-active[data-element-id="Task_economy_assessment"]')
    line = active.locator(".djs-label tspan, text tspan").first
    height = line.bounding_box()["height"]
    assert height >= READABLE_PX, f"a task label is {height:.1f} px high on a phone"
    assert bjorn.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1

    taken = bjorn.locator(".djs-element.bb-taken")
    assert taken.count() >= 2  # into the intake, and out of it towards the agencies' work
    taken_ids = set(taken.evaluate_all("els => els.map(e => e.dataset.elementId)"))
    assert all(element_id.startswith("Flow_") for element_id in taken_ids), taken_ids
    not_yet = bjorn.locator('.djs-connection[data-element-id^="Flow_"]:not(.bb-taken)')
    assert not_yet.count() > 0  # the flows ahead are not marked
