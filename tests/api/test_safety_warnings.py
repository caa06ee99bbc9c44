"""Safety warnings are minimal, factual and time-limited (domain.md).

A warning (category ``safety``: violence or threats against staff) is shown to the case's
participants for ``SAFETY_WARNING_DAYS`` Oslo calendar days after it was recorded or last
confirmed. Then the other participants see only that a warning lapsed, and when; the agency
that recorded it and the case's coordinator still see it and confirm it again or remove it.
Before, a warning recorded years ago labelled the person to every new participant."""

import datetime

import pytest
from django.urls import reverse

from permissions import policy
from permissions.models import AccessLog, Membership, Role
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api, web
from workflows import selectors, services
from workflows.models import Case, Event, EventKind, Task

pytestmark = pytest.mark.django_db

PERSON = {"name": "Ola Testesen", "national_id": "17912099997"}
WARNING = "Truet ansatt med kniv ved hjemmebesøk"
SAFETY = {"type": "string", "x-category": "safety"}
FORMS = {
    "warn.schema.json": {"type": "object", "properties": {"trussel": SAFETY}},
    "noted.schema.json": {
        "type": "object",
        "properties": {"notert": {"type": "boolean", "x-category": "coordination"}},
    },
    "next_start.schema.json": {
        "type": "object",
        "properties": {"trussel_tidligere": {**SAFETY, "x-inherit": ["trussel"]}},
    },
}
LONG_AGO = "2020-01-15T10:00:00+00:00"


def _model(process_id: str, start_form: str | None = None) -> str:
    start = properties(formJsonSchemaFilename=start_form) if start_form else ""
    warn, noted = (properties(formJsonSchemaFilename=f) for f in ("warn.schema.json", "noted.schema.json"))
    lanes = {"Boligkontakt": ["S", "T_home", "E"], "Kriminalomsorgen": ["T_warn"], "NAV": ["T_nav"]}
    return definitions(f"""
        <bpmn:process id="{process_id}" name="{process_id}" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S">{start}</bpmn:startEvent>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T_warn"/>
          <bpmn:userTask id="T_warn" name="Advarsel">{warn}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="T_warn" targetRef="T_nav"/>
          <bpmn:userTask id="T_nav" name="NAV">{noted}</bpmn:userTask>
          <bpmn:sequenceFlow id="F3" sourceRef="T_nav" targetRef="T_home"/>
          <bpmn:userTask id="T_home" name="Bolig">{noted}</bpmn:userTask>
          <bpmn:sequenceFlow id="F4" sourceRef="T_home" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
    """)


def _worker(django_user_model, agency, role, username):
    user = django_user_model.objects.create_user(username, password="x", first_name=username.title())
    Membership.objects.create(user=user, agency=agency, role=role)
    user.groups.add(agency.group)
    return user


@pytest.fixture
def people(agencies, django_user_model):
    return {
        "recorder": _worker(django_user_model, agencies["prison"], Role.MEMBER, "fengselsbetjent-advarsel"),
        "other": _worker(django_user_model, agencies["nav"], Role.MEMBER, "nav-veileder-advarsel"),
        "coordinator": _worker(django_user_model, agencies["housing"], Role.COORDINATOR, "boligkontakt-advarsel"),
    }


@pytest.fixture
def warned(people, agencies):
    """A case whose prison recorded a safety warning."""
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=_model("Proc_warn"), forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=people["coordinator"],
        process_key="Proc_warn",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
    )
    task = Task.objects.get(case=case, element_id="T_warn")
    services.complete_task(actor=people["recorder"], task_id=task.pk, data={"trussel": WARNING})
    return Case.objects.get(pk=case.pk)


def _recorded_long_ago(case, moment=LONG_AGO):
    Case.objects.filter(pk=case.pk).update(data_recorded_at={"trussel": moment})


def _safety(client, case):
    answer = client.get(reverse("api-case", args=[case.pk]))
    assert answer.status_code == 200, answer.content
    return answer.json()["data"]["safety"]


def test_a_fresh_warning_is_shown_to_every_participant_with_its_time_recorded(warned, people):
    recorded = datetime.datetime.fromisoformat(warned.data_recorded_at["trussel"])
    assert abs(recorded - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)
    shown = _safety(api(people["other"]), warned)
    assert shown["values"] == {"trussel": WARNING}
    assert "lapsed" not in shown
    assert shown["valid_until"]["trussel"] == str(policy.lapses_on(recorded, 365) - datetime.timedelta(days=1))


