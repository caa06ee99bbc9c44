"""Two person rows that are one person: the coordinator asks for the national id another
person row holds, the auditor confirms it, then merges the two (or refuses). Everything that
named the old row moves to the holder, the access log included (its trigger allows exactly
that), and the coordinator reads the same steps as for a number nobody holds."""

import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from permissions.models import AccessAction, AccessLog, Consent
from retention.models import Correction, CorrectionStatus, ErasureRecord
from retention.pseudonyms import person_key
from tests.threads import all_at_once
from tests.workflows.helpers import start_prison_case
from workflows.models import Case, CaseStatus, Event, EventKind, Person

from .helpers import NATIONAL_ID, PERSON, api, archived, erase
from .test_requests import correct, review

pytestmark = pytest.mark.postgres

HOLDER = {"name": "Torleif E. Eriksrud", "national_id": "29822099635"}  # synthetic (domain.md)


def merge(user, correction_id, decision=True, note=""):
    body = {"merge": decision, "note": note}
    return api(user).post(f"/api/v1/corrections/{correction_id}/merge/", body, format="json")


def coordinator_reads(users, case):
    """What the case's coordinator can read of the correction: its statuses, and the
    review rows of the case's access log."""
    statuses = [
        c["status"] for c in api(users["bjorn"]).get(f"/api/v1/cases/{case.pk}/retention/").json()["corrections"]
    ]
    reviews = AccessLog.objects.filter(case=case, basis="correction", action=AccessAction.REVIEW).count()
    return statuses, reviews


@pytest.fixture
def held(closed_case, users, agencies):
    """The closed case's person asked to take a number another person row holds, confirmed
    by the auditor: (correction id, the holder, the holder's own case)."""
    holder_case = start_prison_case(users, agencies, person=HOLDER)
    asked = correct(users["bjorn"], closed_case, "person.national_id", HOLDER["national_id"]).json()
    assert review(users["aud"], asked["id"]).json()["status"] == "merge"
    return asked["id"], Person.objects.get(national_id=HOLDER["national_id"]), holder_case


