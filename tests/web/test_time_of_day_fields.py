"""A form's ``"format": "time"`` field is a time input on the task page (h-inputs). It was a
text input that took only RFC 3339's ``09:00:00+01:00`` (jsonschema checks the format so, and
the API goes on taking nothing else): a caseworker on a phone had to type Oslo's offset, and
knew which one only by knowing whether it was summer time. Now the page sends the browser's
``09:00`` with the offset Oslo has on the task's day (the day in Oslo, not the server's UTC
date: summer time begins at 02:00 on the last Sunday of March), shows a stored time in the
input and on the case's pages as Oslo's wall-clock time ("09:00"), and says in bokmål, at the
field, what it could not read."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation

from bpmn import form_values
from permissions.models import Membership, Role
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import web
from tests.workflows.helpers import open_tasks
from web import schema_forms
from web.pages import field_errors
from workflows import services
from workflows.models import Case, Task, TaskStatus

KEY = "Proc_time_of_day"
PERSON = {"name": "Klokke Klokkesen", "national_id": "29822099635"}
VISIT_FORM = {
    "type": "object",
    "properties": {
        "visit_at": {
            "type": "string",
            "format": "time",
            "title": "Tidspunkt for besøket",
            "x-category": "coordination",
        },
        "visit_day": {"type": "string", "format": "date", "title": "Besøksdag", "x-category": "coordination"},
        "note": {"type": "string", "maxLength": 200, "x-category": "coordination"},
    },
}
SCHEMA = {"type": "object", "properties": {"visit_at": {"type": "string", "format": "time"}}}
WINTER, SUMMER = datetime.date(2027, 1, 15), datetime.date(2027, 6, 15)
OSLO_UTC_DAY_BEFORE = datetime.datetime(2027, 3, 27, 23, 30, tzinfo=datetime.UTC)  # 00:30 on 28 March in Oslo


def _model() -> str:
    nodes = ["StartEvent_1", "Task_visit", "Task_after", "EndEvent_1"]
    visit = properties(formJsonSchemaFilename="visit.schema.json")
    return definitions(f"""
        <bpmn:process id="{KEY}" name="Time of day" isExecutable="true">
          {lane_set({"NAV": nodes})}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_visit"/>
          <bpmn:userTask id="Task_visit" name="Visit">{visit}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_visit" targetRef="Task_after"/>
          <bpmn:userTask id="Task_after" name="After the visit"/>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_after" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """)


@pytest.fixture
def visit(db, agencies):
    """A NAV worker of their own and the case's open visit task."""
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=_model(), forms={"visit.schema.json": VISIT_FORM}, check_permission=False)
    worker = get_user_model().objects.create_user("nav-klokkeslett")
    Membership.objects.create(user=worker, agency=agencies["nav"], role=Role.MEMBER)
    case = services.start_case(actor=worker, process_key=KEY, person=PERSON, participants={"nav": agencies["nav"].pk})
    (task,) = open_tasks(case)
    return worker, task


def _input(page: str, name: str) -> str:
    (tag,) = re.findall(rf'<input name="{name}"[^>]*>', page)
    return " ".join(tag.split())


def _post(data: dict, day: datetime.date):
    return schema_forms.data_from_post(SCHEMA, QueryDict(mutable=True) | data, day)


# --- the conversion ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "day", "sent"),
    [
        ("09:00", WINTER, "09:00:00+01:00"),
        ("09:00", SUMMER, "09:00:00+02:00"),
        ("09:00", datetime.date(2027, 3, 27), "09:00:00+01:00"),  # the Saturday before summer time
        ("09:00", datetime.date(2027, 3, 28), "09:00:00+02:00"),  # summer time from 02:00 that Sunday
        ("01:30", datetime.date(2027, 3, 28), "01:30:00+01:00"),  # before the change that night
        ("09:00", datetime.date(2026, 10, 24), "09:00:00+02:00"),
        ("09:00", datetime.date(2026, 10, 25), "09:00:00+01:00"),  # winter time from 03:00 that Sunday
        ("14:05:30", WINTER, "14:05:30+01:00"),  # with seconds (a picker that offers them)
        ("00:00", SUMMER, "00:00:00+02:00"),
        ("08:00:00Z", SUMMER, "08:00:00Z"),  # RFC 3339 already: its own offset kept
    ],
)
def test_the_browser_s_time_is_sent_with_oslo_s_offset_on_the_day(typed, day, sent):
    assert _post({"visit_at": typed}, day) == ({"visit_at": sent}, [], {"visit_at": typed})


