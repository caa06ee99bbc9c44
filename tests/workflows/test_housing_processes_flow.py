"""The housing-work processes of issue 15 through the services, as the demo cast works them.

Each case is started by the agency that would start it, every task is completed by a
user of the agency its lane names (bjorn housing, nils NAV, helga health, mona the
municipality's allocation office), and every case ends with the outcome recorded in its
structured columns.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.clock import Clock
from workflows import selectors, services
from workflows.models import CaseOutcome, CaseStatus, Event, EventKind, Task
from workflows.services import record_consent

from .helpers import PERSON, form_data, open_tasks

LANE_USER = {"Boligkontakt": "bjorn", "NAV": "nils", "Helse": "helga", "Kommune": "mona"}
LANE_KIND = {"Boligkontakt": "housing", "NAV": "nav", "Helse": "health", "Kommune": "municipality"}


def start(users, agencies, process_key, starter, kinds, data=None):
    return services.start_case(
        actor=users[starter],
        process_key=process_key,
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in kinds},
        data=data,
    )


def work(case, users, expected, overrides=None):
    """Complete the open tasks, which must be exactly ``expected`` (element id -> lane),
    each as the demo user of its lane's agency; an override of None leaves the field out."""
    tasks = open_tasks(case)
    assert {t.element_id: t.lane for t in tasks} == expected
    for task in tasks:
        assert task.agency.kind == LANE_KIND[task.lane]
        data = {name: value for name, value in form_data(task, overrides).items() if value is not None}
        services.complete_task(actor=users[LANE_USER[task.lane]], task_id=task.pk, data=data)


def assert_closed_with(case, kind, tenure=""):
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    outcome = CaseOutcome.objects.get(case=case)
    assert (outcome.kind.code, outcome.tenure) == (kind, tenure)
    assert outcome.closed_date == timezone.localdate(case.closed_at)
    assert outcome.recorded_by.username == "bjorn" and outcome.recorded_by_agency.kind == "housing"
    assert Event.objects.filter(case=case, kind=EventKind.CASE_COMPLETED).count() == 1
    assert not Task.objects.filter(case=case, status__in=["open", "claimed"]).exists()
    return outcome


# ------------------------------------------------------------------ Henvendelse om bolig


def test_a_referral_from_nav_ends_in_an_owned_home_with_startlan(shipped, users, agencies, consent_basis):
    case = start(users, agencies, "housing_referral", "nils", ("housing", "nav", "municipality"))
    referral_date = date.today().isoformat()
    work(
        case, users, {"Task_register_referral": "Boligkontakt"}, {"referred_by": "nav", "referral_date": referral_date}
    )
    work(case, users, {"Task_needs_assessment": "Boligkontakt"})
    work(case, users, {"Task_economy_assessment": "NAV"}, {"monthly_income": 23000, "startlan_candidate": True})
    work(case, users, {"Task_choose_path": "Boligkontakt"}, {"housing_path": "eid_med_startlan"})
    work(case, users, {"Task_apply_startlan": "Boligkontakt"}, {"startlan_amount_applied": 2_400_000})

    # The municipality decides; without the person's consent it sees only what it writes.
    (decision,) = open_tasks(case)
    mona = users["mona"]
    seen = selectors.task_view_for(mona, decision.pk).case_data
    assert seen["economy"].visible is False and "tildelingskontor" in seen["economy"].reason
    record_consent(
        actor=users["bjorn"],
        case=case,
        agency=agencies["municipality"],
        categories=["housing", "economy"],
        purpose="Søknad om startlån og tilskudd",
        legal_basis=consent_basis,
    )
    seen = selectors.task_view_for(mona, decision.pk).case_data
    assert seen["economy"].values["startlan_amount_applied"] == 2_400_000
    work(
        case,
        users,
        {"Task_decide_startlan": "Kommune"},
        {"startlan_granted": True, "startlan_amount_granted": 2_400_000},
    )

    work(
        case, users, {"Task_viewing_contract": "Boligkontakt"}, {"home_secured": True, "apply_housing_allowance": True}
    )
    work(case, users, {"Task_decide_housing_allowance": "Kommune"}, {"housing_allowance_granted": True})
    moved_in = (date.today() + timedelta(days=30)).isoformat()
    work(
        case,
        users,
        {"Task_record_outcome": "Boligkontakt"},
        {
            "outcome": "bosatt",
            "outcome_tenure": "eid_med_startlan",
            "outcome_housed_date": moved_in,
            "outcome_referral_date": referral_date,
            "outcome_reason": "",
        },
    )
    outcome = assert_closed_with(case, "bosatt", "eid_med_startlan")
    assert (outcome.referral_date.isoformat(), outcome.housed_date.isoformat()) == (referral_date, moved_in)
    handoffs = {(e.from_agency.kind, e.to_agency.kind) for e in Event.objects.filter(case=case, kind="handoff")}
    assert {
        ("housing", "nav"),
        ("nav", "housing"),
        ("housing", "municipality"),
        ("municipality", "housing"),
    } <= handoffs