def test_a_lapsed_warning_is_hidden_from_other_participants_but_not_from_its_recorder_or_coordinator(warned, people):
    _recorded_long_ago(warned)

    other = _safety(api(people["other"]), warned)
    assert other["values"] == {}
    assert other["lapsed"] == {"trussel": "2021-01-14"}  # 365 Oslo days after 15 January 2020
    for keeper in ("recorder", "coordinator"):
        shown = _safety(api(people[keeper]), warned)
        assert shown["values"] == {"trussel": WARNING}, keeper
        assert shown["lapsed"] == {"trussel": "2021-01-14"}, keeper

    page = web(people["other"]).get(reverse("case", args=[warned.pk])).content.decode()
    assert WARNING not in page
    assert "Advarsel utløpt 14. januar 2021" in page
    assert "Bekreft advarselen på nytt" not in page
    page = web(people["recorder"]).get(reverse("case", args=[warned.pk])).content.decode()
    assert WARNING in page and "Bekreft advarselen på nytt" in page

    # Nor on the task the other agency works: the same policy.
    nav_task = Task.objects.get(case=warned, element_id="T_nav")
    answer = api(people["other"]).get(reverse("api-task", args=[nav_task.pk]))
    assert answer.status_code == 200, answer.content
    assert WARNING not in answer.content.decode()


def test_the_reader_of_only_a_lapse_reads_no_value_and_is_not_logged_as_reading_one(warned, people):
    _recorded_long_ago(warned)
    before = AccessLog.objects.filter(case=warned, category="safety").count()
    _safety(api(people["other"]), warned)
    assert AccessLog.objects.filter(case=warned, category="safety").count() == before
    _safety(api(people["recorder"]), warned)
    row = AccessLog.objects.filter(case=warned, category="safety").latest("id")
    assert (row.user, row.basis) == (people["recorder"], "own-data")


