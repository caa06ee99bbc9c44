"""Forms, data and scripts that cannot attack the server, through the services (issue 11,
findings 4, 5 and 6 and the NUL, nesting and size findings)."""

import json

import pytest

from bpmn.models import ProcessDefinition
from bpmn.registry import clear_caches
from bpmn.services import InvalidModel
from core.errors import InvalidInput
from tests.http_recorder import recording_server
from tests.timing import cpu_time
from workflows import services, steps
from workflows.models import Case, Event, EventKind, Incident, InstanceStatus, ProcessInstance, Task, TaskStatus

from . import form_safety
from .helpers import open_tasks

pytestmark = pytest.mark.django_db


def _fields(raised) -> set[str]:
    return {error["field"] for error in raised.value.errors}


def _fill_task(case) -> Task:
    (task,) = open_tasks(case)
    assert task.element_id == "Task_fill"
    return task


# --- forms: remote and recursive $ref -----------------------------------------------------


@pytest.mark.parametrize(
    ("field_schema", "code"),
    [
        ({"$ref": "http://127.0.0.1:9/schema.json"}, "remote-ref"),
        ({"$ref": "#/properties/note"}, "recursive-ref"),
    ],
)
def test_deploy_refuses_a_form_with_a_remote_or_recursive_ref(db, field_schema, code):
    form = {"type": "object", "properties": {"note": field_schema}}
    with pytest.raises(InvalidModel) as raised:
        form_safety.deploy(form)
    (issue,) = raised.value.issues
    assert (issue.code, issue.element_id) == (code, "Task_fill")
    assert "'fill.schema.json'" in issue.message and "in the field 'note'" in issue.message
    assert not ProcessDefinition.objects.exists()


def _store_form_past_the_checks(definition, form):
    """What a deploy from before these checks could have stored."""
    ProcessDefinition.objects.filter(pk=definition.pk).update(forms_json=json.dumps({"fill.schema.json": form}))
    clear_caches()


def test_a_stored_remote_ref_is_never_fetched_and_refuses_the_submit(users, agencies):
    definition = form_safety.deploy()
    case = form_safety.start(users, agencies)
    task = _fill_task(case)
    with recording_server() as (base, hits):
        _store_form_past_the_checks(definition, {"type": "object", "properties": {"note": {"$ref": f"{base}/n.json"}}})
        with pytest.raises(InvalidInput) as raised:
            services.complete_task(actor=users["nils"], task_id=task.pk, data={"note": "x"})
        with pytest.raises(InvalidInput):
            services.correlate_message(
                actor=users["nils"], name="note_changed", case_reference=case.reference, payload={"note": "x"}
            )
    assert hits == []
    assert [(error["field"], error["code"]) for error in raised.value.errors] == [("data", "form.unusable")]
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_a_stored_self_reference_refuses_the_submit_instead_of_recursing(users, agencies):
    definition = form_safety.deploy()
    case = form_safety.start(users, agencies)
    _store_form_past_the_checks(definition, {"type": "object", "properties": {"note": {"$ref": "#/properties/note"}}})
    with pytest.raises(InvalidInput):
        services.complete_task(actor=users["nils"], task_id=_fill_task(case).pk, data={"note": "x"})
    assert _fill_task(case).status == TaskStatus.OPEN


# --- ReDoS ---------------------------------------------------------------------------------


def test_a_catastrophic_pattern_is_answered_at_once_by_the_completion_service(users, agencies):
    form_safety.deploy()
    case = form_safety.start(users, agencies)
    task = _fill_task(case)

    with cpu_time() as used, pytest.raises(InvalidInput) as raised:
        services.complete_task(actor=users["nils"], task_id=task.pk, data={"code": "a" * 40 + "!"})
    assert used.seconds < 0.1
    assert _fields(raised) == {"code"}

    with cpu_time() as used, pytest.raises(InvalidInput) as raised:
        services.correlate_message(
            actor=users["nils"], name="note_changed", case_reference=case.reference, payload={"code": "a" * 40 + "!"}
        )
    assert used.seconds < 0.1
    assert _fields(raised) == {"payload.code"}

    services.complete_task(actor=users["nils"], task_id=task.pk, data={"code": "aaaa"})
    assert [t.element_id for t in open_tasks(case)] == ["Task_next"]


# --- submitted data: NUL, surrogates, depth, size ------------------------------------------


def _nested(depth):
    value = "x"
    for _ in range(depth):
        value = {"n": value}
    return value


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"note": "a\x00b"}, "note", "NUL"),
        ({"no\x00te": "x"}, "no\\u0000te", "NUL"),
        ({"note": "\ud800"}, "note", "surrogate"),
        ({"note": _nested(25)}, "note" + ".n" * 19, "is nested more than 20 levels deep"),
        ({"note": "x" * 100_001}, "note", "at most 100000 characters"),
        ({"note": ["y" * 90_000] * 12}, "data", "is larger than 1048576 bytes as JSON"),
    ],
)
def test_task_data_breaking_a_limit_is_refused_naming_the_field(users, agencies, data, field, message):
    form_safety.deploy()
    case = form_safety.start(users, agencies)
    task = _fill_task(case)
    with pytest.raises(InvalidInput) as raised:
        services.complete_task(actor=users["nils"], task_id=task.pk, data=data)
    (error,) = raised.value.errors
    assert error["field"] == field and message in error["message"]
    assert "\x00" not in json.dumps(raised.value.errors)
    task.refresh_from_db()
    case.refresh_from_db()
    assert task.status == TaskStatus.OPEN and case.data == {}


