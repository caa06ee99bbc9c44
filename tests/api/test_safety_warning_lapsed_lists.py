"""A lapsed safety warning's branch is told by no list across cases (h-lists).

A gateway chooses a branch by the warning's level: on "vold" the housing office visits with
the police and the case waits a month as well (a timer), otherwise it visits as usual. While
the warning is in force every participant sees it and its branch, in every list. Once it has
lapsed, NAV learns only that a warning lapsed: the case page, the diagram and the timeline
hide the branch (h-attack34), but the lists across cases took the safety category as open to
every participant by standing (``rules.OPEN_CATEGORIES``), whatever the clock said: the inbox
(API and page), a case's task list, the case list's open-task count, next timer and overdue
filter, and the case's own answer listed the police visit in one case and the usual visit in
the other, so told NAV the lapsed warning's level."""

import datetime

import pytest
from django.utils import timezone

from permissions import policy, rules
from tests.api.test_safety_warnings import PERSON, people  # noqa: F401 (fixture)
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.clients import web as page
from tests.deadlines import set_due
from tests.ids import tid
from workflows import selectors, services
from workflows.models import Case, ProcessInstance, Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
LEVEL = {"type": "string", "enum": ["vold", "ingen"], "x-category": "safety"}
FORMS = {
    "level.schema.json": {"type": "object", "properties": {"nivaa": LEVEL}},
    "noted.schema.json": {
        "type": "object",
        "properties": {"notert": {"type": "boolean", "x-category": "coordination"}},
    },
}
BRANCH_TASKS = ("T_police", "T_plain")


def _model() -> str:
    level, noted = (properties(formJsonSchemaFilename=f) for f in ("level.schema.json", "noted.schema.json"))
    lanes = {
        "Boligkontakt": ["S", "G", "Split", "Timer_wait", "Merge", "T_police", "T_plain", "J", "E"],
        "Kriminalomsorgen": ["T_level"],
        "NAV": ["T_nav"],
    }
    return definitions(f"""
        <bpmn:process id="Proc_level_lists" name="Proc_level_lists" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T_level"/>
          <bpmn:userTask id="T_level" name="Advarsel">{level}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="T_level" targetRef="G"/>
          <bpmn:exclusiveGateway id="G" default="F_plain"/>
          <bpmn:sequenceFlow id="F_police" sourceRef="G" targetRef="Split">
            <bpmn:conditionExpression>nivaa == "vold"</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_plain" sourceRef="G" targetRef="T_plain"/>
          <bpmn:parallelGateway id="Split"/>
          <bpmn:sequenceFlow id="F_s1" sourceRef="Split" targetRef="T_police"/>
          <bpmn:sequenceFlow id="F_s2" sourceRef="Split" targetRef="Timer_wait"/>
          <bpmn:userTask id="T_police" name="Besøk med politiet">{noted}</bpmn:userTask>
          <bpmn:intermediateCatchEvent id="Timer_wait" name="Venter en måned">
            <bpmn:timerEventDefinition><bpmn:timeDuration>P30D</bpmn:timeDuration></bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="F_m1" sourceRef="T_police" targetRef="Merge"/>
          <bpmn:sequenceFlow id="F_m2" sourceRef="Timer_wait" targetRef="Merge"/>
          <bpmn:parallelGateway id="Merge"/>
          <bpmn:sequenceFlow id="F3" sourceRef="Merge" targetRef="J"/>
          <bpmn:userTask id="T_plain" name="Vanlig besøk">{noted}</bpmn:userTask>
          <bpmn:sequenceFlow id="F4" sourceRef="T_plain" targetRef="J"/>
          <bpmn:exclusiveGateway id="J"/>
          <bpmn:sequenceFlow id="F5" sourceRef="J" targetRef="T_nav"/>
          <bpmn:userTask id="T_nav" name="NAV">{noted}</bpmn:userTask>
          <bpmn:sequenceFlow id="F6" sourceRef="T_nav" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
    """)


