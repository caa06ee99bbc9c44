"""Issue 13, point 5: timers due "in days" fall due at the working hour (09:00 Europe/Oslo,
a weekend day moved to the Monday), through the real path: the step writes the timer job
at that moment, the worker fires it then and not a second before. Hour and minute
durations stay exact."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bpmn.engine import working_hours
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clock import Clock
from tests.workflows.helpers import complete, open_tasks
from workflows import services
from workflows.jobs.worker import Worker
from workflows.models import Event, EventKind, Job, JobKind, JobStatus, ProcessInstance

OSLO = ZoneInfo("Europe/Oslo")
pytestmark = pytest.mark.django_db

FORM = {
    "type": "object",
    "properties": {"done": {"type": "boolean", "x-category": "coordination"}},
    "additionalProperties": False,
}


def oslo(*args) -> datetime:
    return datetime(*args, tzinfo=OSLO)


def deploy_waiting(timer: str) -> None:
    """Start -> a timer (``timer``: the timeDuration or timeCycle element) -> a task -> end."""
    from bpmn.services import deploy_definition

    form = properties(formJsonSchemaFilename="f.schema.json")
    xml = definitions(f"""
        <bpmn:process id="Proc_wait_days" name="Wait some days" isExecutable="true">
          {lane_set({"Kriminalomsorgen": ["StartEvent_1", "Timer_wait", "Task_after", "EndEvent_1"]})}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Timer_wait"/>
          <bpmn:intermediateCatchEvent id="Timer_wait" name="Vent">
            <bpmn:timerEventDefinition>{timer}</bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Timer_wait" targetRef="Task_after"/>
          <bpmn:userTask id="Task_after" name="Etter ventetiden">{form}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_after" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)
    deploy_definition(
        actor=None, bpmn_xml=xml, forms={"f.schema.json": FORM}, filename="wait.bpmn", check_permission=False
    )


def start(users, agencies):
    return services.start_case(
        actor=users["kari"],
        process_key="Proc_wait_days",
        person={"name": "Ola Nordmann", "national_id": "17912099997"},
        participants={"prison": agencies["prison"].pk},
    )


def pending_job(case) -> Job:
    (job,) = Job.objects.filter(case=case, kind=JobKind.TIMER, status=JobStatus.PENDING)
    return job


def fires_exactly_at(clock: Clock, case, due: datetime, fired_before: int = 0) -> None:
    """Nothing fires a second before ``due``; the worker fires the timer a second after."""
    assert pending_job(case).due_at == due
    assert ProcessInstance.objects.get(case=case).next_timer_at == due
    clock.set(due - timedelta(seconds=1))
    Worker(name="w").run(once=True)
    assert Event.objects.filter(case=case, kind=EventKind.TIMER_FIRED).count() == fired_before
    clock.set(due + timedelta(seconds=1))
    Worker(name="w").run(once=True)
    assert Event.objects.filter(case=case, kind=EventKind.TIMER_FIRED).count() == fired_before + 1


@pytest.mark.parametrize(
    ("duration", "created", "due"),
    [
        # started at 03:39 at night: due the next day at 09:00, not at 03:39
        ("P1D", oslo(2027, 3, 9, 3, 39), oslo(2027, 3, 10, 9, 0)),
        # a month across the start of summer time (28 March 2027): 09:00 summer time (07:00 UTC)
        ("P1M", oslo(2027, 3, 16, 3, 39), oslo(2027, 4, 16, 9, 0)),
        # and across its end (31 October 2027): 09:00 winter time (08:00 UTC)
        ("P1M", oslo(2027, 10, 5, 23, 59), oslo(2027, 11, 5, 9, 0)),
        # two weeks, counted in Oslo days: 00:30 on the 9th in Oslo is still the 8th in UTC
        ("P2W", oslo(2027, 3, 9, 0, 30), oslo(2027, 3, 23, 9, 0)),
        # Friday + 1 day is a Saturday: the Monday after
        ("P1D", oslo(2027, 3, 12, 10, 0), oslo(2027, 3, 15, 9, 0)),
        # a month from 10 March is Saturday 10 April: Monday 12 April
        ("P1M", oslo(2027, 3, 10, 3, 39), oslo(2027, 4, 12, 9, 0)),
    ],
)
def test_a_duration_in_days_falls_due_at_nine_oslo_time(users, agencies, monkeypatch, duration, created, due):
    deploy_waiting(f"<bpmn:timeDuration>{duration}</bpmn:timeDuration>")
    clock = Clock(monkeypatch, created)
    case = start(users, agencies)
    fires_exactly_at(clock, case, due)
    assert [t.element_id for t in open_tasks(case)] == ["Task_after"]
    assert due.astimezone(OSLO).hour == 9 and due.astimezone(OSLO).weekday() < 5


@pytest.mark.parametrize(
    ("duration", "after"),
    [("PT2H", timedelta(hours=2)), ("PT30M", timedelta(minutes=30)), ("P1DT2H", timedelta(days=1, hours=2))],
)
def test_a_duration_with_hours_or_minutes_stays_exact(users, agencies, monkeypatch, duration, after):
    deploy_waiting(f"<bpmn:timeDuration>{duration}</bpmn:timeDuration>")
    created = oslo(2027, 3, 9, 3, 39, 12)
    clock = Clock(monkeypatch, created)
    case = start(users, agencies)
    fires_exactly_at(clock, case, created + after)


