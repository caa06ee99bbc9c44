"""A name set where the reader may not look carries what chose that place.

A script on the branch a health value chose writes a housing field (``home_found = False``).
A later gateway that reads the housing field told the housing coordinator, who sees housing
data but no health data, which branch the diagnosis chose: its task list listed NAV's task
for a person in treatment. A value written on a branch is now as hidden as the branch: a
name set there carries what the branch's split reads (``gateway_paths.paths_and_sources``),
wherever it is read (gateways, timers, loops, message payloads, external tasks).

A called process (a call activity's process, in the model's file or a file deployed with it)
writes into the calling case's data when it ends (SpiffWorkflow copies its data back): what
its scripts compute from a health field is that field, and what it sets on the hidden
branch that called it is that branch. Its scripts were not read when the model was in
another file, so a gateway on ``flag`` (``flag = needs_treatment`` in the called process)
showed the coordinator NAV's treatment task; nor did a call activity on a hidden branch
count as setting what its process sets, nor hold the tasks of its process as a sub-process
holds its own."""

import pytest

from bpmn.services import deploy_definition
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Task

from .test_script_variable_inference import FORMS, HEALTH, PAY, told

pytestmark = pytest.mark.django_db

HOME_FORM = {"type": "object", "properties": {"home_found": {"type": "boolean", "x-category": "housing"}}}
ALL_FORMS = {**FORMS, "b.schema.json": HOME_FORM}


def nav_split(condition: str) -> str:
    """NAV pays one of two ways by ``condition``, after the health service's part."""
    return f"""
          <bpmn:exclusiveGateway id="Gateway_home" default="Flow_ordinary_pay"/>
          <bpmn:sequenceFlow id="Flow_supported_pay" sourceRef="Gateway_home" targetRef="Task_pay_supported">
            <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_ordinary_pay" sourceRef="Gateway_home" targetRef="Task_pay_ordinary"/>
          <bpmn:userTask id="Task_pay_supported" name="Betal omsorgsbolig">{PAY}</bpmn:userTask>
          <bpmn:userTask id="Task_pay_ordinary" name="Betal vanlig bolig">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_p1" sourceRef="Task_pay_supported" targetRef="Gateway_paid"/>
          <bpmn:sequenceFlow id="Flow_p2" sourceRef="Task_pay_ordinary" targetRef="Gateway_paid"/>
          <bpmn:exclusiveGateway id="Gateway_paid"/>
          <bpmn:sequenceFlow id="Flow_end" sourceRef="Gateway_paid" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>"""


NAV_LANE = ["Gateway_home", "Task_pay_supported", "Task_pay_ordinary", "Gateway_paid", "EndEvent_1"]


def branch_writes_model(process_id: str, supported: str, ordinary: str) -> str:
    """The assessment chooses a branch by the health field; each branch's element
    (``supported``/``ordinary``: id and XML) writes ``home_found``; NAV's split reads it."""
    (supported_id, supported_xml), (ordinary_id, ordinary_xml) = supported, ordinary
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment", supported_id, ordinary_id, "Gateway_join"],
        "NAV": NAV_LANE,
    }
    return definitions(f"""
        <bpmn:process id="{process_id}" name="{process_id}" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="Flow_ordinary"/>
          <bpmn:sequenceFlow id="Flow_supported" sourceRef="Gateway_treatment" targetRef="{supported_id}">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_ordinary" sourceRef="Gateway_treatment" targetRef="{ordinary_id}"/>
          {supported_xml}
          {ordinary_xml}
          <bpmn:sequenceFlow id="Flow_3" sourceRef="{supported_id}" targetRef="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="{ordinary_id}" targetRef="Gateway_join"/>
          <bpmn:exclusiveGateway id="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_5" sourceRef="Gateway_join" targetRef="Gateway_home"/>
          {nav_split("home_found == False")}
        </bpmn:process>
    """)


