"""Inference through task lists (issue 11, point 7): a gateway reads a health field; on one
branch two tasks of another agency open in parallel, on the other one. A reader with health
masked (NAV, or the housing coordinator) must not tell the two cases apart through any list
or count: the inbox (API and page, every tab), one task by id, the case list's open-task
counts and its overdue filter, "today" and the caseload. The health service, whose own
service the field is, sees them, and so does the agency whose tasks they are."""

import datetime

import pytest
from django.utils import timezone

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.clients import web as page
from tests.deadlines import set_due
from tests.ids import tid
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Case, Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
NOTE_FORM = {"type": "object", "properties": {"noted": {"type": "boolean", "x-category": "coordination"}}}
BRANCH = {"Task_branch_a": "Behandlingsplass", "Task_branch_b": "Oppfølging i behandling"}
OTHER = {"Task_other": "Vanlig oppfølging"}
HIDDEN = {**BRANCH, **OTHER}
FORM_H, FORM_N = properties(formJsonSchemaFilename="h.schema.json"), properties(formJsonSchemaFilename="n.schema.json")


def model(branch_lane, final_lane):
    """Health assesses; ``needs_treatment`` sends the case to two parallel tasks in
    ``branch_lane``, else to one task there; both meet before the final task."""
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment"],
        branch_lane: ["Gateway_split", *BRANCH, "Gateway_merge", *OTHER, "Gateway_join"],
        final_lane: ["Task_final", "EndEvent_1"],
    }
    tasks = "".join(f'<bpmn:userTask id="{e}" name="{n}">{FORM_N}</bpmn:userTask>' for e, n in HIDDEN.items())
    return definitions(f"""
        <bpmn:process id="Proc_lists" name="Branch in lists" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Vurdering">{FORM_H}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="F_other"/>
          <bpmn:sequenceFlow id="F_yes" sourceRef="Gateway_treatment" targetRef="Gateway_split">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_other" sourceRef="Gateway_treatment" targetRef="Task_other"/>
          <bpmn:parallelGateway id="Gateway_split"/>
          <bpmn:sequenceFlow id="F3" sourceRef="Gateway_split" targetRef="Task_branch_a"/>
          <bpmn:sequenceFlow id="F4" sourceRef="Gateway_split" targetRef="Task_branch_b"/>
          {tasks}
          <bpmn:sequenceFlow id="F5" sourceRef="Task_branch_a" targetRef="Gateway_merge"/>
          <bpmn:sequenceFlow id="F6" sourceRef="Task_branch_b" targetRef="Gateway_merge"/>
          <bpmn:parallelGateway id="Gateway_merge"/>
          <bpmn:sequenceFlow id="F7" sourceRef="Gateway_merge" targetRef="Gateway_join"/>
          <bpmn:sequenceFlow id="F8" sourceRef="Task_other" targetRef="Gateway_join"/>
          <bpmn:exclusiveGateway id="Gateway_join"/>
          <bpmn:sequenceFlow id="F9" sourceRef="Gateway_join" targetRef="Task_final"/>
          <bpmn:userTask id="Task_final" name="Avslutning">{FORM_N}</bpmn:userTask>
          <bpmn:sequenceFlow id="F10" sourceRef="Task_final" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


def _two_cases(users, agencies, branch_lane, final_lane):
    """Case ``yes`` took the treatment branch, case ``no`` the other; every hidden task is
    overdue; bjorn is responsible for both."""
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None,
        bpmn_xml=model(branch_lane, final_lane),
        forms={"h.schema.json": HEALTH_FORM, "n.schema.json": NOTE_FORM},
        check_permission=False,
    )
    cases = {}
    for answer, person in ((True, PERSON), (False, OTHER_PERSON)):
        case = services.start_case(
            actor=users["helga"],
            process_key="Proc_lists",
            person=person,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        task = Task.objects.get(case=case, element_id="Task_assess")
        services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": answer})
        cases["yes" if answer else "no"] = case
    set_due(Task.objects.filter(element_id__in=HIDDEN), timezone.now() - datetime.timedelta(days=2))
    Case.objects.update(responsible=users["bjorn"])
    assert Task.objects.filter(case=cases["yes"], element_id__in=BRANCH, status="open").count() == 2
    assert Task.objects.filter(case=cases["no"], element_id__in=OTHER, status="open").count() == 1
    return cases


@pytest.fixture
def housing_branch(users, agencies):
    """The branch tasks are the housing office's; NAV (health masked) reads."""
    return _two_cases(users, agencies, "Boligkontakt", "NAV")


@pytest.fixture
def nav_branch(users, agencies):
    """The branch tasks are NAV's; the housing coordinator (health masked) reads."""
    return _two_cases(users, agencies, "NAV", "Boligkontakt")


def hidden_tasks():
    return list(Task.objects.filter(element_id__in=HIDDEN))


def what_lists_tell(user, cases) -> dict:
    """Everything ``user``'s lists and counts say of each case's tasks, keyed by "yes"/"no"."""
    seen: dict[str, dict] = {}
    client, browser = api(user), page(user)
    all_tasks = client.get("/api/v1/tasks/?page_size=200").json()
    overdue_cases = {row["id"] for row in client.get("/api/v1/cases/?overdue=true").json()["results"]}
    case_rows = {row["id"]: row for row in client.get("/api/v1/cases/").json()["results"]}
    page_overdue = {c.pk for c in browser.get("/cases/?overdue=1").context["cases"]}
    page_counts = {c.pk: c.open_task_count for c in browser.get("/cases/").context["cases"]}
    tabs = {}
    for tab in ("mine", "agency", "responsible", "overdue"):
        tabs[tab] = [t for t in browser.get(f"/tasks/?tab={tab}").context["tasks"]]
    for key, case in cases.items():
        tasks = client.get(f"/api/v1/tasks/?case={case.pk}").json()
        overdue = client.get(f"/api/v1/tasks/?case={case.pk}&overdue=true").json()
        seen[key] = {
            "api tasks": sorted(t["element_id"] for t in tasks["results"]),
            "api count": len(tasks["results"]),
            "api overdue count": len(overdue["results"]),
            "api all tasks": sorted(t["element_id"] for t in all_tasks["results"] if t["case"]["id"] == case.pk),
            "api open_task_count": case_rows[case.pk]["open_task_count"],
            "api case overdue": case.pk in overdue_cases,
            "page open_task_count": page_counts[case.pk],
            "page case overdue": case.pk in page_overdue,
            **{
                f"page tab {tab}": sorted(t.element_id for t in rows if t.case_id == case.pk)
                for tab, rows in tabs.items()
            },
        }
    return seen


def test_nav_lists_and_counts_tell_neither_branch(housing_branch, users):
    seen = what_lists_tell(users["nils"], housing_branch)
    assert seen["yes"] == seen["no"], seen
    assert seen["yes"]["api tasks"] == ["Task_assess"] and seen["yes"]["api open_task_count"] == 0, seen
    for task in hidden_tasks():  # not by id either, through the API or the page
        assert api(users["nils"]).get(f"/api/v1/tasks/{tid(task.pk)}/").status_code == 404
        assert page(users["nils"]).get(f"/tasks/{tid(task.pk)}/").status_code == 404


def test_housing_coordinator_lists_today_and_caseload_tell_neither_branch(nav_branch, users, agencies):
    from permissions.models import Membership, Role

    seen = what_lists_tell(users["bjorn"], nav_branch)
    assert seen["yes"] == seen["no"], seen
    today = {
        c.pk: [t.element_id for t in c.open_task_list] for c in page(users["bjorn"]).get("/today/").context["cases"]
    }
    assert today == {nav_branch["yes"].pk: [], nav_branch["no"].pk: []}
    Membership.objects.get_or_create(user=users["lise"], agency=agencies["housing"], role=Role.LEAD)
    (load,) = api(users["lise"]).get("/api/v1/caseload/").json()
    bjorn = next(row for row in load["rows"] if row["user"] and row["user"]["username"] == "bjorn")
    assert (bjorn["open_cases"], bjorn["open_tasks"], bjorn["overdue_tasks"]) == (2, 0, 0)
    for task in hidden_tasks():
        assert api(users["bjorn"]).get(f"/api/v1/tasks/{tid(task.pk)}/").status_code == 404


def test_the_health_service_and_the_tasks_agency_see_them(nav_branch, users):
    """The rule hides only what the reader may not infer: the health service sees the field
    by its own service, NAV works the tasks."""
    for reader in ("helga", "nils"):
        seen = what_lists_tell(users[reader], nav_branch)
        shown = {key: [e for e in seen[key]["api all tasks"] if e != "Task_assess"] for key in seen}
        assert shown == {"yes": sorted(BRANCH), "no": sorted(OTHER)}, reader
        assert seen["yes"]["api open_task_count"] == 2 and seen["yes"]["api case overdue"], reader


def test_the_rule_for_one_task_agrees_with_the_lists(nav_branch, users):
    """``rules.task_listed`` (the short answers after a start or a completion) decides as
    ``rules.listed_task_rows`` (every list) for each reader and task."""
    from permissions import rules

    for reader in ("nils", "bjorn", "helga", "kari", "lise"):
        user = users[reader]
        listed = set(rules.listed_task_rows(user, Task.objects.all()).values_list("pk", flat=True))
        for task in Task.objects.select_related("case"):
            assert rules.task_listed(user, task, task.case) == (task.pk in listed), (reader, task)


def test_refusing_to_withdraw_the_agency_names_no_hidden_task_and_tells_neither_branch(nav_branch, users, agencies):
    """NAV holds open tasks on a branch hidden from the housing coordinator in both cases
    (two in one, one in the other). Refusing to withdraw NAV must say only that NAV has open
    work: no task name, no count, the same answer for both cases. (That it has open work is
    the refusal itself: the case would stop with nobody to do it.)"""
    answers = {
        key: api(users["bjorn"]).post(
            f"/api/v1/cases/{case.pk}/withdrawals/",
            {"agency": agencies["nav"].pk, "reason": "NAV-saken er avsluttet"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="nb",
        )
        for key, case in nav_branch.items()
    }
    assert {key: answer.status_code for key, answer in answers.items()} == {"yes": 409, "no": 409}
    bodies = {key: {k: v for k, v in answer.json().items() if k != "request_id"} for key, answer in answers.items()}
    assert bodies["yes"] == bodies["no"], bodies
    assert bodies["yes"]["code"] == "participant.open_tasks_unseen"
    assert not any(name in bodies["yes"]["detail"] for name in HIDDEN.values()), bodies
    assert not any(digit in bodies["yes"]["detail"] for digit in "0123456789"), bodies


def test_working_a_hidden_task_answers_as_a_task_that_does_not_exist(housing_branch, users):
    """Claiming, releasing, taking over or completing another agency's task on a branch the
    reader's path view hides answers 404, as reading it does and as a task id that does not
    exist: a 403 ("another agency's task", naming the agency) told NAV that the task exists,
    so which branch the health service's answer sent the case down."""
    missing = Task.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    client, browser = api(users["nils"]), page(users["nils"])
    for pk in [task.pk for task in hidden_tasks()] + [missing]:
        for action, body in (("claim", {}), ("unclaim", {}), ("reassign", {}), ("complete", {"data": {}})):
            answer = client.post(f"/api/v1/tasks/{tid(pk)}/{action}/", body, format="json")
            assert answer.status_code == 404, (pk, action, answer.json())
            assert answer.json()["code"] == "task.not_found", (pk, action)
        for action in ("claim", "unclaim", "reassign"):
            assert browser.post(f"/tasks/{tid(pk)}/{action}/").status_code == 404, (pk, action)
        assert browser.post(f"/tasks/{tid(pk)}/", {"noted": "on"}).status_code == 404, pk
    # A task of the same case that NAV's path view shows stays a 403: visible, not NAV's.
    shown = Task.objects.get(case=housing_branch["yes"], element_id="Task_assess")
    assert client.post(f"/api/v1/tasks/{tid(shown.pk)}/claim/", {}, format="json").json()["code"] == "task.other_agency"
    # The housing office, whose tasks they are, works them.
    (branch_task, *_rest) = Task.objects.filter(case=housing_branch["yes"], element_id__in=BRANCH)
    assert api(users["bjorn"]).post(f"/api/v1/tasks/{tid(branch_task.pk)}/claim/", {}, format="json").status_code == 200


def _timeline_kinds(client, case, page_size) -> list[str]:
    """The kinds of every event of the case's API timeline, page after page."""
    kinds, url = [], f"/api/v1/cases/{case.pk}/timeline/?page_size={page_size}"
    while url:
        answer = client.get(url).json()
        kinds += [event["kind"] for event in answer["results"]]
        url = answer["next"]
    return kinds


@pytest.mark.parametrize(("fixture", "reader"), [("housing_branch", "nils"), ("nav_branch", "bjorn")])
def test_the_timeline_tells_neither_branch_by_its_events(request, users, fixture, reader):
    """The treatment branch opens two tasks, the other one: a timeline that kept the events of
    hidden elements as their kind and time counted them for NAV ("task_created" twice or
    once, and the moments they were done), so told which way the health service's answer
    went. The API (in pages of any size), the case page's events and its swimlanes' handoffs
    are the same for both cases."""
    cases = request.getfixturevalue(fixture)
    client, browser = api(users[reader]), page(users[reader])
    seen = {}
    for key, case in cases.items():
        events = browser.get(f"/cases/{case.pk}/sections/events/").context["events"]["rows"]
        chart = browser.get(f"/cases/{case.pk}/").context["chart"]
        seen[key] = {
            "api": _timeline_kinds(client, case, 50),
            "api in pages of one": _timeline_kinds(client, case, 1),
            "page events": [event.kind for event, _label in events],
            "page handoffs": len(chart.arrows),
        }
    assert seen["yes"] == seen["no"], seen
    # The health service, whose field the gateway reads, sees the two tasks created.
    health = [_timeline_kinds(api(users["helga"]), case, 50).count("task_created") for case in cases.values()]
    assert health == [3, 2]
