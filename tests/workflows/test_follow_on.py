"""One person, one path: a follow-on case carries what its start form inherits, re-checks
consent for the new participants, and the person page lists the path under the rules."""

import pytest

from core.errors import Forbidden, InvalidInput, NotFound
from permissions.models import AccessLog
from workflows import selectors, services
from workflows.models import CaseStatus, Event, EventKind

from .helpers import PERSON, open_tasks, run_to_end

REFERRAL_KINDS = ("housing", "nav", "municipality")


def finished_referral(users, agencies, *, economy_notes: str | None = "Husleie trekkes fra trygden"):
    """A referral that ended in a municipal rental with a follow-up need (and NAV's economy
    notes, unless ``economy_notes`` is None)."""
    case = services.start_case(
        actor=users["bjorn"],
        process_key="housing_referral",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in REFERRAL_KINDS},
    )
    data = {
        "housing_path": "kommunal_utleiebolig",
        "municipal_housing_granted": True,
        "home_secured": True,
        "new_home_address": "Storgata 1, 1706 Sarpsborg",
        "follow_up_need": "tett",
        "outcome": "bosatt",
        "outcome_tenure": "kommunal_utleiebolig",
        "outcome_housed_date": "2030-01-01",
        "outcome_referral_date": "2029-12-01",
    }
    if economy_notes is not None:
        data["referral_economy_notes"] = economy_notes
    run_to_end(case, data)
    case.refresh_from_db()
    return case


@pytest.fixture
def referral(shipped, users, agencies):
    """A referral that ended in a municipal rental, with NAV's economy notes and a follow-up need."""
    case = finished_referral(users, agencies)
    assert case.status == CaseStatus.COMPLETED
    return case


def follow_on(users, referral, actor="bjorn", **kwargs):
    """Settling in needs the health service, which the referral did not have."""
    from permissions.models import Agency

    health = Agency.objects.get(kind="health")
    return services.start_follow_on(
        actor=users[actor], case=referral.pk, process_key="settling_in", participants={"health": health.pk}, **kwargs
    )


def test_without_consent_only_what_every_new_participant_sees_is_carried(referral, users):
    result = follow_on(users, referral)
    new = result.case
    assert new.person_id == referral.person_id and new.follows_id == referral.pk
    assert {p.kind for p in new.participants.all()} == {"housing", "nav", "health"}
    # Coordination is open to every participant; housing is not NAV's or health's to see,
    # economy not health's: the person never consented to that.
    assert new.data == {"previous_follow_up_need": "tett"}
    assert result.withheld == ["previous_economy", "previous_moved_in", "settling_home_address", "settling_tenure"]
    assert not new.consents.exists()
    assert Event.objects.filter(case=referral, kind=EventKind.FOLLOW_ON_STARTED).count() == 1
    export = AccessLog.objects.filter(case=referral, action="export")
    assert export.exists() and set(export.values_list("user__username", flat=True)) == {"bjorn"}


def test_consent_now_carries_the_category_and_is_recorded_for_those_who_lacked_it(
    referral, users, agencies, consent_basis
):
    # NAV already had the person's consent to housing data in the referral; health is new.
    services.record_consent(
        actor=users["bjorn"],
        case=referral,
        agency=agencies["nav"],
        categories=["housing"],
        purpose="Bolig",
        legal_basis=consent_basis,
    )
    result = follow_on(users, referral, consent_categories=["housing"])
    new = result.case
    assert new.data["settling_home_address"] == "Storgata 1, 1706 Sarpsborg"
    assert new.data["settling_tenure"] == "kommunal_utleiebolig"
    assert result.withheld == ["previous_economy"]
    (consent,) = new.consents.all()
    assert (consent.agency, consent.categories) == (agencies["health"], ["housing"])
    # Health now reads the address in the new case, on that consent.
    seen = selectors.case_view_for(users["helga"], new.pk).data["housing"]
    assert seen.visible and seen.values["settling_home_address"] == "Storgata 1, 1706 Sarpsborg"


