"""Caseload: the responsible housing contact at start, the lead's reassignment and the
caseload counts, with the refusals an attacker meets."""

import pytest

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from permissions.models import Membership, Role
from workflows import selectors, services
from workflows.filters import TaskFilter
from workflows.models import CaseStatus, Event, EventKind, Task

from .helpers import PERSON, open_tasks, run_to_end, start_prison_case

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}


def start_settling(users, agencies, actor="bjorn", **kwargs):
    return services.start_case(
        actor=users[actor],
        process_key="settling_in",
        person=kwargs.pop("person", PERSON),
        participants={kind: agencies[kind].pk for kind in ("housing", "nav", "health")},
        **kwargs,
    )


def test_the_starter_in_housing_is_responsible_else_the_coordinator(shipped, users, agencies):
    assert start_settling(users, agencies, "hanne").responsible == users["hanne"]
    assert start_prison_case(users, agencies, person=OTHER_PERSON).responsible == users["bjorn"]


def test_housing_chooses_a_contact_of_its_own_at_start(shipped, users, agencies):
    assert start_settling(users, agencies, responsible=users["tore"].pk).responsible == users["tore"]
    for outsider in ("nils", "ada", "aud", "oscar"):  # another agency, no case role, nobody
        with pytest.raises(InvalidInput) as refused:
            start_settling(users, agencies, responsible=users[outsider].pk, person=OTHER_PERSON)
        assert refused.value.errors[0]["field"] == "responsible"
    with pytest.raises(InvalidInput) as refused:  # the prison does not pick the housing contact
        start_prison_case(users, agencies, responsible=users["tore"].pk)
    assert refused.value.errors[0]["code"] == "case.responsible_chosen_by_housing"


def test_the_lead_reassigns_and_the_timeline_says_so(shipped, users, agencies):
    case = start_settling(users, agencies)
    services.assign_responsible(actor=users["lise"], case=case.pk, responsible=users["tore"].pk)
    case.refresh_from_db()
    assert case.responsible == users["tore"]
    event = Event.objects.get(case=case, kind=EventKind.RESPONSIBLE_CHANGED)
    assert (event.actor, event.detail) == (users["lise"], {"from_user": users["bjorn"].pk, "to_user": users["tore"].pk})
    services.assign_responsible(actor=users["lise"], case=case.pk, responsible=users["tore"].pk)  # no change
    assert Event.objects.filter(case=case, kind=EventKind.RESPONSIBLE_CHANGED).count() == 1


def test_only_the_housing_lead_reassigns(shipped, users, agencies):
    case = start_settling(users, agencies)
    for participant in ("bjorn", "hanne", "nils", "helga"):  # see the case, may not reassign
        with pytest.raises(Forbidden):
            services.assign_responsible(actor=users[participant], case=case.pk, responsible=users["tore"].pk)
    for outsider in ("kari", "siri", "mona", "ada", "aud", "oscar"):  # do not see it
        with pytest.raises(NotFound):
            services.assign_responsible(actor=users[outsider], case=case.pk, responsible=users["tore"].pk)
    for not_a_contact in ("nils", "ada", "oscar"):
        with pytest.raises(InvalidInput):
            services.assign_responsible(actor=users["lise"], case=case.pk, responsible=users[not_a_contact].pk)
    case.refresh_from_db()
    assert case.responsible == users["bjorn"]


def test_a_lead_of_a_non_participating_agency_sees_nothing(shipped, users, agencies):
    case = start_settling(users, agencies)
    Membership.objects.create(user=users["nils"], agency=agencies["nav"], role=Role.LEAD)
    with pytest.raises(NotFound):  # the lead of NAV is no lead of the housing agency
        services.assign_responsible(actor=users["oscar"], case=case.pk, responsible=users["tore"].pk)
    with pytest.raises(Forbidden):
        services.assign_responsible(actor=users["nils"], case=case.pk, responsible=users["tore"].pk)
    with pytest.raises(Forbidden):
        selectors.caseload_for(users["nils"])


def test_a_closed_case_keeps_its_contact(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    services.complete_task(
        actor=users["kari"],
        task_id=intake.pk,
        data={
            "housing_situation": "leid_bolig",
            "has_home": True,
            "consent_municipality": True,
            "consent_nav": True,
            "expected_release_date": "2027-03-01",
        },
    )
    run_to_end(case, {"outcome": "bolig_beholdt", "outcome_tenure": "privat_leie"})
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    with pytest.raises(Conflict):
        services.assign_responsible(actor=users["lise"], case=case.pk, responsible=users["tore"].pk)


def test_caseload_counts_per_contact_for_the_lead_only(shipped, users, agencies, rf):
    start_settling(users, agencies)  # bjorn
    start_settling(users, agencies, "hanne", person=OTHER_PERSON)
    (load,) = selectors.caseload_for(users["lise"])
    rows = {row.user.username if row.user else None: row for row in load.rows}
    assert set(rows) == {"bjorn", "hanne", "tore", "lise", None}
    assert (rows["bjorn"].open_cases, rows["bjorn"].open_tasks) == (1, 1)
    assert (rows["hanne"].open_cases, rows["tore"].open_cases, rows[None].open_cases) == (1, 0, 0)
    for user in ("bjorn", "hanne", "nils", "kari", "ada", "aud", "oscar"):
        with pytest.raises(Forbidden):
            selectors.caseload_for(users[user])
    # The inbox filter: tasks of the cases the user is responsible for.
    request = rf.get("/")
    request.user = users["hanne"]
    mine = TaskFilter({"responsible": "me"}, Task.objects.all(), request=request).qs
    assert {task.case.responsible_id for task in mine} == {users["hanne"].pk}
    assert mine.count() == 1


def test_the_first_coordinator_is_the_one_the_contacts_query_names(users, agencies):
    """``rules.first_housing_coordinator`` (compiled once, read at every case start) answers what
    ``housing_contacts(...).filter(coordinator).first()`` answers: the first by name, never a
    coordinator of another agency nor a member, and None without one."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from permissions import rules
    from permissions.models import Agency, AgencyKind

    def by_query(agency):
        return (
            rules.housing_contacts(agency)
            .filter(memberships__agency=agency, memberships__role=Role.COORDINATOR)
            .first()
        )

    housing = agencies["housing"]
    other = Agency.objects.create(
        name="Boligkontoret Halden",
        kind=AgencyKind.HOUSING,
        municipality="Halden",
        group=Group.objects.create(name="agency:Boligkontoret Halden"),
    )
    User = get_user_model()
    for agency in (housing, other):
        assert rules.first_housing_coordinator(agency) == by_query(agency)
    aase = User.objects.create_user("aase", first_name="Aase", last_name="Berg")
    Membership.objects.create(user=aase, agency=other, role=Role.MEMBER)
    assert rules.first_housing_coordinator(other) is None is by_query(other)
    Membership.objects.create(user=aase, agency=housing, role=Role.COORDINATOR)
    assert rules.first_housing_coordinator(housing) == by_query(housing) == aase  # before Bjørn by name
    assert rules.first_housing_coordinator(other) is None
    assert rules.first_housing_coordinator(agencies["nav"]) is None is by_query(agencies["nav"])
    assert rules.first_housing_coordinator(None) is None