def script(element_id: str, text: str) -> tuple[str, str]:
    return (
        element_id,
        f'<bpmn:scriptTask id="{element_id}" name="{element_id}"><bpmn:script>{text}</bpmn:script></bpmn:scriptTask>',
    )


def call(element_id: str, process: str) -> tuple[str, str]:
    return element_id, f'<bpmn:callActivity id="{element_id}" name="{element_id}" calledElement="{process}"/>'


def called_process(process_id: str, text: str) -> str:
    """A called process of one script, in a file of its own (no lanes: it runs in its caller's)."""
    return definitions(f"""
        <bpmn:process id="{process_id}" name="{process_id}" isExecutable="true">
          <bpmn:startEvent id="{process_id}_start"/>
          <bpmn:sequenceFlow id="{process_id}_f1" sourceRef="{process_id}_start" targetRef="{process_id}_script"/>
          <bpmn:scriptTask id="{process_id}_script" name="Script"><bpmn:script>{text}</bpmn:script></bpmn:scriptTask>
          <bpmn:sequenceFlow id="{process_id}_f2" sourceRef="{process_id}_script" targetRef="{process_id}_end"/>
          <bpmn:endEvent id="{process_id}_end"/>
        </bpmn:process>
    """)


def assessed(users, agencies, process_id: str, bpmn_xml: str, called=None):
    deploy_definition(actor=None, bpmn_xml=bpmn_xml, forms=ALL_FORMS, check_permission=False, called=called)
    case = services.start_case(
        actor=users["helga"],
        process_key=process_id,
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": True})
    return case


def hidden_from_coordinator(users, case):
    """The treatment branch and what the value written on it chose are told to nobody who
    may not see health data: the housing coordinator's view is as before NAV's split."""
    seen = told(users["bjorn"], case)
    assert "Betal omsorgsbolig" not in seen["tasks"]
    assert "Betal omsorgsbolig" not in seen["open_tasks"]
    assert seen["open_task_count"] == 0
    assert "Task_pay_supported" not in seen["diagram"][1]
    # NAV works its own task, whichever branch (as for any gateway).
    assert "Betal omsorgsbolig" in told(users["nils"], case)["tasks"]


def test_a_visible_field_a_script_writes_on_a_hidden_branch_is_as_hidden_as_the_branch(users, agencies):
    model = branch_writes_model(
        "Proc_written", script("Script_supported", "home_found = False"), script("Script_ordinary", "home_found = True")
    )
    hidden_from_coordinator(users, assessed(users, agencies, "Proc_written", model))


def test_a_called_process_in_another_file_computes_from_a_health_field(users, agencies):
    """``flag = needs_treatment`` in a called process of its own file: a gateway on ``flag``
    reads the health field."""
    lanes = {"Helse": ["StartEvent_1", "Task_assess", "Call_flag"], "NAV": NAV_LANE}
    model = definitions(f"""
        <bpmn:process id="Proc_called" name="Proc_called" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Call_flag"/>
          {call("Call_flag", "Proc_flagging")[1]}
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Call_flag" targetRef="Gateway_home"/>
          {nav_split("flag == True")}
        </bpmn:process>
    """)
    called = [{"filename": "flagging.bpmn", "bpmn_xml": called_process("Proc_flagging", "flag = needs_treatment")}]
    case = assessed(users, agencies, "Proc_called", model, called)
    hidden_from_coordinator(users, case)  # and not lost: NAV's task is the one flag chose


def test_what_a_called_process_sets_on_a_hidden_branch_is_as_hidden_as_the_branch(users, agencies):
    model = branch_writes_model(
        "Proc_call_on_branch", call("Call_supported", "Proc_no_home"), script("Script_ordinary", "home_found = True")
    )
    called = [{"filename": "no_home.bpmn", "bpmn_xml": called_process("Proc_no_home", "home_found = False")}]
    hidden_from_coordinator(users, assessed(users, agencies, "Proc_call_on_branch", model, called))


def test_the_migration_fills_in_what_versions_deployed_before_store(users, agencies):
    """Versions deployed before stored their tasks' path categories without the called
    files' scripts: ``0048`` fills them in from the model and its called files."""
    import importlib

    from django.apps import apps

    from bpmn.models import ProcessDefinition
    from permissions.rules import PATH_CATEGORY_BITS

    test_a_called_process_in_another_file_computes_from_a_health_field(users, agencies)
    definition = ProcessDefinition.objects.get(key="Proc_called")
    before = {**definition.metadata, "path_categories": {}}
    ProcessDefinition.objects.filter(pk=definition.pk).update(metadata=before)
    Task.objects.filter(element_id="Task_pay_supported").update(path_categories=0)
    importlib.import_module("workflows.migrations.0050_path_categories_called_files_and_branches").fill(apps, None)
    definition.refresh_from_db()
    assert "health" in definition.metadata["path_categories"]["Task_pay_supported"]
    supported = Task.objects.get(element_id="Task_pay_supported")
    assert supported.path_categories & PATH_CATEGORY_BITS["health"]


def test_a_task_of_a_process_called_from_a_hidden_branch_is_as_hidden_as_the_branch(users, agencies):
    """NAV's task inside the process the treatment branch calls (in a file of its own) lies on
    that branch as a sub-process's task would: the coordinator is not told of it."""
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment", "Call_support", "Gateway_join", "EndEvent_1"],
        "NAV": ["Task_pay_ordinary"],
    }
    model = definitions(f"""
        <bpmn:process id="Proc_call_task" name="Proc_call_task" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="Flow_ordinary"/>
          <bpmn:sequenceFlow id="Flow_supported" sourceRef="Gateway_treatment" targetRef="Call_support">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_ordinary" sourceRef="Gateway_treatment" targetRef="Task_pay_ordinary"/>
          {call("Call_support", "Proc_support")[1]}
          <bpmn:userTask id="Task_pay_ordinary" name="Betal vanlig bolig">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Call_support" targetRef="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_pay_ordinary" targetRef="Gateway_join"/>
          <bpmn:exclusiveGateway id="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_5" sourceRef="Gateway_join" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)
    support = definitions(f"""
        <bpmn:process id="Proc_support" name="Proc_support" isExecutable="true">
          {lane_set({"NAV": ["Support_start", "Task_pay_supported", "Support_end"]})}
          <bpmn:startEvent id="Support_start"/>
          <bpmn:sequenceFlow id="Support_f1" sourceRef="Support_start" targetRef="Task_pay_supported"/>
          <bpmn:userTask id="Task_pay_supported" name="Betal omsorgsbolig">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="Support_f2" sourceRef="Task_pay_supported" targetRef="Support_end"/>
          <bpmn:endEvent id="Support_end"/>
        </bpmn:process>
    """)
    called = [{"filename": "support.bpmn", "bpmn_xml": support}]
    hidden_from_coordinator(users, assessed(users, agencies, "Proc_call_task", model, called))


def test_a_gateway_inside_a_called_file_hides_its_branches(users, agencies):
    """The split on the health field is inside the called process, in a file of its own: its
    branches tell the value as a split of the model's would."""
    lanes = {"Helse": ["StartEvent_1", "Task_assess", "Call_pay", "EndEvent_1"]}
    model = definitions(f"""
        <bpmn:process id="Proc_call_split" name="Proc_call_split" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Call_pay"/>
          {call("Call_pay", "Proc_pay")[1]}
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Call_pay" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)
    pay = definitions(f"""
        <bpmn:process id="Proc_pay" name="Proc_pay" isExecutable="true">
          {lane_set({"NAV": ["Pay_start", *NAV_LANE]})}
          <bpmn:startEvent id="Pay_start"/>
          <bpmn:sequenceFlow id="Pay_f1" sourceRef="Pay_start" targetRef="Gateway_home"/>
          {nav_split("needs_treatment == True")}
        </bpmn:process>
    """)
    called = [{"filename": "pay.bpmn", "bpmn_xml": pay}]
    hidden_from_coordinator(users, assessed(users, agencies, "Proc_call_split", model, called))
