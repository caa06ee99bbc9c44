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
from tests.workflows.helpers import PERSON, complete, open_tasks
from tests.workflows.version_models import FORMS as VERSIONED_FORMS
from tests.workflows.version_models import model as versioned
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


def _rows(body):
    """The rows of the preview by the elements their cases wait on (each row one standing)."""
    rows = {tuple(w["element_id"] for w in row["waiting"]): row for row in body["standings"]}
    assert len(rows) == len(body["standings"])
    return rows


def _unpinned(body):
    """Whether no hidden row can be narrowed to one number: the rows add up to the cases,
    "under 5" is 1 to 4, "hidden" 5 or more (a row listed counts a case), a count shown is
    itself. Each hidden row's range, from the others' ranges and the cases less the shown."""
    total = body["cases"]["count"]
    rows = [row["cases"] for row in body["standings"]]
    left = total - sum(count["count"] for count in rows if count["count"] is not None)
    ranges = [
        (1, 4) if count["count"] is None and count["shown"] in ("under 5", "fewer than 5") else (5, total)
        for count in rows
    ]
    hidden = [i for i, count in enumerate(rows) if count["count"] is None]
    for i in hidden:
        others = [ranges[j] for j in hidden if j != i]
        low = max(ranges[i][0], left - sum(high for _, high in others))
        high = min(ranges[i][1], left - sum(low for low, _ in others))
        if low >= high:
            return False
    return True


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
    rows = _rows(body)
    assert set(rows) == {(BRANCH[0],), (OTHER_BRANCH,)}
    for row in rows.values():
        assert row["cases"]["count"] is None and row["possible"] is True
    # How many run on the version the process page says as well; how many can move, not.
    assert body["cases"]["count"] == 2 and body["movable"]["count"] is None
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
    rows = {key: row["cases"] for key, row in _rows(body).items()}
    assert rows[OTHER_BRANCH,] == {"count": None, "shown": "under 5"}
    assert rows[BRANCH[0],] == {"count": None, "shown": "skjult"}
    assert (body["cases"]["count"], body["movable"]["count"], body["refused"]["count"]) == (7, 7, 0)


def test_large_groups_are_counted_exactly(people, agencies):
    admin = people[0]
    _cases(people, agencies, 5, 5)
    body = api(admin).get(_url(to_version=2), HTTP_ACCEPT_LANGUAGE="nb").json()
    rows = _rows(body)
    assert {key: row["cases"] for key, row in rows.items()} == {
        (BRANCH[0],): {"count": 5, "shown": "5"},
        (OTHER_BRANCH,): {"count": 5, "shown": "5"},
    }
    assert rows[BRANCH[0],]["waiting"][0]["new_element_id"] == BRANCH[0]
    assert (body["cases"]["count"], body["movable"]["count"], body["refused"]["count"]) == (10, 10, 0)
    assert [row["problems"] for row in rows.values()] == [[], []]


def test_reasons_are_counted_with_where_the_cases_wait_and_small_ones_hidden(people, agencies):
    admin = people[0]
    treated, *_untreated = _cases(people, agencies, 1, 5)
    # The treated case stopped on an incident: it cannot move, the five others can.
    ProcessInstance.objects.filter(case=treated).update(status=InstanceStatus.INCIDENT)
    body = api(admin).get(_url(to_version=2), HTTP_ACCEPT_LANGUAGE="nb").json()
    rows = _rows(body)
    stopped = rows[BRANCH[0],]
    assert [(p["element_id"], p["reason"]) for p in stopped["problems"]] == [("", "instance-has-incident")]
    assert stopped["problems"][0]["message"].startswith("saken stoppet") and stopped["possible"] is False
    # One cannot move: hidden, and so the five that can (six less five is one). Not as "under
    # 5" beside a "hidden" five: a hidden row is one of five or more, six less it is one.
    assert body["cases"]["count"] == 6
    for count in (stopped["cases"], rows[OTHER_BRANCH,]["cases"], body["refused"], body["movable"]):
        assert count == {"count": None, "shown": "skjult"}


def test_a_three_way_split_gives_no_small_count_away(people, agencies):
    """Seven treated, two not yet assessed, six untreated: three elements share the 15
    cases, each case at one. Before, the 7 and the 6 were shown beside the 15 (the process
    page's number too), and 15 less 7 less 6 said 2 cases wait to be assessed. Now the rows
    add up to the cases in the ledger: one more is hidden, and nothing shown pins the 2."""
    admin, nurse = people
    _deploy(model())
    for value in [True] * 7 + [False] * 6:
        _assessed(nurse, agencies, value)
    for _ in range(2):
        services.start_case(
            actor=nurse,
            process_key="Proc_branch",
            person=PERSON,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
    _deploy(model().replace('name="Branch on health"', 'name="Branch on health, v2"'))
    body = api(admin).get(_url(to_version=2)).json()
    rows = {key: row["cases"] for key, row in _rows(body).items()}
    assert set(rows) == {("Task_assess",), (BRANCH[0],), (OTHER_BRANCH,)}
    assert body["cases"]["count"] == 15
    assert rows["Task_assess",] == {"count": None, "shown": "fewer than 5"}
    assert [count["count"] for count in rows.values()].count(None) >= 2
    assert _unpinned(body)


def test_where_cases_wait_and_what_keeps_them_are_one_row_with_one_count(people, agencies):
    """A target version without the first task: the six cases waiting on it wait on an
    element it does not have, the five past it finished one it does not have. Before, "wait
    on Task_a" and "Task_a removed" were two rows over the same cases, each hidden or shown by
    itself (one could show what the other hid), and the five at Task_b were counted again at
    its timer. Now a row per standing, each case in one: what they wait on (Task_b and its
    timer together), what keeps them, one count."""
    admin = people[0]
    worker = get_user_model().objects.create_user("pv-nav-worker", password="x")
    Membership.objects.create(user=worker, agency=agencies["nav"], role=Role.MEMBER)
    deploy_definition(actor=None, bpmn_xml=versioned(), forms=VERSIONED_FORMS, check_permission=False)
    cases = [
        services.start_case(
            actor=worker, process_key="versioned", person=PERSON, participants={"nav": agencies["nav"].pk}
        )
        for _ in range(11)
    ]
    for case in cases[6:]:
        complete(open_tasks(case)[0], actor=worker)
    deploy_definition(actor=None, bpmn_xml=versioned(with_a=False), forms=VERSIONED_FORMS, check_permission=False)
    url = reverse("api-process-version-migration", args=["versioned", 1]) + "?to_version=2"
    body = api(admin).get(url).json()
    rows = _rows(body)
    assert set(rows) == {("Task_a",), ("Task_b", "Timer_b")}
    waiting, past = rows["Task_a",], rows["Task_b", "Timer_b"]
    assert [(p["element_id"], p["reason"]) for p in waiting["problems"]] == [("Task_a", "waiting-element-removed")]
    assert [(p["element_id"], p["reason"]) for p in past["problems"]] == [("Task_a", "finished-element-removed")]
    assert waiting["waiting"][0]["new_element_id"] is None
    assert (waiting["cases"], past["cases"]) == ({"count": 6, "shown": "6"}, {"count": 5, "shown": "5"})
    assert (body["cases"]["count"], body["movable"]["count"], body["refused"]["count"]) == (11, 0, 11)


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
