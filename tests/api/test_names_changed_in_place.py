"""A gateway on a value a script changed through another name reads what was written into it.

``flags = {}`` (a literal: a name no form has, which the housing coordinator sees), then
``alias = flags`` and ``alias["treatment"] = needs_treatment`` (the health service's value)
in a second script: ``flags`` holds the health value, though no script set it by its own
name. NAV's split on ``flags["treatment"]`` showed the housing coordinator, who sees no
health data, NAV's task for a person in treatment (the lists, the case page, the diagram)."""

import importlib

import pytest
from django.apps import apps

from bpmn.models import ProcessDefinition
from permissions.rules import PATH_CATEGORY_BITS
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set
from workflows.models import Task

from .test_names_set_out_of_sight import HEALTH, NAV_LANE, assessed, hidden_from_coordinator, nav_split, script

pytestmark = pytest.mark.django_db


def aliased_model(process_id: str) -> str:
    lanes = {"Helse": ["StartEvent_1", "Task_assess", "Script_init", "Script_copy"], "NAV": NAV_LANE}
    return definitions(f"""
        <bpmn:process id="{process_id}" name="{process_id}" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Script_init"/>
          {script("Script_init", "flags = {}")[1]}
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Script_init" targetRef="Script_copy"/>
          {script("Script_copy", "alias = flags" + chr(10) + 'alias["treatment"] = needs_treatment')[1]}
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Script_copy" targetRef="Gateway_home"/>
          {nav_split('flags.get("treatment") == True')}
        </bpmn:process>
    """)


def test_a_split_on_a_value_changed_through_another_name_is_hidden_as_the_value_written(users, agencies):
    hidden_from_coordinator(users, assessed(users, agencies, "Proc_aliased", aliased_model("Proc_aliased")))


def test_the_migration_fills_in_what_versions_deployed_before_store(users, agencies):
    """Versions deployed before stored their tasks' path categories without it: ``0052``
    fills them in from the model."""
    assessed(users, agencies, "Proc_aliased", aliased_model("Proc_aliased"))
    definition = ProcessDefinition.objects.get(key="Proc_aliased")
    ProcessDefinition.objects.filter(pk=definition.pk).update(metadata={**definition.metadata, "path_categories": {}})
    Task.objects.filter(element_id="Task_pay_supported").update(path_categories=0)
    importlib.import_module("workflows.migrations.0052_path_categories_read_anew").fill(apps, None)
    definition.refresh_from_db()
    assert "health" in definition.metadata["path_categories"]["Task_pay_supported"]
    assert Task.objects.get(element_id="Task_pay_supported").path_categories & PATH_CATEGORY_BITS["health"]