@pytest.mark.parametrize("typed", ["kl. ni", "9", "24:00", "09:60", "9:00", "09.00", "09:00:00+25:00"])
def test_a_text_that_is_no_time_is_refused_at_the_field_in_bokmal(typed):
    data, errors, raw = _post({"visit_at": typed}, WINTER)
    with translation.override("nb"):
        errors = field_errors(errors)  # as the page says them
    assert data == {}
    assert [(e["field"], e["code"], e["message"]) for e in errors] == [
        ("visit_at", "input.time", "skriv et klokkeslett, som 09:00")
    ]
    assert raw == {"visit_at": typed}  # shown again as typed


@pytest.mark.parametrize(
    ("stored", "day", "shown"),
    [
        ("09:00:00+01:00", WINTER, "09:00"),
        ("09:00:00+01:00", SUMMER, "09:00"),  # written in winter: nine is still nine
        ("09:00:00+02:00", WINTER, "09:00"),
        ("08:00:00Z", WINTER, "09:00"),  # from an API client: Oslo's time on the day
        ("08:00:00z", SUMMER, "10:00"),
        ("07:15:00-05:00", WINTER, "13:15"),
        ("09:00:15+01:00", WINTER, "09:00:15"),
        ("23:30:00Z", WINTER, "00:30"),
    ],
)
def test_a_stored_time_is_shown_in_the_input_as_oslo_s_wall_clock_time(stored, day, shown):
    (field,) = schema_forms.fields_for(SCHEMA, {"visit_at": stored}, day=day)
    assert (field.widget, field.value) == ("time", shown)


@pytest.mark.parametrize(
    ("stored", "day"),
    [("09:00:00+01:00", WINTER), ("09:00:00+02:00", SUMMER), ("14:05:30+01:00", WINTER), ("09:00:00+01:00", SUMMER)],
)
def test_a_stored_time_sent_back_unchanged_keeps_its_wall_clock_time(stored, day):
    (field,) = schema_forms.fields_for(SCHEMA, {"visit_at": stored}, day=day)
    data, errors, _raw = _post({"visit_at": field.value}, day)
    assert errors == []
    assert form_values.display_value(data["visit_at"], day) == form_values.display_value(stored, day)
    if stored.endswith("+01:00" if day == WINTER else "+02:00"):
        assert data == {"visit_at": stored}  # the very value, on a day of its offset


def test_a_time_is_shown_in_words_as_oslo_s_time():
    with translation.override("nb"):
        assert form_values.display_value("09:00:00+01:00") == "09:00"
        assert form_values.display_value("08:00:00Z", WINTER) == "09:00"
        assert form_values.display_value("08:00:00Z", SUMMER) == "10:00"
        assert form_values.display_value(["09:00:00+01:00", "13:30:00+01:00"]) == "09:00, 13:30"
        assert form_values.display_value("kl. ni") == "kl. ni"  # no time: as it is


# --- the pages -----------------------------------------------------------------------------------


