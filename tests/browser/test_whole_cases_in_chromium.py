"""Issue 13, "done when": a whole prison-release case and a whole discharge case, walked in
Chromium as the users of each agency, desktop and phone: every page passes axe-core
(WCAG 2.1 AA) and shows no English on bokmål pages. Then a task done with the keyboard only.

The work itself is done through the services (the pages' forms have their own tests); the
browser visits what each agency's people see at each step: inbox, task, case, today.
"""

import pytest

from tests.ids import tid
from tests.workflows.helpers import complete, open_tasks, start_prison_case, worker_for
from workflows import services

from .conftest import page_checker, ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DISCHARGE_KINDS = ("hospital", "health", "nav", "housing")


def _walk(case, visit, coordinator="bjorn"):
    """Each open task: its agency's worker sees it in the inbox and opens it (desktop and
    phone), then it is done; the coordinator follows the case page and today page."""
    phone = False
    for _ in range(30):
        tasks = open_tasks(case)
        if not tasks:
            break
        task = tasks[0]
        user = worker_for(task).username
        visit(user, "/tasks/", phone=phone)
        visit(user, f"/tasks/{tid(task.pk)}/", phone=phone)
        visit(user, f"/cases/{case.pk}/", phone=not phone)
        visit(coordinator, "/today/", phone=phone)
        complete(task)
        phone = not phone
    visit(coordinator, f"/cases/{case.pk}/", phone=True)  # waiting on its last timer, or closed
    visit(coordinator, f"/cases/{case.pk}/")


def test_a_whole_prison_case_and_a_whole_discharge_case_pass_axe_and_speak_bokmal(
    as_user, live_server, users, agencies, shipped, screenshot
):
    visit, problems = page_checker(as_user, live_server)
    prison = start_prison_case(users, agencies)
    _walk(prison, visit)
    screenshot(visit("bjorn", f"/cases/{prison.pk}/", phone=True), "case-waiting-phone")
    discharge = services.start_case(
        actor=users["siri"],
        process_key="institution_discharge_to_housing",
        person={"name": "Kari Nordmann", "national_id": "29822099635"},
        participants={kind: agencies[kind].pk for kind in DISCHARGE_KINDS},
    )
    _walk(discharge, visit)
    # The other pages, as the roles that use them.
    for username, path in [
        ("kari", "/cases/"),
        ("kari", "/cases/new/"),
        ("bjorn", f"/cases/{prison.pk}/person-access-report/"),
        ("aud", "/tasks/"),
        ("aud", "/audit/"),
        ("ada", "/tasks/"),
        ("ada", "/processes/"),
        ("oscar", "/tasks/"),
    ]:
        visit(username, path)
        visit(username, path, phone=True)
    screenshot(visit("bjorn", "/today/", phone=True), "today-phone")
    screenshot(visit("kari", "/cases/?q=nordmann"), "cases")
    assert problems == [], "\n".join(problems)


def test_a_task_is_completed_with_the_keyboard_only(as_user, live_server, users, agencies, shipped):
    case = start_prison_case(users, agencies)
    complete(open_tasks(case)[0], {"has_home": False, "housing_situation": "uten_bolig"})
    health = next(t for t in open_tasks(case) if t.element_id == "Task_health_follow_up_plan")
    helga = as_user("helga")
    helga.goto(f"{live_server.url}/tasks/{tid(health.pk)}/")
    ready(helga)

    def tab_to(selector, limit=80):
        for _ in range(limit):
            helga.keyboard.press("Tab")
            if helga.evaluate("s => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#claim")
    helga.keyboard.press("Enter")
    helga.locator("#unclaim").wait_for()
    tab_to("textarea, input[type=text]")
    helga.keyboard.type("LAR, oppfølging hver uke")
    for group in ("substance_use_follow_up", "gp_assigned"):  # yes/no radios: Tab in, Space to choose
        tab_to(f"[name={group}]")
        helga.keyboard.press("Space")
    tab_to("#complete")
    helga.keyboard.press("Enter")
    helga.wait_for_url(f"{live_server.url}/tasks/")
    health.refresh_from_db()
    assert health.status == "completed" and health.completed_by == users["helga"]
