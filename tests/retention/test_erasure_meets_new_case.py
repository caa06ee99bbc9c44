"""The retention job erasing a person's last case at the moment a new case of the same person
starts (a person back in prison: the prison starts a case while last time's is erased).

The erasure deletes the person row once no case of theirs is left; the start had found that
row and put its new case on it, not yet committed. The erasure did not see the new case and
deleted the person, and the start failed at its commit on the foreign key: a 500, and the
case the prison started did not exist. Forced: the start waits after it found the person
until the erasure has committed (or waits for it). The start holds the person in its case's
insert (``services.cases._insert_numbered``, ``_held_person_sql``), so the tests wait after it."""

import threading
import time

import pytest
from django.db import connection

from retention.erasure import erase_case
from retention.models import ErasureRecord, ErasureTrigger
from tests.threads import all_at_once
from tests.workflows.helpers import PERSON, complete, open_tasks, start_prison_case
from tests.workflows.test_follow_on import finished_referral, follow_on
from tests.workflows.test_lock_order import _backend_pid
from workflows.models import Case, CaseStatus, Person
from workflows.services import cases as case_services
from workflows.services import follow_on as follow_on_services

from .test_erasure_meets_writers import closed_long_ago

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _blocked(pid) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
        return bool(cursor.fetchone()[0])


def test_a_case_started_while_the_persons_last_case_is_erased(monkeypatch, users, agencies, shipped):
    old = start_prison_case(users, agencies)
    closed_long_ago(old)
    found, erasure_done = threading.Event(), threading.Event()
    eraser: dict = {}
    held_person = case_services._insert_numbered

    def found_then_wait(*args):
        person = held_person(*args)
        found.set()  # the person is found (or made) and held in the case's insert, not committed
        deadline = time.monotonic() + 30
        while not erasure_done.is_set() and time.monotonic() < deadline:
            if "pid" in eraser and _blocked(eraser["pid"]):
                break  # the erasure waits for this start
            time.sleep(0.02)
        return person

    monkeypatch.setattr(case_services, "_insert_numbered", found_then_wait)

    def erase():
        assert found.wait(timeout=30)
        eraser["pid"] = _backend_pid()
        try:
            return erase_case(old.pk, trigger=ErasureTrigger.RETENTION)
        finally:
            erasure_done.set()

    started, erased = all_at_once([lambda: start_prison_case(users, agencies), erase])

    assert isinstance(started, Case), started
    assert isinstance(erased, ErasureRecord), erased
    new = Case.objects.select_related("person").get(pk=started.pk)
    assert new.status == CaseStatus.OPEN and new.person.national_id == PERSON["national_id"]
    old.refresh_from_db()
    assert old.person.national_id != PERSON["national_id"]  # the erased case is on its tombstone
    assert Person.objects.filter(national_id=PERSON["national_id"]).count() == 1


def test_a_case_started_while_the_erasure_deletes_the_person_gets_the_person_anew(
    monkeypatch, users, agencies, shipped
):
    """The other order: the erasure has deleted the person row, not yet committed, when the
    start looks for the person. The start waits, then makes the person again: its case
    stands, and no person row is left without a case."""
    from retention import erasure

    old = start_prison_case(users, agencies)
    closed_long_ago(old)
    deleted = threading.Event()
    starter: dict = {}
    tombstone = erasure._tombstone_person

    def deleted_then_wait(case):
        removed = tombstone(case)
        deleted.set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not ("pid" in starter and _blocked(starter["pid"])):
            time.sleep(0.02)
        return removed

    monkeypatch.setattr(erasure, "_tombstone_person", deleted_then_wait)

    def start():
        assert deleted.wait(timeout=30)
        starter["pid"] = _backend_pid()
        return start_prison_case(users, agencies)

    erased, started = all_at_once([lambda: erase_case(old.pk, trigger=ErasureTrigger.RETENTION), start])

    assert isinstance(erased, ErasureRecord) and erased.person_erased, erased
    assert isinstance(started, Case), started
    new = Case.objects.select_related("person").get(pk=started.pk)
    assert new.person.national_id == PERSON["national_id"] and new.person.name == PERSON["name"]
    assert Person.objects.filter(national_id=PERSON["national_id"]).count() == 1