def test_an_explicit_date_is_untouched(users, agencies, monkeypatch):
    deploy_waiting('<bpmn:timeDate>"2027-03-13T03:39:00+01:00"</bpmn:timeDate>')  # a Saturday night
    clock = Clock(monkeypatch, oslo(2027, 3, 9, 12, 0))
    case = start(users, agencies)
    fires_exactly_at(clock, case, oslo(2027, 3, 13, 3, 39))


def test_a_monthly_cycle_falls_due_each_month_at_nine_oslo_time(users, agencies, monkeypatch):
    """R6/P1M (the prison case's follow-up visits), started 15 January at 03:39: six visits,
    each on the 15th (a Saturday moved past the weekend and 17 May) at 09:00 on both sides of the change
    to summer time, fired by the worker one by one and not again after the sixth."""
    deploy_waiting('<bpmn:timeCycle>"R6/P1M"</bpmn:timeCycle>')
    clock = Clock(monkeypatch, oslo(2027, 1, 15, 3, 39))
    case = start(users, agencies)
    expected = [
        oslo(2027, 2, 15, 9, 0),
        oslo(2027, 3, 15, 9, 0),
        oslo(2027, 4, 15, 9, 0),  # summer time: 07:00 UTC
        oslo(2027, 5, 18, 9, 0),  # 15 May is a Saturday, Monday 17 May a public holiday
        oslo(2027, 6, 15, 9, 0),
        oslo(2027, 7, 15, 9, 0),
    ]
    for round_, due in enumerate(expected):
        fires_exactly_at(clock, case, due, fired_before=round_)
        (visit,) = open_tasks(case)
        complete(visit)
    assert not Job.objects.filter(case=case, kind=JobKind.TIMER, status=JobStatus.PENDING).exists()
    assert ProcessInstance.objects.get(case=case).next_timer_at is None
    clock.advance(days=400)
    Worker(name="w").run(once=True)
    assert Event.objects.filter(case=case, kind=EventKind.TIMER_FIRED).count() == 6


def test_a_daily_cycle_skips_the_weekend_instead_of_firing_three_times_on_monday(users, agencies, monkeypatch):
    deploy_waiting('<bpmn:timeCycle>"R3/P1D"</bpmn:timeCycle>')
    clock = Clock(monkeypatch, oslo(2027, 3, 11, 16, 0))  # a Thursday
    case = start(users, agencies)
    for round_, due in enumerate([oslo(2027, 3, 12, 9, 0), oslo(2027, 3, 15, 9, 0), oslo(2027, 3, 16, 9, 0)]):
        fires_exactly_at(clock, case, due, fired_before=round_)


def test_working_hours_come_from_the_settings(users, agencies, monkeypatch, settings):
    """TIMER_WORKING_HOUR moves the hour, TIMER_SKIP_WEEKENDS off keeps a Saturday, and
    "off" gives SpiffWorkflow's exact durations; the settings reach the engine at start-up."""
    from bpmn.apps import timer_working_hours

    deploy_waiting("<bpmn:timeDuration>P1D</bpmn:timeDuration>")
    created = oslo(2027, 3, 12, 10, 0)  # a Friday
    clock = Clock(monkeypatch, created)
    try:
        settings.BROBYGGER = {**settings.BROBYGGER, "TIMER_WORKING_HOUR": "07:30", "TIMER_SKIP_WEEKENDS": False}
        working_hours.configure(timer_working_hours())
        assert pending_job(start(users, agencies)).due_at == oslo(2027, 3, 13, 7, 30)
        settings.BROBYGGER = {**settings.BROBYGGER, "TIMER_WORKING_HOUR": "off"}
        working_hours.configure(timer_working_hours())
        case = start(users, agencies)
        fires_exactly_at(clock, case, created + timedelta(days=1))
    finally:
        working_hours.configure(working_hours.WorkingHours())
    assert working_hours.configured() == working_hours.WorkingHours(zone="Europe/Oslo")


def test_the_default_is_nine_oslo_time_on_weekdays(settings):
    from bpmn.apps import timer_working_hours

    assert settings.TIME_ZONE == "Europe/Oslo"
    hours = timer_working_hours()
    assert hours is not None and (hours.at.hour, hours.at.minute, hours.zone, hours.skip_weekends) == (
        9,
        0,
        "Europe/Oslo",
        True,
    )
    assert working_hours.configured() == hours


def test_a_timer_started_under_a_moved_clock_is_stored_in_utc(users, agencies, monkeypatch):
    deploy_waiting("<bpmn:timeDuration>P1D</bpmn:timeDuration>")
    Clock(monkeypatch, datetime(2027, 3, 9, 2, 39, tzinfo=UTC))
    case = start(users, agencies)
    assert pending_job(case).due_at == datetime(2027, 3, 10, 8, 0, tzinfo=UTC)
