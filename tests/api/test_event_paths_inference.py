"""What a message or a signal thrown on a hidden gateway branch sets off elsewhere, told to a
reader who may not see what chose the branch (issue 11).

1. Across called files: a call activity on the treatment branch calls a process (a file of
   its own) that throws "treat"; another call activity, on every path, calls a process (a
   file of its own) that waits for it and then makes NAV's task. The analysis took in what is
   inside a call activity on a branch without walking on from it, so the message left the
   branch nowhere: NAV's task counted as on no branch, and the housing coordinator, who may
   not see health data, saw it (and so the health value) in its lists, the timeline and the
   diagram.
2. A message or signal boundary event: the thrower is on the treatment branch, the activity
   it is attached to on every path. The boundary was reached through the edge from its
   activity on every branch, so it and what it leads to lay on no branch (an error's was
   only hidden because its activity was the sub-process holding the gateway). An
   interrupting one's activity (cancelled or not) is on the branch too, as a timer's.
3. An error thrown on the treatment branch inside a sub-process ends it: what follows the
   sub-process otherwise (NAV's rent payment) is made only on the ordinary branch, and lay on
   none.
(``bpmn.engine.gateway_paths._reach``, ``_caught_on_branches``.)
"""

import pytest

from bpmn.services import InvalidModel, deploy_definition
from tests.api.path_told import told
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
HOUSING_FORM = {"type": "object", "properties": {"home_found": {"type": "boolean", "x-category": "housing"}}}
NAV_FORM = {"type": "object", "properties": {"paid": {"type": "boolean", "x-category": "economy"}}}
FORMS = {"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM, "n.schema.json": NAV_FORM}
HEALTH = properties(formJsonSchemaFilename="h.schema.json")
HOUSING = properties(formJsonSchemaFilename="b.schema.json")
PAY = properties(formJsonSchemaFilename="n.schema.json")
TREATED = "<bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>"
ASSESS = f"""
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Vurdering">{HEALTH}</bpmn:userTask>
"""


def _lanes(lanes, prefix):
    return lane_set(lanes, lane_set_id=f"LaneSet_{prefix}").replace('id="Lane_', f'id="Lane_{prefix}_')


def calls_model() -> str:
    """Health assesses; a fork: the gateway's treatment branch calls the throwing process, and
    the other path calls the waiting one."""
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Fork", "Gateway_treatment", "End_a", "End_b"],
        "Boligkontakt": ["Call_throw", "Call_wait", "End_c"],
    }
    return definitions(f"""
        <bpmn:process id="Proc_calls" name="Henvisning mellom kalte prosesser" isExecutable="true">
          {_lanes(lanes, "main")}
          {ASSESS}
          <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Fork"/>
          <bpmn:parallelGateway id="Fork"/>
          <bpmn:sequenceFlow id="F3" sourceRef="Fork" targetRef="Gateway_treatment"/>
          <bpmn:sequenceFlow id="F4" sourceRef="Fork" targetRef="Call_wait"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="F6"/>
          <bpmn:sequenceFlow id="F5" sourceRef="Gateway_treatment" targetRef="Call_throw">{TREATED}</bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F6" sourceRef="Gateway_treatment" targetRef="End_b"/>
          <bpmn:callActivity id="Call_throw" calledElement="Proc_throw"/>
          <bpmn:sequenceFlow id="F7" sourceRef="Call_throw" targetRef="End_a"/>
          <bpmn:endEvent id="End_a"/>
          <bpmn:endEvent id="End_b"/>
          <bpmn:callActivity id="Call_wait" calledElement="Proc_wait"/>
          <bpmn:sequenceFlow id="F8" sourceRef="Call_wait" targetRef="End_c"/>
          <bpmn:endEvent id="End_c"/>
        </bpmn:process>
    """)


