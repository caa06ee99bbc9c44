"""Stored state survives the real database: the jsonb key-order trap and the spec stored apart."""

import json

import pytest
from django.db import connection
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from bpmn.engine import runtime as engine
from bpmn.engine.errors import UnsafeExpressionError
from bpmn.engine.expressions import expression_error_of
from bpmn.registry import runtime_for
from workflows.models import ProcessInstance

from .helpers import complete, open_tasks, start_prison_case


def _task_data(workflow):
    return {str(task.id): (task.state, dict(task.data)) for task in workflow.get_tasks()}


@pytest.mark.django_db
def test_round_trip_through_the_database_keeps_every_tasks_data(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False, "housing_situation": "uten_bolig"}, actor=users["kari"])
    nav = next(t for t in open_tasks(case) if t.agency.kind == "nav")
    complete(nav)

    stored = ProcessInstance.objects.get(case=case)
    bundle = runtime_for(stored.definition_id).bundle
    before = engine.load_workflow(bundle, stored.state)
    ProcessInstance.objects.filter(pk=stored.pk).update(state=engine.dump_workflow(before))
    after = engine.load_workflow(bundle, ProcessInstance.objects.get(pk=stored.pk).state)

    assert _task_data(after) == _task_data(before)
    ready = {t.element_id: t for t in engine.ready_user_tasks(after)}
    assert set(ready) == {"Task_health_follow_up_plan", "Task_housing_application"}
    ready_task = after.get_task_from_id(__import__("uuid").UUID(ready["Task_housing_application"].id))
    assert ready_task.data["has_home"] is False
    assert ready_task.data["housing_situation"] == "uten_bolig"


@pytest.mark.django_db
def test_state_is_stored_as_text_without_the_spec(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    stored = ProcessInstance.objects.get(case=case)
    with connection.cursor() as cursor:
        columns = {
            column.name: column
            for column in connection.introspection.get_table_description(cursor, ProcessInstance._meta.db_table)
        }
    # Text, not jsonb: PostgreSQL would reorder the keys of the data deltas.
    field_type = connection.introspection.get_field_type(columns["state"].type_code, columns["state"])
    assert field_type == "TextField"
    state = json.loads(stored.state)
    assert "spec" not in state and "subprocess_specs" not in state
    assert state["typename"] == "BpmnWorkflow"
    assert stored.serializer_version == engine.SERIALIZER_VERSION
    assert stored.spiff_version == engine.SPIFFWORKFLOW_VERSION


@pytest.mark.django_db
def test_loaded_workflow_still_runs_the_restricted_engine(shipped, users, agencies, tmp_path):
    case = start_prison_case(users, agencies)
    stored = ProcessInstance.objects.get(case=case)
    workflow = engine.load_workflow(runtime_for(stored.definition_id).bundle, stored.state)
    assert workflow.script_engine is engine.SCRIPT_ENGINE
    task = workflow.get_tasks()[0]
    marker = tmp_path / "pwned"
    with pytest.raises(WorkflowTaskException) as raised:
        workflow.script_engine.evaluate(task, f"__import__('os').system('touch {marker}')")
    assert isinstance(expression_error_of(raised.value), UnsafeExpressionError)
    assert not marker.exists()
