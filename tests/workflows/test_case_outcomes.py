"""The outcome of a case (issue 15): what the outcome form demands, and what is recorded.

Decision: a case of a shipped process cannot complete without an outcome, because its
last task is the outcome form and the form requires the kind. A process without an
outcome form (an uploaded model) completes without one; nothing is invented for it.
"""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from core.errors import InvalidInput
from tests.api.conftest import SMALL_FORM, small_model
from workflows import selectors, services
from workflows.models import CaseOutcome, CaseStatus, Job, JobKind, JobStatus, OutcomeKind, Task

from .helpers import complete, open_tasks

HOUSED = {
    "outcome": "bosatt",
    "outcome_tenure": "kommunal_utleiebolig",
    "outcome_housed_date": date.today().isoformat(),
}


@pytest.fixture
def outcome_task(case, users):
    """The prison case on its keep-home branch, at the outcome form."""
    complete(open_tasks(case)[0], {"has_home": True}, actor=users["kari"])
    complete(open_tasks(case)[0], actor=users["nils"])
    (task,) = open_tasks(case)
    assert (task.element_id, task.agency.kind) == ("Task_record_outcome", "housing")
    return task


def close(task, user, data):
    return services.complete_task(actor=user, task_id=task.pk, data=data)


def refused(task, user, data) -> dict[str, str]:
    with pytest.raises(InvalidInput) as error:
        close(task, user, data)
    task.refresh_from_db()
    assert task.status == "open" and not CaseOutcome.objects.filter(case=task.case).exists()
    return {e["field"]: e["message"] for e in error.value.errors}


def test_the_outcome_form_requires_the_kind(outcome_task, users):
    assert refused(outcome_task, users["bjorn"], {}) == {"outcome": "this field is required"}


def test_housed_needs_the_form_of_tenure_and_the_date_moved_in(outcome_task, users):
    assert refused(outcome_task, users["bjorn"], {"outcome": "bosatt"}) == {
        "outcome_tenure": "this field is required",
        "outcome_housed_date": "this field is required",
    }


def test_not_housed_needs_a_reason(outcome_task, users):
    errors = refused(outcome_task, users["bjorn"], {"outcome": "ikke_bosatt", "outcome_reason": "   "})
    assert errors == {"outcome_reason": "this field is required"}


def test_tenure_only_where_the_person_has_a_home(outcome_task, users):
    errors = refused(outcome_task, users["bjorn"], {"outcome": "dod", "outcome_tenure": "privat_leie"})
    assert errors == {"outcome_tenure": "give the form of tenure only for an outcome where the person has a home"}


def test_the_date_moved_in_is_not_before_the_referral(outcome_task, users):
    errors = refused(
        outcome_task,
        users["bjorn"],
        {
            **HOUSED,
            "outcome_referral_date": date.today().isoformat(),
            "outcome_housed_date": (date.today() - timedelta(days=1)).isoformat(),
        },
    )
    assert errors == {"outcome_housed_date": "the date moved in cannot be before the referral date"}


@pytest.mark.parametrize("kind", ["flyttet_helt_bort", "", 7])
def test_an_unknown_kind_is_refused(outcome_task, users, kind):
    errors = refused(outcome_task, users["bjorn"], {"outcome": kind})
    assert set(errors) == {"outcome"}


def test_only_the_housing_contact_records_it(outcome_task, users):
    from core.errors import Forbidden

    with pytest.raises(Forbidden):
        close(outcome_task, users["nils"], HOUSED)
    assert not CaseOutcome.objects.exists()


def test_a_completed_case_has_exactly_one_outcome_with_its_dates(case, outcome_task, users):
    close(outcome_task, users["bjorn"], HOUSED)
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    (outcome,) = CaseOutcome.objects.filter(case=case)
    assert outcome.kind.code == "bosatt" and outcome.kind.has_home
    assert outcome.tenure == "kommunal_utleiebolig"
    assert outcome.housed_date == date.today()
    assert outcome.referral_date == timezone.localdate(case.opened_at)  # not given: the case's opening
    assert outcome.closed_date == timezone.localdate(case.closed_at)
    assert (outcome.recorded_by, outcome.element_id) == (users["bjorn"], "Task_record_outcome")
    # the form's values are case data too (shown and masked as housing data)
    assert case.data["outcome"] == "bosatt"