def throwing_file() -> str:
    return definitions(f"""
        <bpmn:message id="Message_treat_throw" name="treat"/>
        <bpmn:process id="Proc_throw" name="Henvis" isExecutable="true">
          {_lanes({"Boligkontakt": ["T_start", "T_throw", "T_end"]}, "throw")}
          <bpmn:startEvent id="T_start"/>
          <bpmn:sequenceFlow id="T1" sourceRef="T_start" targetRef="T_throw"/>
          <bpmn:intermediateThrowEvent id="T_throw">
            <bpmn:messageEventDefinition messageRef="Message_treat_throw"/>
          </bpmn:intermediateThrowEvent>
          <bpmn:sequenceFlow id="T2" sourceRef="T_throw" targetRef="T_end"/>
          <bpmn:endEvent id="T_end"/>
        </bpmn:process>
    """)


def waiting_file() -> str:
    lanes = {"Boligkontakt": ["W_start", "W_catch", "W_end"], "NAV": ["Task_nav"]}
    return definitions(f"""
        <bpmn:message id="Message_treat_catch" name="treat"/>
        <bpmn:process id="Proc_wait" name="Vent" isExecutable="true">
          {_lanes(lanes, "wait")}
          <bpmn:startEvent id="W_start"/>
          <bpmn:sequenceFlow id="W1" sourceRef="W_start" targetRef="W_catch"/>
          <bpmn:intermediateCatchEvent id="W_catch">
            <bpmn:messageEventDefinition messageRef="Message_treat_catch"/>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="W2" sourceRef="W_catch" targetRef="Task_nav"/>
          <bpmn:userTask id="Task_nav" name="Betal behandling">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="W3" sourceRef="Task_nav" targetRef="W_end"/>
          <bpmn:endEvent id="W_end"/>
        </bpmn:process>
    """)


def assessed(users, agencies, process_key: str, person, needs_treatment: bool):
    case = services.start_case(
        actor=users["helga"],
        process_key=process_key,
        person=person,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
    return case


def both_cases(users, agencies, process_key: str):
    """``(treated, ordinary)``: the health service assessed both."""
    return (
        assessed(users, agencies, process_key, PERSON, True),
        assessed(users, agencies, process_key, OTHER_PERSON, False),
    )


def test_a_message_between_called_files_carries_the_branch_it_was_thrown_on(users, agencies):
    called = [
        {"filename": "throw.bpmn", "bpmn_xml": throwing_file()},
        {"filename": "wait.bpmn", "bpmn_xml": waiting_file()},
    ]
    deploy_definition(actor=None, bpmn_xml=calls_model(), forms=FORMS, called=called, check_permission=False)
    treated, ordinary = both_cases(users, agencies, "Proc_calls")
    # The message crossed from one called process to the other: NAV's task only where treated.
    assert Task.objects.filter(case=treated, element_id="Task_nav", status="open").exists()
    assert not Task.objects.filter(case=ordinary, element_id="Task_nav").exists()
    # The housing coordinator (no consent to health data) is told the same of both cases.
    assert told(users["bjorn"], treated) == told(users["bjorn"], ordinary)
    # NAV's own task is in NAV's inbox; the health service sees where its field led.
    assert "Task_nav" in told(users["nils"], treated)["task list"]
    assert "Task_nav" in told(users["helga"], treated)["open tasks"]


def boundary_model(*, kind: str, interrupting: bool) -> str:
    """Health assesses; when treatment is needed a health task runs beside the rest, and when
    it is done it throws "urgent" (``kind``: a message or a signal). Both branches meet before
    NAV's waiting task, whose boundary event catches "urgent" and leads to NAV's urgent task."""
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment", "Fork_treated", "Task_treat", "Throw_urgent"],
        "NAV": ["Join", "Task_wait", "Caught_urgent", "Task_urgent", "End_a", "End_w", "End_u"],
    }
    if kind == "message":
        event = '<bpmn:message id="Event_urgent" name="urgent"/>'
        definition = '<bpmn:messageEventDefinition messageRef="Event_urgent"/>'
    else:
        event = '<bpmn:signal id="Event_urgent" name="urgent"/>'
        definition = '<bpmn:signalEventDefinition signalRef="Event_urgent"/>'
    cancel = "" if interrupting else ' cancelActivity="false"'
    return definitions(f"""
        {event}
        <bpmn:process id="Proc_boundary" name="Haster" isExecutable="true">
          {lane_set(lanes)}
          {ASSESS}
          <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="F4"/>
          <bpmn:sequenceFlow id="F3" sourceRef="Gateway_treatment" targetRef="Fork_treated">
            {TREATED}
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F4" sourceRef="Gateway_treatment" targetRef="Join"/>
          <bpmn:parallelGateway id="Fork_treated"/>
          <bpmn:sequenceFlow id="F5" sourceRef="Fork_treated" targetRef="Task_treat"/>
          <bpmn:sequenceFlow id="F6" sourceRef="Fork_treated" targetRef="Join"/>
          <bpmn:userTask id="Task_treat" name="Behandling">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="F7" sourceRef="Task_treat" targetRef="Throw_urgent"/>
          <bpmn:intermediateThrowEvent id="Throw_urgent">{definition}</bpmn:intermediateThrowEvent>
          <bpmn:sequenceFlow id="F8" sourceRef="Throw_urgent" targetRef="End_a"/>
          <bpmn:endEvent id="End_a"/>
          <bpmn:exclusiveGateway id="Join"/>
          <bpmn:sequenceFlow id="F9" sourceRef="Join" targetRef="Task_wait"/>
          <bpmn:userTask id="Task_wait" name="Vent på bolig">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="F10" sourceRef="Task_wait" targetRef="End_w"/>
          <bpmn:endEvent id="End_w"/>
          <bpmn:boundaryEvent id="Caught_urgent" attachedToRef="Task_wait"{cancel}>{definition}</bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="F11" sourceRef="Caught_urgent" targetRef="Task_urgent"/>
          <bpmn:userTask id="Task_urgent" name="Betal straks">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="F12" sourceRef="Task_urgent" targetRef="End_u"/>
          <bpmn:endEvent id="End_u"/>
        </bpmn:process>
    """)


