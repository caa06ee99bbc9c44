"""A national id corrected in one agency's case does not change another agency's cases.

One person row serves every case with its national id, so a starter who types a number on
file (a typo that hits someone else, or on purpose) shares that row with the cases of other
agencies. Correcting the number in their case then changed the row: the other agencies'
cases of the person took the new number (or, merged, moved to another person), with no
correction of theirs and no event in their case, and their readers saw the number change and
so learned that the person is in a case elsewhere. The cases of the agency that asked move
to the person with the new number; the other agencies' cases keep theirs, as a corrected
name does (``retention.services._correct_person``)."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from permissions.models import AccessLog, Agency, AgencyKind, Consent, Membership, Role
from tests.workflows.helpers import PRISON_PARTICIPANTS, start_prison_case
from workflows import services
from workflows.models import Case, CaseStatus, Person

from .helpers import NATIONAL_ID, PERSON, api, archived, erase
from .test_person_merge import HOLDER, merge
from .test_requests import correct, review

pytestmark = pytest.mark.postgres

FREE_NUMBER = "05840399895"  # synthetic (domain.md), held by nobody


@pytest.fixture
def halden(django_user_model, users, agencies):
    """Another housing office, with its coordinator and its auditor, that starts a case for
    the number of the Sarpsborg office's person: (coordinator, auditor, its case)."""
    office = Agency.objects.create(
        name="Boligkontoret Halden", kind=AgencyKind.HOUSING, group=Group.objects.create(name="agency:bolig-halden")
    )
    staff = {}
    for username, role in (("hege", Role.COORDINATOR), ("harald", Role.AUDITOR)):
        user = django_user_model.objects.create_user(username)
        Membership.objects.create(user=user, agency=office, role=role)
        user.groups.add(office.group)
        staff[role] = user
    case = services.start_case(
        actor=users["kari"],
        process_key="prison_release_to_housing",
        person={"name": "Annen Person", "national_id": NATIONAL_ID},
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS} | {"housing": office.pk},
    )
    assert case.coordinator_agency_id == office.pk
    return staff[Role.COORDINATOR], staff[Role.AUDITOR], case


def sarpsborg_reads(users, case):
    """What the Sarpsborg office's coordinator reads of its own case's person."""
    return api(users["bjorn"]).get(f"/api/v1/cases/{case.pk}/").json()["person"]


def test_a_national_id_corrected_by_another_agency_leaves_this_agency_s_case_alone(
    closed_case, halden, users, consent_basis
):
    hege, harald, their_case = halden
    assert their_case.person_id == closed_case.person_id  # the row the number found
    before = sarpsborg_reads(users, closed_case)
    consent = Consent.objects.create(
        person=closed_case.person,
        case=closed_case,
        agency=Agency.objects.get(kind=AgencyKind.NAV),
        categories=["health"],
        purpose="Oppfølging",
        legal_basis=consent_basis,
        recorded_by=users["bjorn"],
    )
    asked = correct(hege, their_case, "person.national_id", FREE_NUMBER).json()
    assert review(harald, asked["id"]).json()["status"] == "done"

    # The Halden office's case has the number it asked for, on a person of its own.
    moved = Case.objects.select_related("person").get(pk=their_case.pk)
    assert moved.person.national_id == FREE_NUMBER and moved.person_id != closed_case.person_id
    assert AccessLog.objects.filter(case=their_case).exclude(person=moved.person).count() == 0
    # The Sarpsborg office's case and what rests on it keep the person and the number.
    kept = Case.objects.select_related("person").get(pk=closed_case.pk)
    assert kept.person.national_id == NATIONAL_ID
    assert Consent.objects.get(pk=consent.pk).person_id == kept.person_id
    assert AccessLog.objects.filter(case=closed_case).exclude(person=kept.person).count() == 0
    assert Person.objects.get(pk=kept.person_id).name == PERSON["name"]
    assert sarpsborg_reads(users, closed_case) == before


def test_a_merge_decided_by_another_agency_moves_only_its_own_cases(closed_case, halden, users, agencies):
    hege, harald, their_case = halden
    start_prison_case(users, agencies, person=HOLDER)
    holder = Person.objects.get(national_id=HOLDER["national_id"])
    person_id = closed_case.person_id
    before = sarpsborg_reads(users, closed_case)
    asked = correct(hege, their_case, "person.national_id", HOLDER["national_id"]).json()
    assert review(harald, asked["id"]).json()["status"] == "merge"
    assert merge(harald, asked["id"]).json()["status"] == "done"

    assert Case.objects.get(pk=their_case.pk).person_id == holder.pk
    assert AccessLog.objects.filter(case=their_case).exclude(person=holder).count() == 0
    # The person row stays for the Sarpsborg office's case, with its number and its name.
    kept = Person.objects.get(pk=person_id)
    assert (kept.national_id, kept.name) == (NATIONAL_ID, PERSON["name"])
    assert Case.objects.get(pk=closed_case.pk).person_id == person_id
    assert AccessLog.objects.filter(case=closed_case).exclude(person_id=person_id).count() == 0
    assert sarpsborg_reads(users, closed_case) == before


def test_the_number_the_person_already_has_is_confirmed_as_it_was(closed_case, halden, users):
    hege, harald, their_case = halden
    asked = correct(hege, their_case, "person.national_id", NATIONAL_ID).json()
    # Not "another person holds it": the person does, in this case and in the other office's.
    assert review(harald, asked["id"]).json()["status"] == "done"
    assert Case.objects.get(pk=their_case.pk).person_id == closed_case.person_id
    assert Person.objects.get(pk=closed_case.person_id).national_id == NATIONAL_ID


def test_a_number_freed_before_the_merge_goes_to_this_agency_s_cases_alone(closed_case, halden, users, agencies):
    hege, harald, their_case = halden
    holder_case = start_prison_case(users, agencies, person=HOLDER)
    asked = correct(hege, their_case, "person.national_id", HOLDER["national_id"]).json()
    assert review(harald, asked["id"]).json()["status"] == "merge"
    # the holder's only case is closed and erased before the auditor merges: the number is free
    Case.objects.filter(pk=holder_case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    archived(holder_case)
    assert erase(users["bjorn"], holder_case).status_code == 201
    assert not Person.objects.filter(national_id=HOLDER["national_id"]).exists()
    before = sarpsborg_reads(users, closed_case)

    assert merge(harald, asked["id"]).json()["status"] == "done"
    moved = Case.objects.select_related("person").get(pk=their_case.pk)
    assert moved.person.national_id == HOLDER["national_id"] and moved.person_id != closed_case.person_id
    assert Person.objects.get(pk=closed_case.person_id).national_id == NATIONAL_ID
    assert sarpsborg_reads(users, closed_case) == before