def _two_cases(people, agencies, monkeypatch, *, days_ago: int) -> dict[str, Case]:  # noqa: F811
    """Case ``vold`` took the police branch, case ``ingen`` the usual one; the prison recorded
    each level ``days_ago`` days ago (the case was started and the step done then); every
    branch task is past its deadline."""
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=_model(), forms=FORMS, check_permission=False)
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() - datetime.timedelta(days=days_ago))
    cases = {}
    for level, person in (("vold", PERSON), ("ingen", OTHER_PERSON)):
        case = services.start_case(
            actor=people["coordinator"],
            process_key="Proc_level_lists",
            person=person,
            participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
        )
        task = Task.objects.get(case=case, element_id="T_level")
        services.complete_task(actor=people["recorder"], task_id=task.pk, data={"nivaa": level})
        cases[level] = case
    monkeypatch.setattr(timezone, "now", real_now)
    set_due(Task.objects.filter(element_id__in=BRANCH_TASKS), timezone.now() - datetime.timedelta(days=2))
    assert Task.objects.filter(case=cases["vold"], element_id="T_police", status="open").exists()
    assert Task.objects.filter(case=cases["ingen"], element_id="T_plain", status="open").exists()
    assert ProcessInstance.objects.get(case=cases["vold"]).next_timer_at is not None
    assert ProcessInstance.objects.get(case=cases["ingen"]).next_timer_at is None
    return {key: Case.objects.get(pk=case.pk) for key, case in cases.items()}


@pytest.fixture
def lapsed(people, agencies, monkeypatch):  # noqa: F811
    cases = _two_cases(people, agencies, monkeypatch, days_ago=400)
    lapsed_for_nav = policy.lapsed_warnings(cases["vold"], selectors.case_field_rules(cases["vold"]))
    assert set(lapsed_for_nav) == {"nivaa"}
    return cases


@pytest.fixture
def in_force(people, agencies, monkeypatch):  # noqa: F811
    return _two_cases(people, agencies, monkeypatch, days_ago=10)


def _branch(element_ids) -> list[str]:
    return sorted(e for e in element_ids if e in BRANCH_TASKS)


def told_in_lists(user, cases) -> dict:
    """Everything ``user``'s lists, counts and filters say of each case's branch, keyed by level."""
    client, browser = api(user), page(user)
    all_tasks = client.get("/api/v1/tasks/?page_size=200").json()["results"]
    overdue_tasks = client.get("/api/v1/tasks/?overdue=true&page_size=200").json()["results"]
    case_rows = {row["id"]: row for row in client.get("/api/v1/cases/").json()["results"]}
    overdue_cases = {row["id"] for row in client.get("/api/v1/cases/?overdue=true").json()["results"]}
    page_rows = {c.pk: c for c in browser.get("/cases/").context["cases"]}
    page_overdue = {c.pk for c in browser.get("/cases/?overdue=1").context["cases"]}
    tabs = {tab: browser.get(f"/tasks/?tab={tab}").context["tasks"] for tab in ("agency", "overdue")}
    seen = {}
    for key, case in cases.items():
        answer = client.get(f"/api/v1/cases/{case.pk}/").json()
        case_page = browser.get(f"/cases/{case.pk}/")
        seen[key] = {
            "api tasks": _branch(t["element_id"] for t in all_tasks if t["case"]["id"] == case.pk),
            "api overdue tasks": _branch(t["element_id"] for t in overdue_tasks if t["case"]["id"] == case.pk),
            "api case's tasks": _branch(
                t["element_id"] for t in client.get(f"/api/v1/tasks/?case={case.pk}").json()["results"]
            ),
            "api case row": (case_rows[case.pk]["open_task_count"], case_rows[case.pk]["next_timer_at"] is None),
            "api overdue case": case.pk in overdue_cases,
            "api case open tasks": _branch(t["element_id"] for t in answer["open_tasks"]),
            "api case next timer": answer["next_timer_at"] is None,
            "page case list": (page_rows[case.pk].open_task_count, selectors.next_deadline(page_rows[case.pk])),
            "page overdue case": case.pk in page_overdue,
            **{
                f"page tab {tab}": _branch(t.element_id for t in rows if t.case_id == case.pk)
                for tab, rows in tabs.items()
            },
            "page open tasks": _branch(t.element_id for t in case_page.context["view"].open_tasks),
            "case tasks for": _branch(t.element_id for t in selectors.case_tasks_for(user, case)),
        }
    return seen