@pytest.mark.parametrize("interrupting", [True, False], ids=["interrupting", "non-interrupting"])
@pytest.mark.parametrize("kind", ["message", "signal"])
def test_what_a_boundary_caught_from_a_hidden_branch_leads_to_is_hidden(kind, interrupting, users, agencies):
    deploy_definition(
        actor=None,
        bpmn_xml=boundary_model(kind=kind, interrupting=interrupting),
        forms=FORMS,
        check_permission=False,
    )
    treated, ordinary = both_cases(users, agencies, "Proc_boundary")
    treat = Task.objects.get(case=treated, element_id="Task_treat")
    services.complete_task(actor=users["helga"], task_id=treat.pk, data={"needs_treatment": True})
    assert Task.objects.filter(case=treated, element_id="Task_urgent", status="open").exists()
    assert not Task.objects.filter(case=ordinary, element_id="Task_urgent").exists()
    wait = Task.objects.get(case=treated, element_id="Task_wait")
    assert (wait.status == "open") is not interrupting
    # The housing coordinator (no consent to health data) is told the same of both cases:
    # nothing of NAV's urgent task, nor (interrupting) of its waiting task cancelled.
    assert told(users["bjorn"], treated) == told(users["bjorn"], ordinary)
    # NAV's own tasks are in NAV's inbox; the health service sees where its field led.
    assert "Task_urgent" in told(users["nils"], treated)["task list"]
    assert "Task_urgent" in told(users["helga"], treated)["open tasks"]


