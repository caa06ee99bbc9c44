"""The migration preview counts cases, never names one (h-preview).

Before, ``GET .../migration/`` listed each running case by id and reference with the
elements it waited on. A process admin, who sees no case data, deployed a version whose
gateway branched on a health value and read, per case, which branch it took: the value.
Now the preview says how many cases wait on each element and how many each reason keeps
back, small counts hidden as the leaders' figures hide them (``insight.privacy``)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bpmn.services import deploy_definition
from permissions.models import Membership, Role
from tests.api.test_gateway_inference import BRANCH, HEALTH_FORM, HOUSING_FORM, NAV_FORM, model
from tests.clients import api, web
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import InstanceStatus, ProcessInstance, Task

pytestmark = pytest.mark.django_db

FORMS = {"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM, "n.schema.json": NAV_FORM}
OTHER_BRANCH = "Task_ordinary_home"


@pytest.fixture
def people(agencies):
    make = get_user_model().objects.create_user
    admin, nurse = make("pv-process-admin", password="x"), make("pv-nurse", password="x")
    Membership.objects.create(user=admin, agency=agencies["housing"], role=Role.PROCESS_ADMIN)
    Membership.objects.create(user=nurse, agency=agencies["health"], role=Role.MEMBER)
    return admin, nurse


def _assessed(nurse, agencies, needs_treatment: bool):
    case = services.start_case(
        actor=nurse,
        process_key="Proc_branch",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=nurse, task_id=task.pk, data={"needs_treatment": needs_treatment})
    return case


def _deploy(xml):
    return deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)


def _cases(people, agencies, treated: int, untreated: int):
    _deploy(model())
    nurse = people[1]
    made = [_assessed(nurse, agencies, True) for _ in range(treated)]
    made += [_assessed(nurse, agencies, False) for _ in range(untreated)]
    _deploy(model().replace('name="Branch on health"', 'name="Branch on health, v2"'))
    return made


def _url(**query):
    url = reverse("api-process-version-migration", args=["Proc_branch", 1])
    return url + "".join(f"{'&' if i else '?'}{k}={v}" for i, (k, v) in enumerate(query.items()))


def _page():
    return reverse("process-migrate", args=["Proc_branch", 1]) + "?to_version=2"


def test_the_preview_names_no_case_nor_where_one_stands(people, agencies):
    """Two cases, one whose health value sent it to treatment: the preview says neither
    which case is which nor, for a group that small, how many took each branch."""
    admin = people[0]
    treated, untreated = _cases(people, agencies, 1, 1)
    answer = api(admin).get(_url(to_version=2))
    assert answer.status_code == 200
    text = answer.content.decode()
    for case in (treated, untreated):
        assert case.reference not in text
        assert f'"id": {case.pk}' not in text.replace('":', '": ')
    body = answer.json()
    assert "instances" not in body
    rows = {row["element_id"]: row for row in body["waiting"]}
    assert set(rows) == {BRANCH[0], OTHER_BRANCH}
    for row in rows.values():
        assert row["cases"] == {"count": None, "shown": "fewer than 5"}
    # How many run on the version the process page says as well; how many can move, not.
    assert body["cases"]["count"] == 2 and body["movable"] == {"count": None, "shown": "fewer than 5"}
    page = web(admin).get(_page())
    assert page.status_code == 200
    html = page.content.decode()
    for case in (treated, untreated):
        assert case.reference not in html
    assert 'name="case"' not in html and "data-case" not in html


def test_five_or_more_are_counted_and_the_rest_hidden_so_no_total_gives_them_away(people, agencies):
    """Six treated, one not: the one is "under 5", and the six are hidden too, or seven
    (the process page's number of running cases) less six would say it."""
    admin = people[0]
    _cases(people, agencies, 6, 1)
    body = api(admin).get(_url(to_version=2), HTTP_ACCEPT_LANGUAGE="nb").json()
    rows = {row["element_id"]: row["cases"] for row in body["waiting"]}
    assert rows[OTHER_BRANCH] == {"count": None, "shown": "under 5"}
    assert rows[BRANCH[0]] == {"count": None, "shown": "skjult"}
    assert (body["cases"]["count"], body["movable"]["count"], body["refused"]["count"]) == (7, 7, 0)


def test_large_groups_are_counted_exactly(people, agencies):
    admin = people[0]
    _cases(people, agencies, 5, 5)
    body = api(admin).get(_url(to_version=2), HTTP_ACCEPT_LANGUAGE="nb").json()
    rows = {row["element_id"]: row for row in body["waiting"]}
    assert {key: row["cases"] for key, row in rows.items()} == {
        BRANCH[0]: {"count": 5, "shown": "5"},
        OTHER_BRANCH: {"count": 5, "shown": "5"},
    }
    assert rows[BRANCH[0]]["new_element_id"] == BRANCH[0]
    assert (body["cases"]["count"], body["movable"]["count"], body["refused"]["count"]) == (10, 10, 0)
    assert body["problems"] == []


def test_reasons_are_counted_and_small_ones_hidden(people, agencies):
    admin = people[0]
    treated, *_untreated = _cases(people, agencies, 1, 5)
    # The treated case stopped on an incident: it cannot move, the five others can.
    ProcessInstance.objects.filter(case=treated).update(status=InstanceStatus.INCIDENT)
    body = api(admin).get(_url(to_version=2), HTTP_ACCEPT_LANGUAGE="nb").json()
    problems = [(p["element_id"], p["reason"], p["cases"]) for p in body["problems"]]
    assert problems == [("", "instance-has-incident", {"count": None, "shown": "under 5"})]
    assert body["problems"][0]["message"].startswith("saken stoppet")
    # One cannot move: hidden, and so the five that can (six less five is one).
    assert body["cases"]["count"] == 6
    assert body["refused"] == {"count": None, "shown": "under 5"}
    assert body["movable"] == {"count": None, "shown": "skjult"}
    rows = {row["element_id"]: row["cases"]["shown"] for row in body["waiting"]}
    assert rows == {BRANCH[0]: "under 5", OTHER_BRANCH: "skjult"}


def test_the_preview_of_one_case_is_refused_naming_the_field(people, agencies):
    admin = people[0]
    (case,) = _cases(people, agencies, 1, 0)
    answer = api(admin).get(_url(to_version=2, case=case.pk))
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["field"] == "case" and str(case.pk) not in error["message"]


def test_one_case_still_moves_with_its_refusal_recorded(people, agencies):
    """The move of one case stays: a write, audited, on the case's timeline."""
    admin = people[0]
    first, second = _cases(people, agencies, 1, 1)
    url = reverse("api-process-version-migration", args=["Proc_branch", 1])
    moved = api(admin).post(url, {"to_version": 2, "case": second.pk}, format="json")
    assert moved.status_code == 200 and len(moved.json()["migrated"]) == 1
    assert first.instances.get().definition.version == 1
    assert second.instances.get().definition.version == 2


def test_the_preview_reads_no_more_statements_as_cases_grow(people, agencies):
    """Every case's agencies in one statement: five cases read what one reads (before, a
    statement more per case)."""
    admin, nurse = people
    _deploy(model())
    _deploy(model().replace('name="Branch on health"', 'name="Branch on health, v2"'))  # cases start here
    url = reverse("api-process-version-migration", args=["Proc_branch", 2]) + "?to_version=1"
    client = api(admin)
    _assessed(nurse, agencies, True)
    client.get(url)  # caches warmed
    page = reverse("process-migrate", args=["Proc_branch", 2]) + "?to_version=1"
    browser = web(admin)
    browser.get(page)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as one_page:
        assert browser.get(page).status_code == 200
    for value in (True, False, True, False):
        _assessed(nurse, agencies, value)
    with CaptureQueriesContext(connection) as five:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as five_page:
        assert browser.get(page).status_code == 200
    assert (len(five), len(five_page)) == (len(one), len(one_page))