def test_the_limits_are_settings(users, agencies, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "SUBMITTED_TEXT_MAX_CHARS": 5}
    form_safety.deploy()
    case = form_safety.start(users, agencies)
    with pytest.raises(InvalidInput) as raised:
        services.complete_task(actor=users["nils"], task_id=_fill_task(case).pk, data={"note": "123456"})
    assert _fields(raised) == {"note"}
    services.complete_task(actor=users["nils"], task_id=_fill_task(case).pk, data={"note": "12345"})


def test_start_data_and_person_with_a_nul_are_refused(users, agencies):
    form_safety.deploy()
    with pytest.raises(InvalidInput) as raised:
        form_safety.start(users, agencies, data={"note": "a\x00"})
    assert _fields(raised) == {"data.note"}
    with pytest.raises(InvalidInput) as raised:
        services.start_case(
            actor=users["nils"],
            process_key=form_safety.KEY,
            participants={"nav": agencies["nav"].pk},
            person={"name": "Ola\x00", "national_id": "17912099997"},
            correlation_key="k\x00",
        )
    assert _fields(raised) == {"person.name", "correlation_key"}
    with pytest.raises(InvalidInput) as raised:
        services.start_case(actor=users["nils"], process_key="x\x00", person={}, participants={})
    assert _fields(raised) == {"process_key"}
    assert not Case.objects.exists()


def test_a_message_with_a_nul_is_refused(users, agencies):
    form_safety.deploy()
    case = form_safety.start(users, agencies)
    with pytest.raises(InvalidInput) as raised:
        services.correlate_message(
            actor=users["nils"],
            name="note_changed",
            case_reference=case.reference,
            payload={"note": "a\x00", "code": _nested(30)},
            message_id="m\x00",
        )
    assert _fields(raised) == {"message_id", "payload.code" + ".n" * 19, "payload.note"}
    with pytest.raises(InvalidInput) as raised:
        services.correlate_message(actor=users["nils"], name="note_changed", case_reference="BK\x00")
    assert _fields(raised) == {"case_reference"}
    assert not Event.objects.filter(kind=EventKind.MESSAGE_RECEIVED).exists()


# --- the sandbox and the state size cap -----------------------------------------------------


def test_shared_references_in_a_script_are_an_incident_not_a_huge_state(users, agencies):
    form_safety.deploy(script="a = [0] * 1000\nb = [a] * 1000\nc = [b] * 10")
    case = form_safety.start(users, agencies)
    services.complete_task(actor=users["nils"], task_id=_fill_task(case).pk, data={"note": "kept"})

    incident = Incident.objects.get(case=case)
    assert (incident.kind, incident.element_id) == ("expression-error", "Script_make")
    assert "when saved" in incident.error and "more than 1,000,000 items" in incident.error
    instance = ProcessInstance.objects.get(case=case)
    assert instance.status == InstanceStatus.INCIDENT
    assert len(instance.state) < 50_000


def test_a_state_over_the_cap_is_an_incident_and_is_not_written(users, agencies, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "ENGINE_STATE_MAX_BYTES": 100_000}
    form_safety.deploy(script="big = 'x' * 300000")
    case = form_safety.start(users, agencies)
    task = _fill_task(case)
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"note": "kept"})

    instance = ProcessInstance.objects.get(case=case)
    incident = Incident.objects.get(case=case)
    assert instance.status == InstanceStatus.INCIDENT
    assert (incident.kind, incident.element_id) == ("state-too-large", "Script_make")
    assert "100,000 allowed" in incident.error and "ENGINE_STATE_MAX_BYTES" in incident.error
    assert len(instance.state) < 100_000 and "xxxxxxxxxx" not in instance.state
    # What the person did is kept: the task is done, its data saved; the script waits for a retry.
    task.refresh_from_db()
    case.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED and case.data == {"note": "kept"}
    assert open_tasks(case) == []
    _, workflow = steps.load(instance)
    assert any(t.data.get("note") == "kept" for t in workflow.get_tasks())

    # A retry runs the script again: a new incident, the state still not written.
    services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    (again,) = Incident.objects.filter(case=case, resolved_at=None)
    assert again.pk != incident.pk and again.kind == "state-too-large"
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.INCIDENT and len(instance.state) < 100_000

    # Once the operator allows more, the retry runs the script and the case goes on.
    settings.BROBYGGER = {**settings.BROBYGGER, "ENGINE_STATE_MAX_BYTES": 4 * 1024 * 1024}
    retried = Incident.objects.get(case=case, resolved_at=None)
    services.retry_incident(actor=users["ada"], incident_id=retried.pk)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    assert [t.element_id for t in open_tasks(case)] == ["Task_next"]


def test_a_state_over_the_cap_at_case_start_leaves_a_case_with_an_incident(users, agencies, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "ENGINE_STATE_MAX_BYTES": 1_000}
    form_safety.deploy()
    case = form_safety.start(users, agencies, data={"note": "start"})
    instance = ProcessInstance.objects.get(case=case)
    assert instance.status == InstanceStatus.INCIDENT
    assert Incident.objects.get(case=case).kind == "state-too-large"
    assert json.loads(instance.state)["typename"] == "BpmnWorkflow"