def test_a_referral_refused_a_home_is_closed_as_not_housed_with_the_reason(shipped, users, agencies):
    case = start(users, agencies, "housing_referral", "bjorn", ("housing", "nav", "municipality"))
    work(case, users, {"Task_register_referral": "Boligkontakt"}, {"referred_by": "personen_selv"})
    work(case, users, {"Task_needs_assessment": "Boligkontakt"})
    work(case, users, {"Task_economy_assessment": "NAV"})
    work(case, users, {"Task_choose_path": "Boligkontakt"}, {"housing_path": "kommunal_utleiebolig"})
    work(case, users, {"Task_apply_municipal": "Boligkontakt"})
    work(case, users, {"Task_decide_municipal": "Kommune"}, {"municipal_housing_granted": False})
    work(case, users, {"Task_viewing_contract": "Boligkontakt"}, {"home_secured": False})
    work(
        case,
        users,
        {"Task_record_outcome": "Boligkontakt"},
        {
            "outcome": "ikke_bosatt",
            "outcome_reason": "Står på venteliste for kommunal bolig",
            "outcome_tenure": None,
            "outcome_housed_date": None,
            "outcome_referral_date": None,
        },
    )
    outcome = assert_closed_with(case, "ikke_bosatt")
    assert outcome.reason == "Står på venteliste for kommunal bolig" and outcome.housed_date is None
    assert outcome.referral_date == timezone.localdate(case.opened_at)


# ------------------------------------------------------- Etablering og oppfølging i bolig


def test_settling_in_with_visits_an_arrears_warning_and_the_home_kept(shipped, users, agencies, monkeypatch):
    oslo = ZoneInfo("Europe/Oslo")
    clock = Clock(monkeypatch, datetime(2027, 3, 10, 15, 0, tzinfo=oslo))  # a Wednesday afternoon
    case = start(users, agencies, "settling_in", "bjorn", ("housing", "nav", "health"))
    work(case, users, {"Task_plan_move_in": "Boligkontakt"})
    work(case, users, {"Task_furniture_support": "NAV", "Task_home_services": "Helse", "Task_move_in": "Boligkontakt"})
    work(case, users, {"Task_follow_up_plan": "Boligkontakt"}, {"visit_interval": "P2W", "visit_count": 2})
    assert open_tasks(case) == []
    instance = case.instances.get()
    # A fortnight on, in the morning (timers due in days fall due at 09:00 Oslo time).
    assert instance.next_timer_at == datetime(2027, 3, 24, 9, 0, tzinfo=oslo)

    # NAV reports rent arrears during the follow-up: NAV's task, then the housing contact's.
    result = services.correlate_message(
        actor=users["nils"],
        name="rent_arrears_reported",
        case_reference=case.reference,
        payload={"arrears_amount": 9800},
        message_id="nav-restanse-1",
    )
    assert result.element_ids == ["BoundaryEvent_rent_arrears"]
    work(
        case,
        users,
        {"Task_arrears_plan": "NAV"},
        {"arrears_amount": 9800, "arrears_covered": False, "arrears_payment_plan": False},
    )
    work(case, users, {"Task_arrears_risk": "Boligkontakt"})

    # The visits, a fortnight apart at 09:00, fired by the timer job as the worker does.
    for due in (datetime(2027, 3, 24, 9, 0, tzinfo=oslo), datetime(2027, 4, 7, 9, 0, tzinfo=oslo)):
        instance.refresh_from_db()
        assert instance.next_timer_at == due
        clock.set(due + timedelta(seconds=1))
        assert services.fire_timer("test")[0] == "fired"
        work(case, users, {"Task_follow_up_visit": "Boligkontakt"})
    work(
        case,
        users,
        {"Task_record_outcome": "Boligkontakt"},
        {
            "outcome": "bolig_beholdt",
            "outcome_tenure": "kommunal_utleiebolig",
            "outcome_housed_date": None,
        },
    )
    assert_closed_with(case, "bolig_beholdt", "kommunal_utleiebolig")
    assert Event.objects.filter(case=case, kind=EventKind.TIMER_FIRED, element_id="Event_visit_cycle").count() == 2
    assert Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).count() == 1