def test_bad_consent_categories_are_refused(referral, users):
    with pytest.raises(InvalidInput) as refused:
        follow_on(users, referral, consent_categories=["everything"])
    assert refused.value.errors[0]["field"] == "consent_categories"
    assert referral.follow_ons.count() == 0


def test_only_a_housing_contact_starts_a_follow_on(referral, users):
    for participant in ("nils", "nora", "mona"):
        with pytest.raises(Forbidden):
            follow_on(users, referral, participant)
    for outsider in ("kari", "helga", "siri", "ada", "aud", "oscar"):
        with pytest.raises(NotFound):
            follow_on(users, referral, outsider)
    with pytest.raises(InvalidInput) as refused:  # a process that inherits nothing
        services.start_follow_on(actor=users["bjorn"], case=referral.pk, process_key="housing_referral")
    assert refused.value.errors[0]["field"] == "process_key"


def test_the_person_page_lists_the_path_each_reader_may_see(referral, users):
    new = follow_on(users, referral).case
    path = selectors.person_path_for(users["bjorn"], referral.person_id)
    assert [c.pk for c in path.cases] == [referral.pk, new.pk]
    assert path.national_id != PERSON["national_id"]  # masked
    assert AccessLog.objects.filter(user=users["bjorn"], item="person").count() == 2
    # Health takes part only in the new case; the municipality only in the referral.
    assert [c.pk for c in selectors.person_path_for(users["helga"], referral.person_id).cases] == [new.pk]
    assert [c.pk for c in selectors.person_path_for(users["mona"], referral.person_id).cases] == [referral.pk]
    for outsider in ("kari", "siri", "ada", "aud", "oscar"):
        with pytest.raises(NotFound):
            selectors.person_path_for(users[outsider], referral.person_id)
    with pytest.raises(NotFound):
        selectors.person_path_for(users["bjorn"], "x")


def test_the_new_case_works_like_any_other(referral, users):
    new = follow_on(users, referral).case
    (plan,) = open_tasks(new)
    assert plan.element_id == "Task_plan_move_in"


def test_a_carried_value_stays_the_writing_agencys_and_opens_nothing_to_the_starter(
    users, agencies, shipped, consent_basis
):
    # The health service's treatment plan, shared with the housing contact by consent in the
    # prison case, is carried into settling in. It stays the health service's value there:
    # it was once recorded as the starter's own, so the housing contact read it in the new
    # case on "own data" without any consent there, still after the person withdrew the one
    # they gave, and could correct it as its recorder.
    from tests.workflows.helpers import start_prison_case

    source = start_prison_case(users, agencies)
    source.data = {**source.data, "treatment_plan": "LAR, oppfølging hver uke"}
    source.data_sources = {**source.data_sources, "treatment_plan": agencies["health"].pk}
    source.save(update_fields=["data", "data_sources"])
    consent = services.record_consent(
        actor=users["helga"],
        case=source,
        agency=agencies["housing"],
        categories=["health"],
        purpose="Oppfølging etter løslatelse",
        legal_basis=consent_basis,
    )
    result = services.start_follow_on(
        actor=users["bjorn"], case=source.pk, process_key="settling_in", consent_categories=["health"]
    )
    new = result.case
    new.refresh_from_db()
    assert new.data["previous_health_follow_up"] == "LAR, oppfølging hver uke"
    assert new.data_sources["previous_health_follow_up"] == agencies["health"].pk
    services.revoke_consent(actor=users["bjorn"], consent_id=consent.pk)

    health = selectors.case_view_for(users["bjorn"], new.pk).data["health"]
    assert "previous_health_follow_up" not in health.values
    own = selectors.case_view_for(users["helga"], new.pk).data["health"]
    assert own.values["previous_health_follow_up"] == "LAR, oppfølging hver uke"
    assert not AccessLog.objects.filter(case=new, user=users["bjorn"], category="health").exists()
