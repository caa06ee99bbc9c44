"""Each page's status for each member of the demo cast, and the 404/403 split."""

import pytest

from tests.ids import tid

from .conftest import CAST, INTAKE_NO_HOME, open_task

pytestmark = pytest.mark.django_db

PARTICIPANTS = {"kari", "nils", "nora", "helga", "bjorn"}  # their agencies take part in the prison case
CASE_WORKERS = PARTICIPANTS | {"siri"}  # a case role in some agency


LOG_READERS = {"bjorn", "aud"}  # the coordinator of the prison case, an auditor of its coordinator agency


def expected(username, page):
    if page in ("inbox", "cases"):
        return 200
    if page == "access-report":
        return 200 if username in LOG_READERS else 403 if username in PARTICIPANTS else 404
    if page == "new":
        return 200 if username in CASE_WORKERS else 403
    return 200 if username in PARTICIPANTS else 404  # case and task: invisible otherwise


@pytest.mark.parametrize("username", CAST)
def test_every_page_answers_each_demo_user_by_the_rules(username, web, prison_case):
    intake = open_task(prison_case, "Task_intake_interview")
    client = web(username)
    pages = {
        "inbox": "/tasks/",
        "cases": "/cases/",
        "new": "/cases/new/",
        "case": f"/cases/{prison_case.pk}/",
        "task": f"/tasks/{tid(intake.pk)}/",
        "access-report": f"/cases/{prison_case.pk}/person-access-report/",
    }
    for page, url in pages.items():
        assert client.get(url).status_code == expected(username, page), (username, page)


def test_anonymous_is_sent_to_the_login_page(web, prison_case):
    client = web(None)
    for url in ("/tasks/", "/cases/", "/cases/new/", f"/cases/{prison_case.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    login = client.get("/accounts/login/")
    assert login.status_code == 200 and "Logg inn" in login.content.decode()


def test_root_redirects_to_the_inbox(web, users):
    assert web("kari").get("/")["Location"] == "/tasks/"


def test_unknown_objects_answer_404_like_invisible_ones(web, prison_case):
    client = web("bjorn")
    assert client.get("/cases/999999/").status_code == 404
    assert client.get("/tasks/999999/").status_code == 404


def test_oscar_is_refused_everywhere(web, prison_case):
    oscar = web("oscar")
    intake = open_task(prison_case, "Task_intake_interview")
    inbox = oscar.get("/tasks/").content.decode()
    assert 'id="no-agency"' in inbox and "Ask an administrator" not in inbox  # explained, in bokmål
    assert "BK-" not in oscar.get("/cases/").content.decode()
    assert oscar.get("/cases/new/").status_code == 403
    assert oscar.post("/cases/new/", {"process": "prison_release_to_housing"}).status_code == 403
    assert oscar.post(f"/tasks/{tid(intake.pk)}/claim/").status_code == 404
    assert oscar.post(f"/tasks/{tid(intake.pk)}/", INTAKE_NO_HOME).status_code == 404
    assert oscar.post(f"/cases/{prison_case.pk}/consents/", {"categories": ["health"]}).status_code == 404
    assert intake.__class__.objects.get(pk=intake.pk).status == "open"


def test_other_agency_sees_the_task_but_may_not_work_it(web, prison_case):
    intake = open_task(prison_case, "Task_intake_interview")
    bjorn = web("bjorn")
    page = bjorn.get(f"/tasks/{tid(intake.pk)}/").content.decode()
    assert 'id="complete"' not in page and "Halden fengsel" in page
    assert bjorn.post(f"/tasks/{tid(intake.pk)}/claim/").status_code == 403
    assert bjorn.post(f"/tasks/{tid(intake.pk)}/", INTAKE_NO_HOME).status_code == 403
    assert intake.__class__.objects.get(pk=intake.pk).status == "open"


def test_english_is_selectable(web, users):
    client = web("kari")
    assert "Innboks" in client.get("/tasks/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/tasks/"})
    page = client.get("/tasks/").content.decode()
    assert "<h1>Inbox</h1>" in page and 'lang="en"' in page


def test_static_files_are_found_in_the_npm_packages():
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/bpmn-js/bpmn-navigated-viewer.production.min.js")
    assert finders.find("vendor/htmx/htmx.min.js")
    assert finders.find("brobygger/site.css")
