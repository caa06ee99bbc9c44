"""Issue 15: the housing contacts' own processes walked in Chromium to their outcome.

Settling in (move-in, a follow-up plan with visits fired by the timer job) and eviction
prevention (a notice, NAV's and health's assessments, the negotiation), each as the users
of its lanes: every step, the agency whose turn it is opens its inbox and the task (desktop
and phone in turn) and the housing contact follows the case; every page passes axe-core and
speaks bokmål. The work itself goes through the services, as in the whole-case walk
(``test_whole_cases_in_chromium``); the forms have their own page tests. Each case ends
closed with its outcome, shown on the case page.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.clock import Clock
from tests.ids import tid
from tests.workflows.helpers import PERSON, form_data, open_tasks
from workflows import services
from workflows.models import CaseOutcome, CaseStatus

from .conftest import page_checker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANE_USER = {"Boligkontakt": "bjorn", "NAV": "nils", "Helse": "helga", "Kommune": "mona"}


def _walk(case, visit, users, answers, clock=None):
    """Every open task, as its lane's user after they have seen it; due visit timers fired as
    the worker fires them. ``answers``: element id -> the values to give (None leaves a
    field out)."""
    phone = False
    for _ in range(30):
        tasks = open_tasks(case)
        if not tasks:
            case.refresh_from_db()
            instance = case.instances.get()
            if case.status != CaseStatus.OPEN or clock is None or instance.next_timer_at is None:
                break
            clock.set(instance.next_timer_at + timedelta(seconds=1))
            assert services.fire_timer("test")[0] == "fired"
            continue
        for task in tasks:
            user = LANE_USER[task.lane]
            visit(user, "/tasks/", phone=phone)
            visit(user, f"/tasks/{tid(task.pk)}/", phone=phone)
            visit("bjorn", f"/cases/{case.pk}/", phone=not phone)
            values = form_data(task, answers.get(task.element_id))
            data = {name: value for name, value in values.items() if value is not None}
            services.complete_task(actor=users[user], task_id=task.pk, data=data)
            phone = not phone
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED, [t.element_id for t in open_tasks(case)]
    return CaseOutcome.objects.get(case=case)


def test_settling_in_and_eviction_prevention_end_with_their_outcomes_in_the_browser(
    as_user, live_server, users, agencies, shipped, monkeypatch, screenshot
):
    visit, problems = page_checker(as_user, live_server)
    clock = Clock(monkeypatch, datetime.now(UTC))
    participants = {kind: agencies[kind].pk for kind in ("housing", "nav", "health")}

    settling = services.start_case(
        actor=users["bjorn"], process_key="settling_in", person=PERSON, participants=participants
    )
    outcome = _walk(
        settling,
        visit,
        users,
        {
            "Task_follow_up_plan": {"visit_interval": "P2W", "visit_count": 2},
            "Task_record_outcome": {
                "outcome": "bolig_beholdt",
                "outcome_tenure": "kommunal_utleiebolig",
                "outcome_housed_date": None,
            },
        },
        clock,
    )
    assert (outcome.kind.code, outcome.tenure) == ("bolig_beholdt", "kommunal_utleiebolig")
    page = visit("bjorn", f"/cases/{settling.pk}/", phone=True)
    assert "Beholdt boligen" in page.inner_text("main")

    eviction = services.start_case(
        actor=users["nils"], process_key="eviction_prevention", person=PERSON, participants=participants
    )
    outcome = _walk(
        eviction,
        visit,
        users,
        {
            "Task_register_notice": {
                "notice_from": "namsfogd",
                "eviction_date": (date.today() + timedelta(days=30)).isoformat(),
                "arrears_total": 31000,
            },
            "Task_assess_arrears": {"nav_covers_arrears": True},
            "Task_negotiate": {"agreement_reached": True},
            "Task_record_outcome": {
                "outcome": "bolig_beholdt",
                "outcome_tenure": "privat_leie",
                "outcome_housed_date": None,
            },
        },
    )
    assert (outcome.kind.code, outcome.tenure) == ("bolig_beholdt", "privat_leie")
    screenshot(visit("bjorn", f"/cases/{eviction.pk}/", phone=True), "eviction-prevented-phone")
    # The person's path and the housing contacts' own pages, checked the same way.
    for username, path, phone in [
        ("bjorn", f"/cases/{eviction.pk}/person/", False),
        ("nils", f"/cases/{eviction.pk}/person/", True),
        ("bjorn", "/today/", True),
        ("lise", "/caseload/", False),
        ("lise", "/caseload/", True),
    ]:
        visit(username, path, phone=phone)
    assert problems == [], "\n".join(problems)
