"""The summary tables: kept in the events' transaction, equal to a rebuild, no personal data."""

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import models

from core import hooks
from insight import backfill
from insight.models import WHOLE_MUNICIPALITY, CaseFlow, DischargeWait, HousingTime, TaskTime, TimerFired
from insight.recording import TABLES
from tests.workflows.helpers import complete, do_follow_up_visits, run_to_end
from workflows.models import Task, TaskStatus

from .conftest import PRISON_PARTICIPANTS, discharge_case, open_tasks, start


def snapshot() -> dict:
    return {
        model.__name__: sorted(tuple(row) for row in model.objects.values_list(*TABLES[model][0], *TABLES[model][1]))
        for model in TABLES
    }


def test_a_finished_case_is_counted_once_per_scope(finished_cases, agencies):
    whole = CaseFlow.objects.filter(scope=WHOLE_MUNICIPALITY)
    assert sum(whole.values_list("opened", flat=True)) == 2
    closed = {(row.process_key, row.outcome) for row in whole.filter(closed=1)}
    assert closed == {("institution_discharge_to_housing", "bosatt"), ("prison_release_to_housing", "bolig_beholdt")}
    # NAV takes part in both, the prison only in the prison case, the hospital only in the discharge.
    assert sum(CaseFlow.objects.filter(scope=agencies["nav"].pk).values_list("opened", flat=True)) == 2
    assert set(CaseFlow.objects.filter(scope=agencies["prison"].pk).values_list("process_key", flat=True)) == {
        "prison_release_to_housing"
    }
    completed = Task.objects.filter(status=TaskStatus.COMPLETED).count()
    assert sum(TaskTime.objects.filter(scope=WHOLE_MUNICIPALITY).values_list("completed", flat=True)) == completed


def test_referral_to_housed_and_discharge_days_are_counted(finished_cases):
    (row,) = HousingTime.objects.filter(scope=WHOLE_MUNICIPALITY)
    # The discharge case's referral was ten days before "ready", and it was housed on discharge.
    assert (row.process_key, row.days, row.cases) == ("institution_discharge_to_housing", 22, 1)
    (wait,) = DischargeWait.objects.filter(scope=WHOLE_MUNICIPALITY)
    assert (wait.discharges, wait.days, wait.month) == (1, 12, date.today().replace(day=1))


def test_the_rebuild_counts_exactly_what_the_steps_counted(finished_cases):
    live = snapshot()
    assert all(live[name] for name in ("CaseFlow", "HousingTime", "TaskTime", "DischargeWait"))
    backfill.rebuild()
    assert snapshot() == live


def test_the_command_refuses_to_overwrite_figures_without_replace(finished_cases):
    with pytest.raises(CommandError, match="--replace"):
        call_command("insight_backfill")
    before = snapshot()
    call_command("insight_backfill", "--replace")
    assert snapshot() == before


def test_a_failing_summary_write_rolls_the_whole_step_back(shipped, users, agencies):
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS)
    (intake,) = open_tasks(case)
    before = snapshot()

    def broken(**facts):
        raise RuntimeError("summary table unavailable")

    hooks.subscribe_writer(hooks.STEP_EVENTS, broken)
    try:
        with pytest.raises(RuntimeError):
            complete(intake, {"has_home": False}, actor=users["kari"])
    finally:
        hooks.unsubscribe_writer(hooks.STEP_EVENTS, broken)
    intake.refresh_from_db()
    assert intake.status == TaskStatus.OPEN and snapshot() == before


def test_timer_fires_are_counted_per_element_and_rebuilt_alike(shipped, users, agencies, monkeypatch):
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS)
    run_to_end(case, {"has_home": False, "home_found": True})
    do_follow_up_visits(case, monkeypatch, rounds=2)
    fired = TimerFired.objects.filter(scope=WHOLE_MUNICIPALITY)
    assert sum(fired.values_list("fired", flat=True)) == 2
    live = snapshot()
    backfill.rebuild()
    assert snapshot() == live


def test_no_summary_table_can_name_a_case_a_task_or_a_person():
    """The figures outlive the erasure of the people counted: no key to them, no text from them."""
    for model in TABLES:
        for field in model._meta.concrete_fields:
            if field.is_relation:
                assert field.related_model._meta.label in ("bpmn.ProcessDefinition", "permissions.Agency"), field
            assert not isinstance(field, models.JSONField | models.TextField), field
            assert field.name not in ("case", "person", "task", "national_id", "name", "reason")


def test_discharge_days_before_ready_count_as_none(shipped, users, agencies):
    today = date.today()
    discharge_case(users, agencies, ready=today, discharged=today - timedelta(days=3))
    (wait,) = DischargeWait.objects.filter(scope=WHOLE_MUNICIPALITY)
    assert (wait.discharges, wait.days) == (1, 0)