def test_a_follow_on_started_while_its_earlier_case_is_erased(monkeypatch, users, agencies, shipped):
    """The follow-on holds the person (its new case is theirs) and at its commit needs the
    earlier case's key (the new case follows it; the earlier case's timeline names the
    follow-on); the erasure holds the earlier case and then wants the person. The follow-on
    takes the earlier case first, so the erasure waits for it and then keeps the person."""
    referral = finished_referral(users, agencies, economy_notes=None)
    closed_long_ago(referral)
    started, eraser = threading.Event(), {}
    housing_agency_of = follow_on_services.housing_agency_of
    calls = []

    def second_call_waits(case):
        calls.append(case)
        if len(calls) == 2:  # inside the start's transaction, after its new case is written
            started.set()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not ("pid" in eraser and _blocked(eraser["pid"])):
                time.sleep(0.02)
        return housing_agency_of(case)

    monkeypatch.setattr(follow_on_services, "housing_agency_of", second_call_waits)

    def erase():
        assert started.wait(timeout=30)
        eraser["pid"] = _backend_pid()
        return erase_case(referral.pk, trigger=ErasureTrigger.RETENTION)

    result, erased = all_at_once([lambda: follow_on(users, referral), erase])

    assert not isinstance(result, Exception), result
    assert isinstance(erased, ErasureRecord) and not erased.person_erased, erased
    new = Case.objects.select_related("person").get(pk=result.case.pk)
    assert new.follows_id == referral.pk and new.person.national_id == PERSON["national_id"]


def test_a_case_start_holding_its_person_keeps_no_read_of_their_other_cases_waiting(
    monkeypatch, users, agencies, shipped
):
    """The start holds the person row against an erasure, and only against that: a read of
    another case of the same person logs its access with the person's key, whose foreign-key
    check at the commit must not wait for the start. Held ``FOR UPDATE`` it did, and a
    completion that had bumped the leaders' figures first then deadlocked with the start
    waiting for them (``make bench-http``: 503s and one-second stalls)."""
    from django.test import Client

    from permissions.models import AccessLog

    earlier = start_prison_case(users, agencies)
    (intake,) = open_tasks(earlier)
    complete(intake, {"has_home": False, "housing_situation": "uten_bolig"}, actor=users["kari"])
    holding, release = threading.Event(), threading.Event()
    held_person = case_services._insert_numbered

    def hold_then_go(*args):
        person = held_person(*args)
        holding.set()  # the person row is held by the case's insert; not committed
        assert release.wait(timeout=30)
        return person

    monkeypatch.setattr(case_services, "_insert_numbered", hold_then_go)
    reads_before = AccessLog.objects.filter(case=earlier).count()
    read_done = threading.Event()

    def start():
        try:
            return start_prison_case(users, agencies)
        finally:
            connection.close()

    def read():
        assert holding.wait(timeout=30)
        try:
            browser = Client()
            browser.force_login(users["bjorn"])
            answer = browser.get(f"/cases/{earlier.pk}/")  # its housing data read, logged, committed
            read_done.set()
            return answer.status_code
        finally:
            connection.close()

    def referee():
        assert holding.wait(timeout=30)
        read_done.wait(timeout=10)
        release.set()  # the start goes on whether or not the read finished
        return read_done.is_set()

    started, status, read_in_time = all_at_once([start, read, referee])
    assert isinstance(started, Case) and status == 200
    assert read_in_time, "the read of the person's other case waited for the case start"
    assert AccessLog.objects.filter(case=earlier).count() > reads_before
