"""A case's coordinator is chosen by whoever starts it: any caseworker may name any housing
office as a participant (``rules.can_start_case``), and the office then coordinates the
case. So "the same coordinating agency" bounds nothing: an agency that takes part in no case
of the person could start a case with the person's national id and that office, and (a)
learn from its own case's message job whether a case of the person waits at the office, or
(b) catch what the office's other cases of the person throw. Both failed before the bound
became the same agencies (``workflows.jobs.messages._reachable``); they hold it now."""

from datetime import UTC, datetime

import pytest

from tests.clock import Clock
from tests.workflows.helpers import open_tasks
from tests.workflows.jobs.test_messages_between_cases import (
    models,  # noqa: F401  (a fixture of these tests)
    other_nav_office,
    run_due_jobs,
    start,
    what_the_sender_sees,
)
from workflows.models import Case, Event, EventKind, ProcessInstance

pytestmark = pytest.mark.django_db


def test_a_case_naming_the_housing_office_does_not_tell_its_starter_whether_a_case_waits_there(
    models,  # noqa: F811  (the fixture imported above)
    users,
    agencies,
    django_user_model,
    monkeypatch,
):
    """NAV Halden's case of the person, coordinated by the housing office, waits for
    "housing_ready". NAV Sarpsborg takes no part in it. Sarpsborg starts ``notice`` for the
    person naming the same housing office (its coordinator then): the probe's job is done
    with no incident, where a probe whose key nothing matches fails with one."""
    clock = Clock(monkeypatch, datetime(2026, 9, 1, 10, tzinfo=UTC))
    halden, per = other_nav_office(django_user_model)
    housing = {"housing": agencies["housing"].pk}
    in_halden = start(
        {**users, "per": per}, agencies, "move_in", "A-17", actor="per", participants={"nav": halden.pk, **housing}
    )
    sarpsborg = {"nav": agencies["nav"].pk, **housing}
    probe = start(users, agencies, "notice", "A-17", participants=sarpsborg)
    control = start(users, agencies, "notice", "A-99", participants=sarpsborg)  # nothing waits for it
    assert probe.coordinator_agency_id == in_halden.coordinator_agency_id == agencies["housing"].pk
    state_before = ProcessInstance.objects.get(case=in_halden).state

    for _ in range(2):
        run_due_jobs()
        clock.advance(seconds=30)
    run_due_jobs()

    # The case in Halden, which Sarpsborg takes no part in, is neither reached nor changed...
    assert not Event.objects.filter(case=in_halden, kind=EventKind.MESSAGE_RECEIVED).exists()
    assert ProcessInstance.objects.get(case=in_halden).state == state_before
    # ...and Sarpsborg's probe looks exactly like the probe nothing waits for.
    assert what_the_sender_sees(probe) == what_the_sender_sees(control)


def test_a_case_naming_the_housing_office_does_not_catch_what_the_offices_other_cases_throw(
    models,  # noqa: F811  (the fixture imported above)
    users,
    agencies,
    django_user_model,
):
    """The other way: Sarpsborg's case naming the housing office waits for "housing_ready"
    with the applicant id the person has in Halden; Halden's case throws it. Sarpsborg's case
    catches it, is told that a message came and gets Halden's payload in its data."""
    halden, per = other_nav_office(django_user_model)
    housing = {"housing": agencies["housing"].pk}
    catcher = start(users, agencies, "move_in", "A-17", participants={"nav": agencies["nav"].pk, **housing})
    thrower = start(
        {**users, "per": per}, agencies, "notice", "A-17", actor="per", participants={"nav": halden.pk, **housing}
    )
    assert thrower.coordinator_agency_id == catcher.coordinator_agency_id

    run_due_jobs()

    assert not Event.objects.filter(case=catcher, kind=EventKind.MESSAGE_RECEIVED).exists()
    assert [t.element_id for t in open_tasks(catcher)] == []
    assert "ready" not in Case.objects.get(pk=catcher.pk).data
