"""What a timer whose moment is computed from masked data did when it fired (the eviction
process's "a week before the eviction": ``local_datetime(days_before(eviction_date, 7),
"09:00")``, the housing office's field). Its next moment was already hidden from NAV and the
health service (``tests/api/test_timer_expression_inference.py``); once it had fired, what
followed it still showed: the "timer fired" event, the escalation task it created (in the
case's open tasks and the task lists, its creation on the timeline, on the diagram), so a
reader who looked at the case learned the day it fired, and the eviction date a week after
it, the first time the case showed them the escalation. The timer is now a split of its own
(``bpmn.engine.gateway_paths.timer_paths``): what its firing does at its moment lies on its
branch, hidden from a reader who may not see the fields it reads, but their own agency's
tasks. NAV is told the same of a case whose timer fired and of one whose timer has not;
the housing office, whose escalation it is, sees it, in its task list too."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from bpmn.engine.gateway_paths import path_splits, timer_paths
from bpmn.models import ProcessDefinition
from permissions.rules import PATH_CATEGORY_BITS, path_mask
from tests.api.path_told import told
from tests.clients import api
from tests.clock import Clock
from tests.ids import tid
from tests.workflows.helpers import PERSON, complete, open_tasks
from workflows import services
from workflows.models import Event, EventKind, ProcessInstance, Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
TIMER, ESCALATION = "BoundaryEvent_week_before", "Task_escalate_eviction"


def negotiating(users, agencies, person, days_to_eviction: int):
    case = services.start_case(
        actor=users["bjorn"],
        process_key="eviction_prevention",
        person=person,
        participants={kind: agencies[kind].pk for kind in ("housing", "nav", "health")},
    )
    today = timezone.localdate()
    eviction = (today + datetime.timedelta(days=days_to_eviction)).isoformat()
    for _step in range(3):
        tasks = open_tasks(case)
        if any(task.element_id == "Task_negotiate" for task in tasks):
            break
        for task in tasks:
            complete(task, {"eviction_date": eviction, "notice_received_date": today.isoformat()})
    return case


@pytest.fixture
def fired_and_waiting(shipped, users, agencies, monkeypatch):
    """``(fired, waiting)``: two eviction cases at "negotiate"; the week-before timer of the
    first (eviction in ten days) has fired, that of the second (in thirty) has not."""
    clock = Clock(monkeypatch, timezone.now())
    fired = negotiating(users, agencies, PERSON, 10)
    waiting = negotiating(users, agencies, OTHER_PERSON, 30)
    due = fired.instances.get().next_timer_at
    clock.set(due + datetime.timedelta(seconds=1))
    assert services.fire_timer("w")[0] == "fired"
    assert services.fire_timer("w")[0] == "none"
    assert Task.objects.filter(case=fired, element_id=ESCALATION).exists()
    assert not Task.objects.filter(case=waiting, element_id=ESCALATION).exists()
    return fired, waiting


def test_readers_without_the_housing_data_cannot_tell_whether_the_timer_fired(fired_and_waiting, users):
    fired, waiting = fired_and_waiting
    for reader in ("nils", "helga"):
        assert told(users[reader], fired) == told(users[reader], waiting), reader
    # Nor once the escalation is done: with a day's deadline, its end tells the moment too.
    complete(Task.objects.get(case=fired, element_id=ESCALATION))
    assert told(users["bjorn"], fired)["diagram"] != told(users["bjorn"], waiting)["diagram"]
    for reader in ("nils", "helga"):
        assert told(users[reader], fired) == told(users[reader], waiting), reader


def test_the_housing_office_sees_the_escalation_and_the_timer_fire(fired_and_waiting, users):
    fired, waiting = fired_and_waiting
    bjorn = told(users["bjorn"], fired)
    assert ESCALATION in bjorn["open tasks"] and ESCALATION in bjorn["task list"]
    assert (EventKind.TIMER_FIRED, TIMER) in bjorn["timeline"]
    assert bjorn != told(users["bjorn"], waiting)


def test_the_escalation_carries_the_timers_category_for_the_lists(fired_and_waiting, users):
    fired, _waiting = fired_and_waiting
    escalation = Task.objects.get(case=fired, element_id=ESCALATION)
    assert escalation.path_categories == PATH_CATEGORY_BITS["housing"]
    assert api(users["nils"]).get(f"/api/v1/tasks/{tid(escalation.pk)}/").status_code == 404
    assert Event.objects.filter(case=fired, kind=EventKind.TIMER_FIRED, element_id=TIMER).exists()


def test_what_the_firing_does_at_its_moment_is_its_branch_and_no_further():
    from bpmn.engine.gateway_paths import gateway_paths
    from tests.bpmn.engine.bpmn_snippets import definitions

    xml = definitions("""
        <bpmn:process id="p" isExecutable="true">
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T_wait"/>
          <bpmn:userTask id="T_wait"/>
          <bpmn:boundaryEvent id="B_deadline" attachedToRef="T_wait">
            <bpmn:timerEventDefinition>
              <bpmn:timeDate>days_before(hearing_date, 2)</bpmn:timeDate>
            </bpmn:timerEventDefinition>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="F2" sourceRef="B_deadline" targetRef="G_split"/>
          <bpmn:parallelGateway id="G_split"/>
          <bpmn:sequenceFlow id="F3" sourceRef="G_split" targetRef="T_first"/>
          <bpmn:sequenceFlow id="F4" sourceRef="G_split" targetRef="C_later"/>
          <bpmn:userTask id="T_first"/>
          <bpmn:intermediateCatchEvent id="C_later">
            <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="F5" sourceRef="C_later" targetRef="T_day_after"/>
          <bpmn:userTask id="T_day_after"/>
          <bpmn:sequenceFlow id="F6" sourceRef="T_first" targetRef="T_person_later"/>
          <bpmn:userTask id="T_person_later"/>
          <bpmn:sequenceFlow id="F8" sourceRef="T_person_later" targetRef="E"/>
          <bpmn:sequenceFlow id="F7" sourceRef="T_wait" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>""")
    (path,) = timer_paths(xml).values()
    assert path.reads == {"hearing_date"}
    # What it does then: the task it cancels (interrupting), the task it creates, the timer it
    # arms (which fires a day after); and what is reached only through it, as a branch; not
    # the end, which the case reaches without it too.
    branch = {"B_deadline", "T_wait", "G_split", "T_first", "C_later", "T_day_after", "T_person_later"}
    assert path.branch_elements == branch
    assert timer_paths(xml, shared={"hearing_date"}) == {}
    assert path_splits(xml) == {**gateway_paths(xml), "B_deadline": path}


def test_the_migration_fills_in_the_categories_of_tasks_a_timer_created(fired_and_waiting):
    fired, _waiting = fired_and_waiting
    definition = ProcessDefinition.objects.get(pk=fired.instances.get().definition_id)
    stored = dict(definition.metadata["path_categories"])
    assert stored[ESCALATION] == ["housing"]
    before = {element: cats for element, cats in stored.items() if element not in (TIMER, ESCALATION)}
    ProcessDefinition.objects.filter(pk=definition.pk).update(
        metadata={**definition.metadata, "path_categories": before}
    )
    Task.objects.filter(case=fired).update(path_categories=0)
    migration = importlib.import_module("workflows.migrations.0041_path_categories_messages_timers")
    migration.fill(apps, None)
    definition.refresh_from_db()
    assert definition.metadata["path_categories"] == stored
    assert Task.objects.get(case=fired, element_id=ESCALATION).path_categories == path_mask(["housing"])
    assert ProcessInstance.objects.get(case=fired).timer_path_categories == path_mask(["housing"])


def test_an_interrupting_timer_on_a_sub_process_hides_the_tasks_it_cancels():
    """The activity an interrupting timer cancels lies on the timer's branch; a sub-process's
    tasks are cancelled with it at the timer's moment, so they lie there too. Until 2026-12-06
    only the sub-process did: its inner task showed to NAV as open until the moment, then
    "cancelled" at it (the hearing date two days later), in the timeline, the case's open
    tasks and the diagram."""
    from tests.bpmn.engine.bpmn_snippets import definitions

    xml = definitions("""
        <bpmn:process id="p" isExecutable="true">
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Sub_wait"/>
          <bpmn:subProcess id="Sub_wait">
            <bpmn:startEvent id="S_in"/>
            <bpmn:sequenceFlow id="Fi1" sourceRef="S_in" targetRef="T_inner"/>
            <bpmn:userTask id="T_inner"/>
            <bpmn:sequenceFlow id="Fi2" sourceRef="T_inner" targetRef="E_in"/>
            <bpmn:endEvent id="E_in"/>
          </bpmn:subProcess>
          <bpmn:boundaryEvent id="B_deadline" attachedToRef="Sub_wait">
            <bpmn:timerEventDefinition>
              <bpmn:timeDate>days_before(hearing_date, 2)</bpmn:timeDate>
            </bpmn:timerEventDefinition>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="F2" sourceRef="B_deadline" targetRef="T_late"/>
          <bpmn:userTask id="T_late"/>
          <bpmn:sequenceFlow id="F3" sourceRef="T_late" targetRef="E"/>
          <bpmn:sequenceFlow id="F4" sourceRef="Sub_wait" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>""")
    (path,) = timer_paths(xml).values()
    assert {"B_deadline", "Sub_wait", "S_in", "T_inner", "E_in", "T_late"} <= path.branch_elements


def test_a_sub_process_only_the_timer_s_firing_leads_to_lies_on_its_branch():
    """What the case reaches only through the timer lies on its branch, a sub-process's tasks
    too. Until 2026-12-06 every start event counted as where a case may begin, the one inside
    a sub-process (or a called process) as well, so its tasks counted as reached without the
    timer: a reader who may not see the hearing date saw the tasks the escalation led to."""
    from tests.bpmn.engine.bpmn_snippets import definitions

    xml = definitions("""
        <bpmn:process id="p" isExecutable="true">
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T_wait"/>
          <bpmn:userTask id="T_wait"/>
          <bpmn:sequenceFlow id="F2" sourceRef="T_wait" targetRef="E"/>
          <bpmn:endEvent id="E"/>
          <bpmn:boundaryEvent id="B_deadline" attachedToRef="T_wait" cancelActivity="false">
            <bpmn:timerEventDefinition>
              <bpmn:timeDate>days_before(hearing_date, 2)</bpmn:timeDate>
            </bpmn:timerEventDefinition>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="F3" sourceRef="B_deadline" targetRef="T_escalate"/>
          <bpmn:userTask id="T_escalate"/>
          <bpmn:sequenceFlow id="F4" sourceRef="T_escalate" targetRef="Sub_after"/>
          <bpmn:subProcess id="Sub_after">
            <bpmn:startEvent id="S_in"/>
            <bpmn:sequenceFlow id="Fi1" sourceRef="S_in" targetRef="T_inner"/>
            <bpmn:userTask id="T_inner"/>
          </bpmn:subProcess>
          <bpmn:sequenceFlow id="F5" sourceRef="Sub_after" targetRef="E_late"/>
          <bpmn:endEvent id="E_late"/>
        </bpmn:process>""")
    (path,) = timer_paths(xml).values()
    assert {"B_deadline", "T_escalate", "Sub_after", "S_in", "T_inner", "E_late"} <= path.branch_elements
    assert not {"S", "T_wait", "E"} & path.branch_elements


def test_a_called_file_sharing_the_models_start_id_keeps_its_tasks_on_the_timers_branch():
    """bpmn-js names every new diagram's start ``StartEvent_1``, so a called file often shares
    its start's id with the model (deployed so: start events alone may). Read as one document
    by id, the called start was the model's own, the case began at it too, and the called
    process's task counted as reached without the timer (before 2026-12-06)."""
    from bpmn.engine.gateway_paths import with_called
    from tests.bpmn.engine.bpmn_snippets import definitions

    model = definitions("""
        <bpmn:process id="p" isExecutable="true">
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="T_wait"/>
          <bpmn:userTask id="T_wait"/>
          <bpmn:sequenceFlow id="F2" sourceRef="T_wait" targetRef="E"/>
          <bpmn:endEvent id="E"/>
          <bpmn:boundaryEvent id="B_deadline" attachedToRef="T_wait" cancelActivity="false">
            <bpmn:timerEventDefinition>
              <bpmn:timeDate>days_before(hearing_date, 2)</bpmn:timeDate>
            </bpmn:timerEventDefinition>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="F3" sourceRef="B_deadline" targetRef="Call_after"/>
          <bpmn:callActivity id="Call_after" calledElement="after"/>
          <bpmn:sequenceFlow id="F4" sourceRef="Call_after" targetRef="E_late"/>
          <bpmn:endEvent id="E_late"/>
        </bpmn:process>""")
    called = definitions("""
        <bpmn:process id="after" isExecutable="true">
          <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Fc1</bpmn:outgoing></bpmn:startEvent>
          <bpmn:sequenceFlow id="Fc1" sourceRef="StartEvent_1" targetRef="T_inner"/>
          <bpmn:userTask id="T_inner"><bpmn:incoming>Fc1</bpmn:incoming></bpmn:userTask>
        </bpmn:process>""")
    (path,) = timer_paths(with_called(model, [called])).values()
    assert {"B_deadline", "Call_after", "T_inner", "E_late"} <= path.branch_elements
    assert not {"StartEvent_1", "T_wait", "E"} & path.branch_elements