def test_a_kind_added_by_the_admin_is_offered_and_recorded_and_a_retired_one_is_not(outcome_task, users):
    OutcomeKind.objects.create(code="institusjon", label="Fikk plass i institusjon", needs_reason=True, position=55)
    OutcomeKind.objects.filter(code="samtykke_trukket").update(active=False)
    bjorn = users["bjorn"]
    schema = selectors.task_view_for(bjorn, outcome_task.pk).form_schema
    kind = schema["properties"]["outcome"]
    assert "institusjon" in kind["enum"] and "samtykke_trukket" not in kind["enum"]
    assert kind["x-enum-labels"]["institusjon"] == "Fikk plass i institusjon"
    assert kind["x-enum-labels"]["dod"] == "Død"
    assert kind["enum"].index("institusjon") == kind["enum"].index("utkastet") + 1  # by position

    assert refused(outcome_task, bjorn, {"outcome": "samtykke_trukket"}) == {
        "outcome": "choose one of the outcome kinds in the list"
    }
    assert refused(outcome_task, bjorn, {"outcome": "institusjon"}) == {"outcome_reason": "this field is required"}
    close(outcome_task, bjorn, {"outcome": "institusjon", "outcome_reason": "Langtidsplass i TSB"})
    outcome = CaseOutcome.objects.get(case=outcome_task.case)
    assert (outcome.kind.code, outcome.reason) == ("institusjon", "Langtidsplass i TSB")


def test_the_outcome_of_an_open_case_has_no_closing_date_yet(shipped, users, agencies, monkeypatch):
    """The settling-in process: the outcome form is done while an early warning is still open."""
    case = services.start_case(
        actor=users["bjorn"],
        process_key="settling_in",
        person={"name": "Ola Nordmann", "national_id": "17912099997"},
        participants={kind: agencies[kind].pk for kind in ("housing", "nav", "health")},
    )
    for _ in range(3):
        for task in open_tasks(case):
            complete(task, {"visit_count": 1, "visit_interval": "P1W"})
    services.correlate_message(
        actor=users["nils"], name="rent_arrears_reported", case_reference=case.reference, payload={}
    )
    from tests.clock import Clock

    clock = Clock(monkeypatch, timezone.now())
    # The weekly visit falls due at 09:00 on a working day (``bpmn.engine.working_hours``):
    # started on a Friday night, a Monday nine days on; started on a Monday at 09:41, the next
    # Monday at 09:00, 6 days 23 hours on. Eight days on failed on Saturdays, seven on Mondays.
    timer = Job.objects.get(case=case, kind=JobKind.TIMER, status=JobStatus.PENDING)
    assert timedelta(days=6) <= timer.due_at - timezone.now() < timedelta(days=12)
    clock.set(timer.due_at + timedelta(minutes=1))
    assert services.fire_timer("test")[0] == "fired"
    (visit,) = [t for t in open_tasks(case) if t.element_id == "Task_follow_up_visit"]
    complete(visit)
    outcome_task = Task.objects.get(case=case, element_id="Task_record_outcome")
    close(outcome_task, users["bjorn"], {"outcome": "bolig_beholdt"})
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN  # NAV's arrears task is still open
    assert CaseOutcome.objects.get(case=case).closed_date is None
    (arrears,) = open_tasks(case)
    complete(arrears, {"arrears_covered": True})
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    assert CaseOutcome.objects.get(case=case).closed_date == timezone.localdate(case.closed_at)


def test_a_process_without_an_outcome_form_completes_without_an_outcome(users, agencies):
    from bpmn.services import deploy_definition

    definition = deploy_definition(
        actor=None, bpmn_xml=small_model(), forms={"small.schema.json": SMALL_FORM}, check_permission=False
    ).definition
    case = services.start_case(
        actor=users["kari"],
        process_key=definition.key,
        person={"name": "Per Hansen", "national_id": "05840399895"},
        participants={"prison": agencies["prison"].pk, "hospital": agencies["hospital"].pk},
    )
    complete(open_tasks(case)[0], {"ready": True}, actor=users["kari"])
    complete(open_tasks(case)[0], {"ready": True}, actor=users["siri"])
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    assert not CaseOutcome.objects.filter(case=case).exists()
