"""A form's ``format`` is checked as draft 2020-12 says (h-dates2). ``date-time`` text was not
checked at all (jsonschema checks it only with ``rfc3339-validator``, which was not installed):
"i morgen" went into a date-time field. ``time`` was checked as draft 3's ``HH:MM:SS``
(jsonschema's plain ``FormatChecker()`` mixes the drafts), so RFC 3339's ``09:00:00+01:00`` was
refused, and ``email`` only for an ``@``. Now each is 400 ``schema.format`` naming the field,
said in bokmål, never with the value. Only new input is judged: a value stored before the
check stays readable and correctable, and a correction of another field does not check it.

The task page's date inputs carry the field's range as ``min``/``max`` (the phone's picker
offers no other), and a date-time field is a ``datetime-local`` input whose local time is
sent with Oslo's offset."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from bpmn.services import deploy_definition
from permissions.models import Membership, Role
from retention.services import replace_in_state
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import web
from tests.workflows.helpers import open_tasks
from web import schema_forms
from workflows.models import Case, ProcessInstance, Task, TaskStatus

pytestmark = pytest.mark.django_db

KEY = "Proc_formats"
PERSON = {"name": "Format Formatsen", "national_id": "29822099635"}
START_FORM = {
    "type": "object",
    "properties": {
        "when": {"type": "string", "format": "date-time", "x-category": "coordination"},
        "at": {"type": "string", "format": "time", "x-category": "coordination"},
        "email": {"type": "string", "format": "email", "x-category": "coordination"},
        "day": {"type": "string", "format": "date", "x-category": "coordination"},
        "note": {"type": "string", "maxLength": 200, "x-category": "coordination"},
    },
}
VISIT_FORM = {
    "type": "object",
    "properties": {
        "visit_day": {
            "type": "string",
            "format": "date",
            "formatMinimum": "2020-01-01",
            "formatMaximum": "2030-12-31",
            "x-category": "coordination",
        },
        "follow_up_day": {"type": "string", "format": "date", "x-category": "coordination"},
        "meeting_at": {"type": "string", "format": "date-time", "x-category": "coordination"},
    },
}


def _model() -> str:
    nodes = ["StartEvent_1", "Task_visit", "EndEvent_1"]
    visit = properties(formJsonSchemaFilename="visit.schema.json")
    return definitions(f"""
        <bpmn:process id="{KEY}" name="Formats" isExecutable="true">
          {lane_set({"NAV": nodes})}
          <bpmn:startEvent id="StartEvent_1">{properties(formJsonSchemaFilename="start.schema.json")}</bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_visit"/>
          <bpmn:userTask id="Task_visit" name="Visit">{visit}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_visit" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """)


@pytest.fixture
def deployed(db):
    forms = {"start.schema.json": START_FORM, "visit.schema.json": VISIT_FORM}
    deploy_definition(actor=None, bpmn_xml=_model(), forms=forms, check_permission=False)


@pytest.fixture
def worker(agencies):
    user = get_user_model().objects.create_user("nav-format")
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.MEMBER)
    return user


def client_of(user, language="en"):
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
    return client


def _start(agencies, user, data, language="en"):
    body = {"process_key": KEY, "person": PERSON, "participants": {"nav": agencies["nav"].pk}, "data": data}
    return client_of(user, language).post(reverse("api-cases"), body, format="json")


REFUSED = [
    ("when", "i morgen"),
    ("when", "2026-12-01 09:00"),
    ("when", "2026-12-01T10:15:00"),  # no offset: which 10:15?
    ("when", "2026-02-30T09:00:00+01:00"),
    ("when", "2026-12-01T09:00:00Z\n"),  # RFC 3339's check lets the newline through; no date reads it
    ("at", "10:15"),
    ("at", "10:15:00"),  # draft 3's time, which passed
    ("at", "kl. ni"),
    ("email", "ola"),
    ("email", "ola@"),
    ("email", "@nav.no"),
    ("email", "ola@nav"),
    ("email", "ola nordmann@nav.no"),
    ("day", "01.12.2026"),
    ("day", "2026-02-30"),
]
SAID = {
    "when": "forventet en dato og et klokkeslett med tidssone, som 2026-12-01T09:00:00+01:00",
    "at": "forventet et klokkeslett med tidssone, som 09:00:00+01:00",
    "email": "forventet en e-postadresse",
    "day": "forventet en dato (ÅÅÅÅ-MM-DD)",
}