def test_what_follows_an_activity_an_error_on_a_hidden_branch_ends_is_hidden(users, agencies):
    """The error thrown on the treatment branch inside the sub-process ends it through its
    boundary event (NAV's treatment payment); the ordinary branch completes it, and NAV's rent
    payment follows. That rent task, made only when the error was not thrown, lay on no
    branch: the housing coordinator saw it in the ordinary case and not in the treated one."""
    from tests.api.test_signal_error_inference import error_model

    deploy_definition(actor=None, bpmn_xml=error_model(), forms=FORMS, check_permission=False)
    treated, ordinary = both_cases(users, agencies, "Proc_error")
    assert Task.objects.filter(case=treated, element_id="Task_nav").exists()
    assert Task.objects.filter(case=ordinary, element_id="Task_rent").exists()
    assert not Task.objects.filter(case=treated, element_id="Task_rent").exists()
    assert told(users["bjorn"], treated) == told(users["bjorn"], ordinary)
    assert "Task_rent" in told(users["nils"], ordinary)["task list"]
    assert "Task_rent" in told(users["helga"], ordinary)["open tasks"]


def shared_id_model() -> str:
    """Health assesses; the treatment branch calls the supported home's process, the ordinary
    one has the ordinary home; both meet before NAV's payment, ``Task_pay``."""
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment"],
        "Boligkontakt": ["Call_supported", "Task_ordinary_home", "Join"],
        "NAV": ["Task_pay", "End_pay"],
    }
    return definitions(f"""
        <bpmn:process id="Proc_shared" name="Delt id" isExecutable="true">
          {_lanes(lanes, "main")}
          {ASSESS}
          <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="F4"/>
          <bpmn:sequenceFlow id="F3" sourceRef="Gateway_treatment" targetRef="Call_supported">
            {TREATED}
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F4" sourceRef="Gateway_treatment" targetRef="Task_ordinary_home"/>
          <bpmn:callActivity id="Call_supported" calledElement="Proc_home"/>
          <bpmn:userTask id="Task_ordinary_home" name="Vanlig bolig">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="F5" sourceRef="Call_supported" targetRef="Join"/>
          <bpmn:sequenceFlow id="F6" sourceRef="Task_ordinary_home" targetRef="Join"/>
          <bpmn:exclusiveGateway id="Join"/>
          <bpmn:sequenceFlow id="F7" sourceRef="Join" targetRef="Task_pay"/>
          <bpmn:userTask id="Task_pay" name="Betal">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="F8" sourceRef="Task_pay" targetRef="End_pay"/>
          <bpmn:endEvent id="End_pay"/>
        </bpmn:process>
    """)


def shared_id_home() -> str:
    """The supported home's process: NAV pays first, in a task of the model's ``Task_pay`` id."""
    lanes = {"NAV": ["H_start", "Task_pay"], "Boligkontakt": ["Task_supported_home", "H_end"]}
    return definitions(f"""
        <bpmn:process id="Proc_home" name="Omsorgsbolig" isExecutable="true">
          {_lanes(lanes, "home")}
          <bpmn:startEvent id="H_start"/>
          <bpmn:sequenceFlow id="H1" sourceRef="H_start" targetRef="Task_pay"/>
          <bpmn:userTask id="Task_pay" name="Betal">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="H2" sourceRef="Task_pay" targetRef="Task_supported_home"/>
          <bpmn:userTask id="Task_supported_home" name="Omsorgsbolig med behandling">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="H3" sourceRef="Task_supported_home" targetRef="H_end"/>
          <bpmn:endEvent id="H_end"/>
        </bpmn:process>
    """)