def test_confirming_renews_the_warning_for_everyone_and_is_recorded(warned, people):
    _recorded_long_ago(warned)
    url = reverse("api-case-safety-confirmations", args=[warned.pk])

    refused = api(people["other"]).post(url, {"field": "trussel"}, format="json")
    assert refused.status_code == 403, refused.content
    assert _safety(api(people["other"]), warned)["values"] == {}

    answer = api(people["recorder"]).post(url, {"field": "trussel"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["field"] == "trussel"

    shown = _safety(api(people["other"]), warned)
    assert shown["values"] == {"trussel": WARNING}
    assert "lapsed" not in shown
    event = Event.objects.get(case=warned, kind=EventKind.SAFETY_CONFIRMED)
    assert (event.actor, event.agency_id, event.detail) == (
        people["recorder"],
        warned.data_sources["trussel"],
        {"field": "trussel"},
    )
    assert WARNING not in str(event.detail)
    logged = AccessLog.objects.get(case=warned, item="safety-confirmed")
    assert (logged.user, logged.category, logged.action, logged.basis) == (
        people["recorder"],
        "safety",
        "write",
        "own-data",
    )


def test_the_coordinator_confirms_on_the_page_and_a_field_that_is_no_warning_is_400(warned, people):
    _recorded_long_ago(warned)
    client = web(people["coordinator"])
    answer = client.post(reverse("case-safety-confirm", args=[warned.pk]), {"field": "trussel"}, follow=True)
    assert answer.status_code == 200
    assert "Advarselen er bekreftet" in answer.content.decode()
    assert _safety(api(people["other"]), warned)["values"] == {"trussel": WARNING}

    url = reverse("api-case-safety-confirmations", args=[warned.pk])
    wrong = api(people["coordinator"]).post(url, {"field": "notert"}, format="json")
    assert wrong.status_code == 400, wrong.content
    assert wrong.json()["errors"][0]["field"] == "field"


def test_the_coordinator_removes_a_lapsed_warning_through_a_correction(warned, people):
    _recorded_long_ago(warned)
    client = web(people["coordinator"])
    answer = client.post(
        reverse("case-safety-remove", args=[warned.pk]),
        {"field": "trussel", "reason": "Gjelder ikke lenger etter samtale med fengselet"},
        follow=True,
    )
    assert answer.status_code == 200
    assert WARNING not in str(Case.objects.get(pk=warned.pk).data)
    for reader in ("other", "recorder"):
        shown = _safety(api(people[reader]), warned)
        assert WARNING not in str(shown) and "lapsed" not in shown, reader


def test_the_lapse_is_counted_in_oslo_days_across_the_end_of_summer_time(warned, people, settings):
    """Recorded at 01:30 on 25 October 2026 in Oslo (summer time ends at 03:00 that night),
    with a day's time in force: shown through 25 October, lapsed from midnight starting 26
    October there, 23:00 UTC: neither 24 hours after (23:30 UTC) nor the UTC date's end."""
    settings.BROBYGGER = {**settings.BROBYGGER, "SAFETY_WARNING_DAYS": 1}
    _recorded_long_ago(warned, "2026-10-24T23:30:00+00:00")
    case = Case.objects.get(pk=warned.pk)
    fields = selectors.case_field_rules(case)
    before = datetime.datetime(2026, 10, 25, 22, 59, tzinfo=datetime.UTC)
    after = datetime.datetime(2026, 10, 25, 23, 0, tzinfo=datetime.UTC)

    assert policy.case_data_for(people["other"], case, fields, log=False, at=before)["safety"].values == {
        "trussel": WARNING
    }
    lapsed = policy.case_data_for(people["other"], case, fields, log=False, at=after)["safety"]
    assert lapsed.values == {}
    assert lapsed.lapsed == {"trussel": datetime.date(2026, 10, 26)}


def test_a_follow_on_does_not_carry_a_lapsed_warning(warned, people, agencies):
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None, bpmn_xml=_model("Proc_warn_next", "next_start.schema.json"), forms=FORMS, check_permission=False
    )
    _recorded_long_ago(warned)

    result = services.start_follow_on(actor=people["coordinator"], case=warned.pk, process_key="Proc_warn_next")

    assert "trussel_tidligere" in result.withheld
    assert "trussel_tidligere" not in Case.objects.get(pk=result.case.pk).data


def test_a_follow_on_carries_a_warning_in_force_with_the_time_it_was_recorded(warned, people):
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None, bpmn_xml=_model("Proc_warn_next", "next_start.schema.json"), forms=FORMS, check_permission=False
    )
    recorded = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=200)).isoformat()
    _recorded_long_ago(warned, recorded)

    result = services.start_follow_on(actor=people["coordinator"], case=warned.pk, process_key="Proc_warn_next")

    new_case = Case.objects.get(pk=result.case.pk)
    assert new_case.data["trussel_tidligere"] == WARNING
    # Carried, it is the same warning: it does not start a new year in the next case.
    assert new_case.data_recorded_at["trussel_tidligere"] == recorded


def test_a_form_s_x_valid_days_sets_the_field_s_own_time_in_force(people, agencies):
    from bpmn.services import deploy_definition

    forms = {**FORMS, "warn.schema.json": {"type": "object", "properties": {"trussel": {**SAFETY, "x-valid-days": 30}}}}
    deploy_definition(actor=None, bpmn_xml=_model("Proc_warn_30"), forms=forms, check_permission=False)
    case = services.start_case(
        actor=people["coordinator"],
        process_key="Proc_warn_30",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
    )
    task = Task.objects.get(case=case, element_id="T_warn")
    services.complete_task(actor=people["recorder"], task_id=task.pk, data={"trussel": WARNING})
    forty_days_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=40)
    _recorded_long_ago(case, forty_days_ago.isoformat())  # within SAFETY_WARNING_DAYS, past the form's 30

    shown = _safety(api(people["other"]), case)
    assert shown["values"] == {}
    assert list(shown["lapsed"]) == ["trussel"]


def test_a_year_and_a_day_after_it_was_recorded_the_other_participant_no_longer_reads_it(warned, people, monkeypatch):
    """The time the step wrote, read a year and a day later (the clock moved, nothing else)."""
    from django.utils import timezone

    later = timezone.now() + datetime.timedelta(days=366)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert WARNING not in str(_safety(api(people["other"]), warned))
    assert _safety(api(people["recorder"]), warned)["values"] == {"trussel": WARNING}