@pytest.mark.parametrize(("field", "value"), REFUSED)
def test_a_text_the_field_s_format_does_not_take_is_400_naming_the_field(deployed, agencies, worker, field, value):
    answer = _start(agencies, worker, {field: value}, language="nb")
    assert answer.status_code == 400, answer.json()
    (error,) = answer.json()["errors"]
    assert (error["field"], error["code"]) == (f"data.{field}", "schema.format")
    assert error["message"] == SAID[field]
    assert value.strip() not in answer.content.decode()
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("when", "2026-12-01T09:00:00+01:00"),
        ("when", "2026-12-01T08:00:00.5Z"),
        ("at", "09:00:00+01:00"),
        ("at", "08:00:00Z"),
        ("email", "kari.nordmann@bydel.oslo.kommune.no"),
        ("email", "ola+sak@nav.no"),
        ("day", "2026-12-01"),
    ],
)
def test_a_text_of_the_format_is_taken(deployed, agencies, worker, field, value):
    answer = _start(agencies, worker, {field: value})
    assert answer.status_code == 201, answer.json()
    assert Case.objects.get().data[field] == value


def _stored_before_the_check(case, field, value):
    """``value`` in the case as a case started before the check holds it: its data and its
    workflow's state."""
    old = case.data[field]
    Case.objects.filter(pk=case.pk).update(data={**case.data, field: value})
    for instance in ProcessInstance.objects.filter(case=case):
        instance.state = replace_in_state(instance.state, field, value, old=old)
        instance.save(update_fields=["state"])


def test_a_value_stored_before_the_check_stays_readable_and_correctable(deployed, agencies, worker):
    data = {"when": "2026-12-01T09:00:00+01:00", "at": "09:00:00+01:00", "note": "Ringer før besøk"}
    answer = _start(agencies, worker, data)
    assert answer.status_code == 201, answer.json()
    case = Case.objects.get()
    _stored_before_the_check(case, "when", "i morgen")
    _stored_before_the_check(case, "at", "09:00:00")
    client = client_of(worker)
    url = reverse("api-case-corrections", args=[case.pk])
    # a correction of another field does not judge the stored ones
    other = {"field": "note", "value": "Ringer etter besøk", "reason": "Feil notat"}
    assert client.post(url, other, format="json").status_code == 201
    # the case reads as before, on the API and on the pages, the correction form of the old value too
    assert client.get(reverse("api-case", args=[case.pk])).status_code == 200
    assert web(worker).get(reverse("case", args=[case.pk])).status_code == 200
    coordinator = get_user_model().objects.create_user("nav-format-koordinator")
    Membership.objects.create(user=coordinator, agency=agencies["nav"], role=Role.COORDINATOR)
    page = web(coordinator).get(reverse("case-retention", args=[case.pk]), {"field": "when"}).content.decode()
    assert 'type="datetime-local"' in _input(page, "value")
    # a step goes on over it: the visit task is completed
    (task,) = open_tasks(case)
    done = client.post(reverse("api-task-complete", args=[task.pk]), {"data": {}}, format="json")
    assert done.status_code == 200, done.json()
    # the old value itself is corrected to one of the format, not to another one of none
    fixed = {"field": "when", "value": "kl. 9", "reason": "Feil tidspunkt"}
    refused = client.post(url, fixed, format="json")
    assert refused.status_code == 400
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("value", "schema.format")]
    assert "kl. 9" not in refused.content.decode()
    assert client.post(url, {**fixed, "value": "2026-12-02T09:00:00+01:00"}, format="json").status_code == 201
    assert Case.objects.get(pk=case.pk).data["when"] == "2026-12-02T09:00:00+01:00"