def test_the_auditor_merges_the_two_persons_and_everything_moves(held, closed_case, users, agencies):
    correction_id, holder, holder_case = held
    merged = closed_case.person
    other_case = start_prison_case(users, agencies, person=PERSON)  # the same person row, another case
    erased_case = start_prison_case(users, agencies, person=PERSON)
    Case.objects.filter(pk=erased_case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    archived(erased_case)
    assert erase(users["bjorn"], erased_case).status_code == 201
    old_key, new_key = person_key(NATIONAL_ID), person_key(HOLDER["national_id"])
    erased_rows = AccessLog.objects.filter(case=erased_case).count()
    assert erased_rows and AccessLog.objects.filter(case=erased_case, person_key=old_key).count() == erased_rows
    person_rows = AccessLog.objects.filter(person=merged).count()
    assert person_rows
    consents = Consent.objects.filter(person=merged).count()

    answer = merge(users["aud"], correction_id, note="Samme person; sjekket pass")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "done"

    assert not Person.objects.filter(pk=merged.pk).exists()
    for case in (closed_case, other_case):
        assert Case.objects.get(pk=case.pk).person_id == holder.pk
    assert Case.objects.get(pk=holder_case.pk).person_id == holder.pk
    assert Person.objects.get(pk=holder.pk).national_id == HOLDER["national_id"]
    assert Consent.objects.filter(person=holder).count() >= consents
    assert AccessLog.objects.filter(person_id=merged.pk).count() == 0
    assert AccessLog.objects.filter(person=holder, case__in=[closed_case, other_case]).count() >= person_rows
    # the erased case's rows and record answer to the holder's number now: the person's
    # access report, asked for by their number, still finds them
    assert AccessLog.objects.filter(case=erased_case, person_key=new_key).count() == erased_rows
    assert not AccessLog.objects.filter(person_key=old_key).exists()
    assert ErasureRecord.objects.get(case=erased_case).person_key == new_key

    correction = Correction.objects.get(pk=correction_id)
    assert (correction.status, correction.old_value, correction.new_value) == ("done", NATIONAL_ID, None)
    assert correction.review_note == "Samme person; sjekket pass"
    event = Event.objects.get(case=closed_case, kind=EventKind.VALUE_CORRECTED)
    # read as a plain change reads: no count of the person's cases, which would tell of cases elsewhere
    assert event.detail == {"field": "person.national_id", "correction": correction_id}
    assert coordinator_reads(users, closed_case) == (["done"], 1)
    assert merge(users["aud"], correction_id).status_code == 409  # decided once


def test_the_coordinator_reads_a_held_number_as_a_free_one_until_the_merge(closed_case, users, agencies):
    # Attack: the coordinator probes whether someone is a client of these services by asking
    # for their number, then watching the correction and the case's access log.
    Person.objects.create(**HOLDER)
    free_case = start_prison_case(users, agencies, person={"name": "Tredje Person", "national_id": "57912075186"})
    taken = correct(users["bjorn"], closed_case, "person.national_id", HOLDER["national_id"]).json()
    free = correct(users["bjorn"], free_case, "person.national_id", "05840399895").json()
    # before any decision both read alike
    assert coordinator_reads(users, closed_case) == coordinator_reads(users, free_case) == (["waiting"], 0)
    assert review(users["aud"], taken["id"]).json()["status"] == "merge"
    # the auditor's first decision moved nothing the coordinator reads: still waiting, and no
    # review row in the case's log (it is logged about the holder, whose report shows it)
    assert coordinator_reads(users, closed_case) == (["waiting"], 0)
    holder_row = AccessLog.objects.get(basis="correction", action=AccessAction.REVIEW, case=None)
    assert (holder_row.person.national_id, holder_row.username) == (HOLDER["national_id"], "aud")
    # the final decisions read alike: a review row and "done"
    assert review(users["aud"], free["id"]).json()["status"] == "done"
    assert merge(users["aud"], taken["id"]).json()["status"] == "done"
    assert coordinator_reads(users, closed_case) == coordinator_reads(users, free_case) == (["done"], 1)
    assert HOLDER["national_id"] not in json.dumps(
        api(users["bjorn"]).get(f"/api/v1/cases/{closed_case.pk}/retention/").json()
    )


def test_the_auditor_refuses_the_merge_and_nothing_moves(held, closed_case, users):
    correction_id, holder, _holder_case = held
    merged_id = closed_case.person_id
    answer = merge(users["aud"], correction_id, decision=False, note="Ikke samme person")
    assert answer.status_code == 200 and answer.json()["status"] == "refused"
    assert Person.objects.get(pk=merged_id).national_id == NATIONAL_ID
    assert Case.objects.get(pk=closed_case.pk).person_id == merged_id
    assert Person.objects.filter(pk=holder.pk).exists()
    assert coordinator_reads(users, closed_case) == (["refused"], 1)
    # refused: the coordinator may ask again
    assert correct(users["bjorn"], closed_case, "person.national_id", "05840399895").status_code == 201


def test_only_the_coordinating_agency_s_auditor_merges(held, users):
    correction_id, _holder, _holder_case = held
    for username in ("bjorn", "kari", "nils", "ada"):
        assert merge(users[username], correction_id).status_code == 404
    assert merge(users["aud"], 987654).status_code == 404
    bad = merge(users["aud"], correction_id, decision="kanskje")
    assert bad.status_code == 400 and [e["field"] for e in bad.json()["errors"]] == ["merge"]
    assert Correction.objects.get(pk=correction_id).status == CorrectionStatus.MERGE


def test_a_correction_that_waits_or_was_done_is_not_merged(closed_case, users):
    asked = correct(users["bjorn"], closed_case, "person.national_id", "05840399895").json()
    assert merge(users["aud"], asked["id"]).status_code == 409  # not reviewed yet
    assert review(users["aud"], asked["id"]).json()["status"] == "done"
    assert merge(users["aud"], asked["id"]).status_code == 409


def test_the_access_log_takes_only_the_merge_it_was_told_of(held, closed_case):
    """The trigger lets a merge move a row's person or key, nothing else, and only the pair
    the transaction named."""
    _correction_id, holder, _holder_case = held
    row = AccessLog.objects.filter(person=closed_case.person).first()
    stranger = Person.objects.create(name="Ukjent", national_id="05840399895")

    def attempt(setting, **changes):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('brobygger.person_merge', %s, true)", [setting])
            QuerySet.update(AccessLog.objects.filter(pk=row.pk), **changes)  # past the model's guard

    keys = f"{person_key(NATIONAL_ID)} {person_key(HOLDER['national_id'])}"
    attempt("", person_id=holder.pk)  # no merge named
    attempt(f"{closed_case.person_id} {holder.pk} {keys}", person_id=stranger.pk)  # another person
    attempt(f"{closed_case.person_id} {holder.pk} {keys}", person_id=holder.pk, item="endret")  # more
    assert AccessLog.objects.get(pk=row.pk).person_id == closed_case.person_id
    # a pseudonymised row keeps its key unless it is the merged number's
    assert AccessLog.objects.filter(pk=row.pk).pseudonymise("nokkel-en") == 1
    attempt(f"{closed_case.person_id} {holder.pk} {keys}", person_key="nokkel-to")
    assert AccessLog.objects.get(pk=row.pk).person_key == "nokkel-en"


@pytest.mark.django_db(transaction=True)
def test_two_decisions_at_once_one_wins(held, closed_case, users):
    correction_id, _holder, _holder_case = held
    outcomes = all_at_once(
        [lambda: merge(users["aud"], correction_id), lambda: merge(users["aud"], correction_id, False)]
    )
    assert sorted(answer.status_code for answer in outcomes) == [200, 409]
    status = Correction.objects.get(pk=correction_id).status
    assert status in ("done", "refused")
    assert Person.objects.filter(national_id=NATIONAL_ID).exists() == (status == "refused")


@pytest.mark.django_db(transaction=True)
def test_a_merge_meets_the_erasure_of_the_holder_s_last_case(held, closed_case, users):
    """The holder's only case is erased while the auditor merges: whichever comes first, the
    number ends with the case's person and no row is lost or doubled."""
    correction_id, _holder, holder_case = held
    Case.objects.filter(pk=holder_case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    archived(holder_case)
    merged_answer, erased_answer = all_at_once(
        [lambda: merge(users["aud"], correction_id), lambda: erase(users["bjorn"], holder_case)]
    )
    assert merged_answer.status_code == 200, merged_answer.json()
    assert erased_answer.status_code == 201, erased_answer.json()
    person = Case.objects.get(pk=closed_case.pk).person
    assert person.national_id == HOLDER["national_id"]
    assert Person.objects.filter(national_id=HOLDER["national_id"]).count() == 1
    assert not Person.objects.filter(national_id=NATIONAL_ID).exists()