def test_a_version_deployed_with_a_shared_task_id_is_read_anew_by_the_migration(users, agencies, monkeypatch):
    """Deployed before deploy refused the shared ``Task_pay`` (``called-duplicate-id``), the
    version kept the analysis that joined the two: the supported home after the called one
    was reached from the model's ``Task_pay`` on every branch, and NAV, who may not see
    health data, saw it. Migration 0052 reads every version anew: the two apart, the shared
    id hidden where either is."""
    import importlib

    from django.apps import apps

    from bpmn.engine import definition as compiling
    from bpmn.models import ProcessDefinition

    called = [{"filename": "home.bpmn", "bpmn_xml": shared_id_home()}]
    with pytest.raises(InvalidModel) as refused:  # refused now
        deploy_definition(actor=None, bpmn_xml=shared_id_model(), forms=FORMS, called=called, check_permission=False)
    assert {(issue.code, issue.element_id) for issue in refused.value.issues} == {("called-duplicate-id", "Task_pay")}
    monkeypatch.setattr(compiling, "_ids_shared_with_called", lambda *args: [])  # as before the refusal
    deploy_definition(actor=None, bpmn_xml=shared_id_model(), forms=FORMS, called=called, check_permission=False)
    case = assessed(users, agencies, "Proc_shared", PERSON, True)
    pay = Task.objects.get(case=case, element_id="Task_pay")
    services.complete_task(actor=users["nils"], task_id=pay.pk, data={"paid": True})
    assert Task.objects.filter(case=case, element_id="Task_supported_home", status="open").exists()
    # What the joined analysis stored: neither the supported home nor the payment on a branch.
    definition = ProcessDefinition.objects.get(key="Proc_shared")
    joined = {
        k: v for k, v in definition.metadata["path_categories"].items() if k not in ("Task_supported_home", "Task_pay")
    }
    ProcessDefinition.objects.filter(pk=definition.pk).update(
        metadata={**definition.metadata, "path_categories": joined}
    )
    Task.objects.filter(case=case).update(path_categories=0)
    from bpmn import registry

    registry._runtimes.clear()
    assert "Task_supported_home" in told(users["nils"], case)["task list"]

    importlib.import_module("workflows.migrations.0052_path_categories_read_anew").fill(apps, None)
    registry._runtimes.clear()
    definition.refresh_from_db()
    assert definition.metadata["path_categories"]["Task_supported_home"] == ["health"]
    assert definition.metadata["path_categories"]["Task_pay"] == ["health"]
    shown = told(users["nils"], case)
    assert "Task_supported_home" not in shown["task list"] + shown["open tasks"]
    assert "Task_supported_home" in told(users["helga"], case)["open tasks"]


def test_a_catch_after_the_branches_meet_goes_on_as_the_branch_it_waits_for(users, agencies):
    """No boundary: after the branches meet the case waits for "urgent" at a catch event, which
    only the treatment branch's health task throws. The catch was reached by its flow on every
    branch, so it and NAV's urgent task after it lay on no branch: the housing coordinator saw
    the catch waiting in one case and done, with NAV's task, in the other."""
    xml = boundary_model(kind="message", interrupting=True)
    xml = xml.replace('targetRef="Task_wait"/>', 'targetRef="Caught_urgent"/>')
    xml = xml.replace('<bpmn:boundaryEvent id="Caught_urgent" attachedToRef="Task_wait">', "")
    xml = xml.replace(
        '<bpmn:messageEventDefinition messageRef="Event_urgent"/></bpmn:boundaryEvent>',
        '<bpmn:intermediateCatchEvent id="Caught_urgent">'
        '<bpmn:messageEventDefinition messageRef="Event_urgent"/></bpmn:intermediateCatchEvent>',
    )
    xml = xml.replace('<bpmn:sequenceFlow id="F10" sourceRef="Task_wait" targetRef="End_w"/>', "")
    xml = xml.replace(f'<bpmn:userTask id="Task_wait" name="Vent på bolig">{PAY}</bpmn:userTask>', "")
    xml = xml.replace("<bpmn:flowNodeRef>Task_wait</bpmn:flowNodeRef>", "")
    xml = xml.replace('<bpmn:endEvent id="End_w"/>', "").replace("<bpmn:flowNodeRef>End_w</bpmn:flowNodeRef>", "")
    assert "Task_wait" not in xml and "boundaryEvent" not in xml
    deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)
    treated, ordinary = both_cases(users, agencies, "Proc_boundary")
    treat = Task.objects.get(case=treated, element_id="Task_treat")
    services.complete_task(actor=users["helga"], task_id=treat.pk, data={"needs_treatment": True})
    assert Task.objects.filter(case=treated, element_id="Task_urgent", status="open").exists()
    assert not Task.objects.filter(case=ordinary, element_id="Task_urgent").exists()
    assert told(users["bjorn"], treated) == told(users["bjorn"], ordinary)
    assert "Task_urgent" in told(users["nils"], treated)["task list"]