def test_a_complaint_before_the_follow_up_starts_waits_for_nothing(shipped, users, agencies):
    case = start(users, agencies, "settling_in", "bjorn", ("housing", "nav", "health"))
    from core.errors import NotFound

    with pytest.raises(NotFound):
        services.correlate_message(
            actor=users["bjorn"], name="tenancy_complaint_reported", case_reference=case.reference, payload={}
        )


# ----------------------------------------------------------------- Forebygging av utkastelse


def test_eviction_prevention_with_a_new_date_ends_evicted_with_emergency_housing(shipped, users, agencies):
    case = start(users, agencies, "eviction_prevention", "nils", ("housing", "nav", "health"))
    eviction_date = date.today() + timedelta(days=30)
    work(
        case,
        users,
        {"Task_register_notice": "Boligkontakt"},
        {
            "notice_from": "namsfogd",
            "eviction_date": eviction_date.isoformat(),
            "arrears_total": 31000,
        },
    )
    work(case, users, {"Task_assess_arrears": "NAV", "Task_assess_follow_up": "Helse"}, {"nav_covers_arrears": False})
    instance = case.instances.get()
    week_before = datetime.combine(
        eviction_date - timedelta(days=7), datetime.min.time().replace(hour=9), tzinfo=timezone.get_default_timezone()
    )
    assert instance.next_timer_at == week_before

    # The enforcement officer moves the date: NAV passes it on, the deadline follows.
    later = eviction_date + timedelta(days=14)
    services.correlate_message(
        actor=users["nils"],
        name="eviction_date_changed",
        case_reference=case.reference,
        payload={"eviction_date": later.isoformat()},
    )
    instance.refresh_from_db()
    assert instance.next_timer_at == week_before + timedelta(days=14)
    work(
        case,
        users,
        {"Task_negotiate": "Boligkontakt", "Task_adjust_plan": "Boligkontakt"},
        {"agreement_reached": False},
    )
    work(case, users, {"Task_find_other_home": "Boligkontakt"}, {"other_home_found": False})
    work(case, users, {"Task_emergency_housing": "NAV"}, {"emergency_housing_arranged": True})
    work(
        case,
        users,
        {"Task_record_outcome": "Boligkontakt"},
        {
            "outcome": "utkastet",
            "outcome_tenure": None,
            "outcome_housed_date": None,
        },
    )
    assert_closed_with(case, "utkastet")
    case.refresh_from_db()
    assert case.data["eviction_date"] == later.isoformat()
    assert case.data_sources["eviction_date"] == agencies["nav"].pk


def test_eviction_prevented_keeps_the_home(shipped, users, agencies):
    case = start(users, agencies, "eviction_prevention", "bjorn", ("housing", "nav", "health"))
    work(
        case,
        users,
        {"Task_register_notice": "Boligkontakt"},
        {"eviction_date": (date.today() + timedelta(days=20)).isoformat()},
    )
    work(case, users, {"Task_assess_arrears": "NAV", "Task_assess_follow_up": "Helse"}, {"nav_covers_arrears": True})
    work(case, users, {"Task_negotiate": "Boligkontakt"}, {"agreement_reached": True})
    work(
        case,
        users,
        {"Task_record_outcome": "Boligkontakt"},
        {
            "outcome": "bolig_beholdt",
            "outcome_tenure": "privat_leie",
            "outcome_housed_date": None,
        },
    )
    assert_closed_with(case, "bolig_beholdt", "privat_leie")


def test_each_process_lists_for_the_agencies_that_start_it(shipped, users):
    keys = {d.key for d in selectors.process_definitions_for(users["mona"])}
    assert {"housing_referral", "settling_in", "eviction_prevention"} <= keys
