"""The Content-Security-Policy holds in Chromium: the case page's bpmn-js diagram renders,
htmx claims a task, the editor and Swagger UI load, and the browser reports no violation."""

import pytest

from tests.ids import tid
from tests.workflows.helpers import complete, open_tasks, start_prison_case
from workflows.models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Installed by the browser itself (not the page), so the policy does not apply to it.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _watch(page):
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.context.add_init_script(RECORD_VIOLATIONS)
    return console


def _violations(page, console):
    reported = page.evaluate("window.__cspViolations || []")
    return reported + [text for text in console if "Content Security Policy" in text]


def test_case_page_diagram_and_htmx_claim_work_under_the_policy(as_user, live_server, users, agencies, shipped):
    case = start_prison_case(users, agencies)
    complete(
        open_tasks(case)[0],
        {"has_home": False, "housing_situation": "uten_bolig", "consent_nav": True, "consent_municipality": True},
    )
    bjorn = as_user("bjorn")
    console = _watch(bjorn)

    response = bjorn.goto(f"{live_server.url}/cases/{case.pk}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    bjorn.locator('.djs-element.bb-done[data-element-id="Task_intake_interview"]').wait_for()
    assert bjorn.locator("#diagram svg").count() >= 1
    assert _violations(bjorn, console) == []

    task = Task.objects.get(case=case, element_id="Task_housing_application", status="open")
    bjorn.goto(f"{live_server.url}/tasks/{tid(task.pk)}/")
    bjorn.locator('.djs-element.bb-current[data-element-id="Task_housing_application"]').wait_for()
    bjorn.get_by_role("button", name="Ta oppgaven").click()  # htmx swaps the panel in place
    bjorn.locator("#unclaim").wait_for()
    assert "tatt av Bjørn Boligkontakt" in bjorn.locator("#task-status").inner_text()
    assert "Du har tatt" in bjorn.locator("#messages").inner_text()  # swapped out of band
    assert bjorn.locator(".categories").count() == 1  # the page around the actions stays
    task.refresh_from_db()
    assert task.status == "claimed" and task.assignee == users["bjorn"]
    assert _violations(bjorn, console) == []


def test_editor_and_swagger_ui_load_under_the_policy(as_user, live_server, shipped):
    ada = as_user("ada")
    console = _watch(ada)
    ada.goto(f"{live_server.url}/processes/prison_release_to_housing/edit/")
    ada.locator(".djs-element").first.wait_for()
    assert _violations(ada, console) == []
    ada.goto(f"{live_server.url}/api/v1/docs/")
    ada.locator(".swagger-ui .info").wait_for()
    assert _violations(ada, console) == []
