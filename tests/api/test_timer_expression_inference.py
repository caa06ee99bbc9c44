"""Inference through a timer whose moment is computed from case data (the eviction process's
"a week before the eviction": ``local_datetime(days_before(eviction_date, 7), "09:00")``).
The moment it fires is the masked value moved by a known amount: NAV and the health service,
who do not see the housing data, must not be told it, in the case's answer, the case list,
or the case page's next deadline. The housing office, whose data it is, is."""

import datetime

import pytest
from django.utils import timezone

from bpmn.engine.gateway_paths import timer_reads
from tests.clients import api
from tests.clients import web as page
from tests.workflows.helpers import PERSON, complete, open_tasks
from workflows import services

pytestmark = pytest.mark.django_db


def test_timer_reads_names_the_fields_a_timer_expression_reads():
    xml = """<?xml version="1.0"?>
    <bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
      <bpmn:process id="p" isExecutable="true">
        <bpmn:intermediateCatchEvent id="T_expr"><bpmn:timerEventDefinition>
          <bpmn:timeDate>local_datetime(days_before(eviction_date, 7), "09:00")</bpmn:timeDate>
        </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
        <bpmn:intermediateCatchEvent id="T_iso"><bpmn:timerEventDefinition>
          <bpmn:timeDuration>P14D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
        <bpmn:intermediateCatchEvent id="T_quoted"><bpmn:timerEventDefinition>
          <bpmn:timeDuration>"P21D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
        <bpmn:intermediateCatchEvent id="T_cycle"><bpmn:timerEventDefinition>
          <bpmn:timeCycle>repeat(visit_count, visit_interval)</bpmn:timeCycle></bpmn:timerEventDefinition>
        </bpmn:intermediateCatchEvent>
      </bpmn:process>
    </bpmn:definitions>"""
    assert timer_reads(xml) == {
        "T_expr": frozenset({"eviction_date"}),
        "T_cycle": frozenset({"visit_count", "visit_interval"}),
    }


@pytest.fixture
def negotiating(shipped, users, agencies):
    """An eviction case at "negotiate": the eviction is ten days from now, so the week-before
    timer fires in three days, before the negotiation task's own deadline (seven days)."""
    case = services.start_case(
        actor=users["bjorn"],
        process_key="eviction_prevention",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "nav", "health")},
    )
    today = timezone.localdate()
    eviction = (today + datetime.timedelta(days=10)).isoformat()
    for _step in range(3):
        tasks = open_tasks(case)
        if any(task.element_id == "Task_negotiate" for task in tasks):
            break
        for task in tasks:
            complete(task, {"eviction_date": eviction, "notice_received_date": today.isoformat()})
    case.refresh_from_db()
    assert case.data["eviction_date"] == eviction
    return case


def _told(user, case) -> dict:
    answer = api(user).get(f"/api/v1/cases/{case.pk}/").json()
    row = next(row for row in api(user).get("/api/v1/cases/").json()["results"] if row["id"] == case.pk)
    view = page(user).get(f"/cases/{case.pk}/").context["view"]
    return {
        "housing shown": answer["data"]["housing"]["visible"],
        "case answer": answer["next_timer_at"],
        "case list": row["next_timer_at"],
        "page next deadline is the timer": view.next_deadline == view.next_timer_at is not None,
    }


def test_readers_without_the_housing_data_are_not_told_when_the_eviction_timer_fires(negotiating, users):
    expected = timezone.localtime(negotiating.instances.get().next_timer_at)
    assert expected.date() == datetime.date.fromisoformat(negotiating.data["eviction_date"]) - datetime.timedelta(7)
    for reader in ("nils", "helga"):
        assert _told(users[reader], negotiating) == {
            "housing shown": False,
            "case answer": None,
            "case list": None,
            "page next deadline is the timer": False,
        }, reader
    told = _told(users["bjorn"], negotiating)
    assert told["housing shown"] and told["page next deadline is the timer"]
    assert datetime.datetime.fromisoformat(told["case answer"]) == expected
    assert datetime.datetime.fromisoformat(told["case list"]) == expected


def test_a_consent_to_the_housing_data_tells_the_timer_on_the_case_itself(negotiating, users, agencies, consent_basis):
    services.record_consent(
        actor=users["bjorn"],
        case=negotiating,
        agency=agencies["nav"],
        categories=["housing"],
        purpose="Hindre utkastelse",
        legal_basis=consent_basis,
    )
    told = _told(users["nils"], negotiating)
    assert told["housing shown"] and told["case answer"] is not None and told["page next deadline is the timer"]
    assert told["case list"] is None  # lists across cases decide by standing, never by consent


def test_the_migration_fills_in_the_timer_categories_of_stored_instances(negotiating, prison_case_at_intake):
    """Instances stored before timers' expressions counted: the eviction case's gets the
    housing field its timer reads; the prison case's stays its gateway's (housing): its
    timer reads the expected release date, which every participant sees."""
    import importlib

    from django.apps import apps

    from permissions.rules import path_mask
    from workflows.models import ProcessInstance

    migration = importlib.import_module("workflows.migrations.0036_instance_timer_reads")
    ProcessInstance.objects.update(timer_path_categories=0)
    migration.fill(apps, None)
    assert ProcessInstance.objects.get(case=negotiating).timer_path_categories == path_mask(["housing"])
    assert ProcessInstance.objects.get(case=prison_case_at_intake).timer_path_categories == path_mask(["housing"])
    for instance in ProcessInstance.objects.select_related("definition"):  # as every step writes it
        from bpmn.registry import runtime_for

        assert instance.timer_path_categories == runtime_for(instance.definition_id).timer_path_categories


@pytest.fixture
def prison_case_at_intake(users, agencies, shipped):
    from tests.workflows.helpers import start_prison_case

    return start_prison_case(users, agencies)