def test_nav_s_lists_tell_nothing_of_the_branch_a_lapsed_warning_chose(lapsed, people):  # noqa: F811
    seen = told_in_lists(people["other"], lapsed)
    assert seen["vold"] == seen["ingen"], seen
    assert seen["vold"]["api tasks"] == [] and seen["vold"]["api case row"] == (0, True), seen
    for task in Task.objects.filter(element_id__in=BRANCH_TASKS):  # nor by id, through the API or the page
        assert api(people["other"]).get(f"/api/v1/tasks/{tid(task.pk)}/").status_code == 404
        assert page(people["other"]).get(f"/tasks/{tid(task.pk)}/").status_code == 404


def test_while_the_warning_is_in_force_every_list_shows_its_branch(in_force, people):  # noqa: F811
    seen = told_in_lists(people["other"], in_force)
    assert seen["vold"]["api tasks"] == ["T_police"] and seen["ingen"]["api tasks"] == ["T_plain"], seen
    assert seen["vold"]["api case row"] == (1, False) and seen["ingen"]["api case row"] == (1, True), seen
    assert seen["vold"]["api overdue case"] and seen["vold"]["page tab overdue"] == ["T_police"], seen
    assert seen["vold"]["api case open tasks"] == ["T_police"], seen


def test_those_who_keep_the_lapsed_warning_still_see_its_branch(lapsed, people):  # noqa: F811
    """The agency that recorded it and the case's coordinator keep a lapsed warning
    (``rules.decide_lapsed_warning``): the case's own answer shows them the branch (its exact
    path view); the coordinator's lists across cases too."""
    for keeper in ("recorder", "coordinator"):
        answer = api(people[keeper]).get(f"/api/v1/cases/{lapsed['vold'].pk}/").json()
        assert _branch(t["element_id"] for t in answer["open_tasks"]) == ["T_police"], keeper
    seen = told_in_lists(people["coordinator"], lapsed)
    assert seen["vold"]["api tasks"] == ["T_police"] and seen["ingen"]["api tasks"] == ["T_plain"], seen
    assert seen["vold"]["api case row"] == (1, False), seen


def test_confirmed_again_the_warning_s_branch_is_listed_again(lapsed, people):  # noqa: F811
    """A confirmation starts a new time in force: the lists show its branch to every
    participant again, as the case page shows the warning."""
    url = f"/api/v1/cases/{lapsed['vold'].pk}/safety-confirmations/"
    assert api(people["recorder"]).post(url, {"field": "nivaa"}, format="json").status_code == 200
    seen = told_in_lists(people["other"], lapsed)
    assert seen["vold"]["api tasks"] == ["T_police"] and seen["vold"]["api case row"] == (1, False), seen
    assert seen["ingen"]["api tasks"] == [], seen  # still lapsed there


def test_the_rule_for_one_task_agrees_with_the_lists(lapsed, in_force, people):  # noqa: F811
    """``rules.task_listed`` (the short answers after a start or a completion) decides as
    ``rules.listed_task_rows`` (every list), lapsed or in force."""
    for user in people.values():
        listed = set(rules.listed_task_rows(user, Task.objects.all()).values_list("pk", flat=True))
        for task in Task.objects.select_related("case"):
            assert rules.task_listed(user, task, task.case) == (task.pk in listed), (user, task)
