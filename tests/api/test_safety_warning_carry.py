"""A safety warning carried into a follow-on case is the same warning (it keeps the time it
was recorded at) and no longer one: it lapses on the earlier of the date it lapsed on in the
earlier case and the date the new field's ``x-valid-days`` gives. Until h-safetynotes a
warning recorded under a 30-day field and carried into a 3,650-day one was shown to the next
case's participants for ten years."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from bpmn.services import deploy_definition
from permissions import policy
from permissions.models import Role
from tests.api.test_safety_warnings import FORMS, PERSON, SAFETY, _model, _worker
from tests.clients import api
from workflows import services
from workflows.models import Case, Task

pytestmark = pytest.mark.django_db

WARNING = "Truet ansatt med kniv ved hjemmebesøk"


@pytest.fixture
def people(agencies, django_user_model):
    return {
        "recorder": _worker(django_user_model, agencies["prison"], Role.MEMBER, "fengsel-overfort"),
        "other": _worker(django_user_model, agencies["nav"], Role.MEMBER, "nav-overfort"),
        "coordinator": _worker(django_user_model, agencies["housing"], Role.COORDINATOR, "bolig-overfort"),
    }


def _forms(days: int, next_days: int) -> dict:
    return {
        **FORMS,
        "warn.schema.json": {"type": "object", "properties": {"trussel": {**SAFETY, "x-valid-days": days}}},
        "next_start.schema.json": {
            "type": "object",
            "properties": {"trussel_tidligere": {**SAFETY, "x-inherit": ["trussel"], "x-valid-days": next_days}},
        },
    }


def _carried(people, agencies, *, days, next_days, recorded_days_ago):
    forms = _forms(days, next_days)
    deploy_definition(actor=None, bpmn_xml=_model("Proc_carry"), forms=forms, check_permission=False)
    deploy_definition(
        actor=None, bpmn_xml=_model("Proc_carry_next", "next_start.schema.json"), forms=forms, check_permission=False
    )
    case = services.start_case(
        actor=people["coordinator"],
        process_key="Proc_carry",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
    )
    task = Task.objects.get(case=case, element_id="T_warn")
    services.complete_task(actor=people["recorder"], task_id=task.pk, data={"trussel": WARNING})
    recorded = timezone.now() - datetime.timedelta(days=recorded_days_ago)
    Case.objects.filter(pk=case.pk).update(data_recorded_at={"trussel": recorded.isoformat()})
    result = services.start_follow_on(actor=people["coordinator"], case=case.pk, process_key="Proc_carry_next")
    assert "trussel_tidligere" not in result.withheld
    return case, result.case, policy.lapses_on(recorded, days)


def _safety(user, case):
    answer = api(user).get(reverse("api-case", args=[case.pk]))
    assert answer.status_code == 200, answer.content
    return answer.json()["data"]["safety"]


def test_a_carry_into_a_longer_field_does_not_lengthen_the_warning(people, agencies, monkeypatch):
    _earlier, new_case, lapses = _carried(people, agencies, days=30, next_days=3650, recorded_days_ago=20)

    shown = _safety(people["other"], new_case)
    assert shown["values"] == {"trussel_tidligere": WARNING}
    assert shown["valid_until"] == {"trussel_tidligere": str(lapses - datetime.timedelta(days=1))}

    # Fifteen days on, past the 30 days it had where it was recorded: lapsed in the new case too.
    later = timezone.now() + datetime.timedelta(days=15)
    monkeypatch.setattr(timezone, "now", lambda: later)
    shown = _safety(people["other"], new_case)
    assert shown["values"] == {}
    assert shown["lapsed"] == {"trussel_tidligere": str(lapses)}
    assert _safety(people["recorder"], new_case)["values"] == {"trussel_tidligere": WARNING}


def test_the_earlier_of_the_two_dates_holds_across_summer_time():
    """The start moved back in Oslo calendar days: the lapse date is the earlier case's exactly,
    whatever summer time does between (23:30 UTC on 30 December is 00:30 on 31 December in Oslo;
    moved back into summer it must stay a 00:30 there, not become 01:30 or 23:30)."""
    for text in ("2026-12-30T23:30:00+00:00", "2026-06-30T22:30:00+00:00", "2026-10-25T00:30:00+00:00"):
        moment = datetime.datetime.fromisoformat(text)
        for days, longer in ((30, 3650), (1, 200), (100, 101)):
            start = policy.carried_warning_start(moment, days, longer)
            assert policy.lapses_on(start, longer) == policy.lapses_on(moment, days), (text, days, longer)
        assert policy.carried_warning_start(moment, 30, 30) == moment
        assert policy.carried_warning_start(moment, 30, 10) == moment