def test_the_task_page_draws_a_time_input(visit):
    worker, task = visit
    page = web(worker).get(reverse("task", args=[task.pk]), HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    tag = _input(page, "visit_at")
    assert 'type="time"' in tag and 'id="field-visit_at"' in tag
    assert '<label for="field-visit_at">Tidspunkt for besøket</label>' in page


def test_the_task_page_sends_the_time_with_the_offset_of_the_task_s_day_in_oslo(visit, monkeypatch):
    worker, task = visit
    # 23:30 UTC on 27 March is 00:30 on 28 March in Oslo, the first day of summer time: the
    # offset is that day's, +02:00 (the UTC date's, +01:00, would put the visit at 10:00)
    monkeypatch.setattr(timezone, "now", lambda: OSLO_UTC_DAY_BEFORE)
    answer = web(worker).post(reverse("task", args=[task.pk]), {"visit_at": "09:00"})
    assert answer.status_code == 302, answer.content.decode()[:800]
    case = Case.objects.get(pk=task.case_id)
    assert case.data["visit_at"] == "09:00:00+02:00"
    assert Task.objects.get(pk=task.pk).status == TaskStatus.COMPLETED


def test_a_time_the_page_cannot_read_is_a_field_error_in_bokmal(visit):
    worker, task = visit
    answer = web(worker).post(reverse("task", args=[task.pk]), {"visit_at": "kl. ni"}, HTTP_ACCEPT_LANGUAGE="nb")
    assert answer.status_code == 400
    page = answer.content.decode()
    assert re.search(
        r'id="field-visit_at-wrap">\s*<label[^>]*>Tidspunkt for besøket</label>\s*'
        r'<p class="field-error" id="field-visit_at-error">skriv et klokkeslett, som 09:00',
        page,
    ), page
    tag = _input(page, "visit_at")
    assert 'value="kl. ni"' in tag and 'aria-invalid="true"' in tag
    assert Task.objects.get(pk=task.pk).status != TaskStatus.COMPLETED
    assert "visit_at" not in Case.objects.get(pk=task.case_id).data


def test_the_case_and_task_pages_show_a_stored_time_as_oslo_s_time(visit):
    worker, task = visit
    data = {"visit_at": "08:00:00Z", "visit_day": "2027-06-15"}  # an API client's
    services.complete_task(actor=worker, task_id=task.pk, data=data)
    case = Case.objects.get(pk=task.case_id)
    (after,) = open_tasks(case)
    summer = datetime.datetime(2027, 6, 15, 10, tzinfo=datetime.UTC)
    for url in (reverse("case", args=[case.pk]), reverse("task", args=[task.pk]), reverse("task", args=[after.pk])):
        Task.objects.filter(pk=task.pk).update(completed_at=summer)  # the task's day: summer time
        page = web(worker).get(url, HTTP_ACCEPT_LANGUAGE="nb").content.decode()
        assert "08:00:00Z" not in page, url
        assert re.search(r"<dt>Tidspunkt for besøket</dt><dd>(09|10):00</dd>", page), url
        assert "<dt>Besøksdag</dt><dd>15. juni 2027</dd>" in page, url  # a date as ever
    # the completed task reads its time on its own day (summer: 10:00)
    page = web(worker).get(reverse("task", args=[task.pk]), HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "<dt>Tidspunkt for besøket</dt><dd>10:00</dd>" in page
    # a time written through the page reads as written, whatever the day
    Case.objects.filter(pk=case.pk).update(data={**case.data, "visit_at": "09:00:00+01:00"})
    page = web(worker).get(reverse("case", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "<dt>Tidspunkt for besøket</dt><dd>09:00</dd>" in page


def test_a_date_time_is_shown_in_words_in_oslo_s_time_not_as_its_rfc3339_text():
    with translation.override("nb"):
        assert form_values.display_value("2027-01-10T08:00:00Z") == "10. januar 2027 09:00"
        assert form_values.display_value("2027-07-10T08:00:00+00:00") == "10. juli 2027 10:00"
        assert form_values.display_value("2027-07-10T10:00:00.5+02:00") == "10. juli 2027 10:00"
        assert form_values.display_value("2027-02-30T09:00:00Z") == "2027-02-30T09:00:00Z"  # no such day: as it is
        assert form_values.display_value("2027-01-10T09:00:00") == "2027-01-10T09:00:00"  # no offset: no moment


def test_a_text_shaped_as_a_date_time_at_the_edge_of_the_calendar_is_shown_as_written(visit):
    """A note typed as "9999-12-31T23:59:59-05:00" names a moment after the year 9999 in Oslo's
    time: the case page showed a 500 to everyone who reads the case, not the text."""
    worker, task = visit
    edge = "9999-12-31T23:59:59-05:00"
    services.complete_task(actor=worker, task_id=task.pk, data={"note": edge})
    page = web(worker).get(reverse("case", args=[task.case_id]), HTTP_ACCEPT_LANGUAGE="nb")
    assert page.status_code == 200
    assert edge in page.content.decode()
    with translation.override("nb"):
        assert form_values.display_value("0001-01-01T00:00:00+05:00") == "0001-01-01T00:00:00+05:00"
