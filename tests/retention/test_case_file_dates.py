"""The archive's case file prints dates and times as the pages do, in Oslo's time and in bokmål
words ("10. januar 2027 09:00"): the form's date, date-time and time-of-day values and the case
file's own times (the case's dates, when it was made, the timeline). Until 2026-12-07 it printed
the forms' values as stored (RFC 3339, "2027-01-09T23:30:00Z", UTC's day and hour) and its own
times as "2027-01-10 00:30". The package's machine-readable files (``hendelser.xml``,
``arkivstruktur.xml``) keep ISO 8601 with the offset: read by programs, not people."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from lxml import etree

from permissions.models import Membership, Role
from retention import archive
from retention.case_file_timeline import EVENTS_NAMESPACE
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import open_tasks
from workflows import services
from workflows.models import Case, CaseStatus, Event

from .pdfa import text_of

KEY = "Proc_case_file_dates"
PERSON = {"name": "Dato Datosen", "national_id": "05840399895"}
MONTHS = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
]
MEETING_FORM = {
    "type": "object",
    "properties": {
        "meeting_day": {"type": "string", "format": "date", "title": "Møtedag", "x-category": "housing"},
        "meeting_at": {"type": "string", "format": "date-time", "title": "Møtet begynner", "x-category": "housing"},
        "visit_at": {"type": "string", "format": "time", "title": "Besøk klokken", "x-category": "coordination"},
    },
}
# Stored as an API client sends them: in UTC. 23:30 UTC on 9 January is 00:30 on 10 January in
# Oslo; 08:00 UTC is 09:00 in Oslo in winter (the case closes in January).
VALUES = {"meeting_day": "2027-01-12", "meeting_at": "2027-01-09T23:30:00Z", "visit_at": "08:00:00Z"}
CLOSED_AT = datetime.datetime(2027, 1, 15, 11, 0, tzinfo=datetime.UTC)  # 12:00 in Oslo
MADE_AT = datetime.datetime(2027, 1, 20, 7, 5, tzinfo=datetime.UTC)  # 08:05 in Oslo


def in_words(moment, *, clock=True) -> str:
    """A moment as a person in Oslo reads it, spelled here rather than by the code under test."""
    local = timezone.localtime(moment) if isinstance(moment, datetime.datetime) else moment
    text = f"{local.day}. {MONTHS[local.month - 1]} {local.year}"
    return f"{text} {local:%H:%M}" if clock else text


def _model() -> str:
    nodes = ["StartEvent_1", "Task_meeting", "EndEvent_1"]
    meeting = properties(formJsonSchemaFilename="meeting.schema.json")
    return definitions(f"""
        <bpmn:process id="{KEY}" name="Møte i saken" isExecutable="true">
          {lane_set({"Boligkontakt": nodes})}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_meeting"/>
          <bpmn:userTask id="Task_meeting" name="Avtal møtet">{meeting}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_meeting" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """)


@pytest.fixture
def closed_meeting_case(db, agencies):
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None, bpmn_xml=_model(), forms={"meeting.schema.json": MEETING_FORM}, check_permission=False
    )
    worker = get_user_model().objects.create_user("boligkontakt-datoer")
    Membership.objects.create(user=worker, agency=agencies["housing"], role=Role.COORDINATOR)
    case = services.start_case(
        actor=worker, process_key=KEY, person=PERSON, participants={"housing": agencies["housing"].pk}
    )
    (task,) = open_tasks(case)
    services.complete_task(actor=worker, task_id=task.pk, data=VALUES)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=CLOSED_AT)
    return Case.objects.get(pk=case.pk)


def test_the_case_file_prints_form_values_and_its_own_times_in_oslo_words(closed_meeting_case):
    case = closed_meeting_case
    made = archive.case_file_package(case, MADE_AT)
    text = text_of(made.pdf)

    # The form's values, each by its format, in Oslo's time.
    assert "Møtedag Bolig 12. januar 2027" in text
    assert "Møtet begynner Bolig 10. januar 2027 00:30" in text  # Oslo's day, not UTC's 9 January
    assert "Besøk klokken Samordning 09:00" in text
    # The case file's own times: the case's dates, when the case file was made, the timeline.
    assert f"Åpnet {in_words(case.opened_at, clock=False)}, avsluttet 15. januar 2027." in text
    assert "Laget 20. januar 2027 08:05." in text
    first = Event.objects.filter(case=case).order_by("created_at", "id").first()
    assert f"{in_words(first.created_at)} Sak opprettet" in text
    # Nothing left in a program's format: no ISO date, no seconds, no UTC marker.
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), re.findall(r"\S*\d{4}-\d{2}-\d{2}\S*", text)
    assert not re.search(r"\d{2}:\d{2}:\d{2}|\d[TZ]\b", text)

    # The whole timeline for programs keeps ISO 8601 with Oslo's offset, to the second.
    (stamp, *_) = etree.fromstring(made.events).iter(f"{{{EVENTS_NAMESPACE}}}tidspunkt")
    assert stamp.text == timezone.localtime(first.created_at).isoformat()
    assert datetime.datetime.fromisoformat(stamp.text).utcoffset() is not None