def test_the_migration_fills_the_time_from_the_history(warned, people):
    """``workflows 0066``: a stored case's warning counts from the event of the task that
    recorded it; a value no event names, recorded by the case's starter, from the start."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("workflows.migrations.0066_case_data_recorded_at")
    completed = Event.objects.get(case=warned, kind=EventKind.TASK_COMPLETED, task__element_id="T_warn")
    Case.objects.filter(pk=warned.pk).update(data_recorded_at={})

    migration.fill(apps, None)

    recorded = Case.objects.get(pk=warned.pk).data_recorded_at["trussel"]
    assert datetime.datetime.fromisoformat(recorded) == completed.created_at

    # Start data: the same warning, as the coordinator's start form gave it (no event names it).
    Case.objects.filter(pk=warned.pk).update(
        data_recorded_at={}, data_sources={**warned.data_sources, "trussel": warned.coordinator_agency_id}
    )
    Event.objects.filter(pk=completed.pk).update(detail={"fields": []})
    migration.fill(apps, None)
    recorded = Case.objects.get(pk=warned.pk).data_recorded_at["trussel"]
    assert datetime.datetime.fromisoformat(recorded) == warned.opened_at


def _completion_statements(people, agencies, process_key):
    from django.db import connection

    case = services.start_case(
        actor=people["coordinator"],
        process_key=process_key,
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
    )
    task = Task.objects.get(case=case, element_id="T_warn")
    log = []
    with connection.execute_wrapper(lambda execute, sql, *args: log.append(sql) or execute(sql, *args)):
        services.complete_task(actor=people["recorder"], task_id=task.pk, data={"trussel": WARNING})
    return sum(len(sql.split("; ")) for sql in log), len(log), Case.objects.get(pk=case.pk)


def test_recording_the_time_sends_no_statement_more(warned, people, agencies, monkeypatch):
    """The time goes into the case row's update that writes the field's source: a step that
    records a warning sends as many statements, in as many round trips, as one that did not
    record its time."""
    with_time = _completion_statements(people, agencies, "Proc_warn")
    assert "trussel" in with_time[2].data_recorded_at
    monkeypatch.setattr(policy, "recorded_times", lambda *args, **kwargs: {})
    without = _completion_statements(people, agencies, "Proc_warn")
    assert without[2].data_recorded_at == {}
    assert with_time[:2] == without[:2]


def test_the_coordinator_removes_another_agency_s_warning_but_does_not_rewrite_it(warned, people):
    """The coordinator answers for a warning beside the agency that recorded it, to confirm or
    remove it: its words stay the recorder's, as a health or justice value stays its agency's."""
    corrections = reverse("api-case-corrections", args=[warned.pk])
    rewrite = {"field": "trussel", "value": "Rolig ved siste besøk", "reason": "Oppdatert etter samtale"}
    answer = api(people["coordinator"]).post(corrections, rewrite, format="json")
    assert answer.status_code == 403, answer.content
    assert answer.json()["code"] == "retention.safety_remove_only"
    assert "Rolig" not in answer.content.decode() and WARNING not in answer.content.decode()
    assert Case.objects.get(pk=warned.pk).data["trussel"] == WARNING
    # The agency that recorded it corrects its words; the coordinator removes it.
    mended = {**rewrite, "value": WARNING + " (2019)"}
    assert api(people["recorder"]).post(corrections, mended, format="json").status_code == 201
    removal = {"field": "trussel", "value": None, "reason": "Gjelder ikke lenger"}
    assert api(people["coordinator"]).post(corrections, removal, format="json").status_code == 201
    assert (Case.objects.get(pk=warned.pk).data or {}).get("trussel") is None


def warning_people(django_user_model, agencies, suffix: str) -> dict:
    """The prison's recorder, NAV's other participant and the housing coordinator of the
    warning tests in other files (usernames made apart by ``suffix``)."""
    return {
        "recorder": _worker(django_user_model, agencies["prison"], Role.MEMBER, f"fengsel-{suffix}"),
        "other": _worker(django_user_model, agencies["nav"], Role.MEMBER, f"nav-{suffix}"),
        "coordinator": _worker(django_user_model, agencies["housing"], Role.COORDINATOR, f"bolig-{suffix}"),
    }


def warning_case(people, agencies, process_key: str):
    """A case of ``process_key`` (a model of ``_model``) started by the coordinator, with the
    housing office, the prison and NAV."""
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=_model(process_key), forms=FORMS, check_permission=False)
    return services.start_case(
        actor=people["coordinator"],
        process_key=process_key,
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
    )