# --- the task page ---------------------------------------------------------------------------


def _input(page: str, name: str) -> str:
    (tag,) = re.findall(rf'<input name="{name}"[^>]*>', page)
    return " ".join(tag.split())


def test_the_task_page_s_date_inputs_carry_the_field_s_range(deployed, agencies, worker):
    assert _start(agencies, worker, {}).status_code == 201
    (task,) = open_tasks(Case.objects.get())
    page = web(worker).get(reverse("task", args=[task.pk]), HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    visit, follow_up, meeting = (_input(page, name) for name in ("visit_day", "follow_up_day", "meeting_at"))
    assert 'type="date"' in visit and 'min="2020-01-01" max="2030-12-31"' in visit
    assert 'type="date"' in follow_up and 'min="1900-01-01" max="2199-12-31"' in follow_up
    assert 'type="datetime-local"' in meeting and 'min="1900-01-01T00:00" max="2199-12-31T23:59"' in meeting


def test_a_date_time_from_the_task_page_is_sent_with_oslo_s_offset(deployed, agencies, worker):
    assert _start(agencies, worker, {}).status_code == 201
    case = Case.objects.get()
    (task,) = open_tasks(case)
    client, url = web(worker), reverse("task", args=[task.pk])
    refused = client.post(url, {"meeting_at": "i morgen"}, HTTP_ACCEPT_LANGUAGE="nb")
    assert refused.status_code == 400
    assert "forventet en dato og et klokkeslett med tidssone" in refused.content.decode()
    out_of_range = client.post(url, {"meeting_at": "2200-01-01T09:00"}, HTTP_ACCEPT_LANGUAGE="nb")
    assert out_of_range.status_code == 400
    assert 'value="2200-01-01T09:00"' in out_of_range.content.decode()  # shown again as typed
    answer = client.post(url, {"meeting_at": "2026-12-07T10:30", "visit_day": "2026-06-01"})
    assert answer.status_code == 302, answer.content.decode()[:800]
    assert Case.objects.get(pk=case.pk).data["meeting_at"] == "2026-12-07T10:30:00+01:00"
    assert Task.objects.get(pk=task.pk).status == TaskStatus.COMPLETED


@pytest.mark.parametrize(
    ("typed", "sent", "shown"),
    [
        ("2026-12-07T10:30", "2026-12-07T10:30:00+01:00", "2026-12-07T10:30"),  # winter time
        ("2027-06-07T10:30", "2027-06-07T10:30:00+02:00", "2027-06-07T10:30"),  # summer time
        ("2027-06-07T10:30:15", "2027-06-07T10:30:15+02:00", "2027-06-07T10:30:15"),
        ("2027-06-07T10:30:00Z", "2027-06-07T10:30:00+00:00", "2027-06-07T12:30"),  # its offset kept
        ("2027-06-07 10:30", "2027-06-07T10:30:00+02:00", "2027-06-07T10:30"),  # typed without the picker
        ("i morgen", "i morgen", "i morgen"),  # for the form to refuse
        ("2027-06-07", "2027-06-07", "2027-06-07"),  # no time: not taken as midnight
    ],
)
def test_the_task_page_sends_a_date_time_with_oslo_s_offset_of_that_moment(typed, sent, shown):
    schema = {"type": "object", "properties": {"meeting_at": {"type": "string", "format": "date-time"}}}
    data, errors, raw = schema_forms.data_from_post(schema, QueryDict(mutable=True) | {"meeting_at": typed})
    assert (data, errors, raw) == ({"meeting_at": sent}, [], {"meeting_at": typed})
    (field,) = schema_forms.fields_for(schema, {"meeting_at": sent})  # a value shown in Oslo's time
    assert (field.widget, field.value) == ("datetime", shown)
