"""A case's reference (BK-<year>-<number>): the year's next number, taken under the
counter's row lock until the start commits. On PostgreSQL a start without a correlation key
takes it in the case's own insert (``services.cases._insert_numbered``), one statement less."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from permissions import rules
from permissions.models import CaseGroupObjectPermission, CaseParticipant
from tests.threads import all_at_once, meet_after
from workflows.models import Case, CaseReferenceCounter, ProcessInstance
from workflows.services import cases as case_services

from .helpers import PERSON, PRISON_PARTICIPANTS, start_prison_case

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "05840399895"}


def _number(reference: str) -> int:
    return int(reference.rsplit("-", 1)[1])


@pytest.mark.postgres
def test_a_start_takes_its_reference_and_writes_its_instance_in_the_cases_insert(shipped, users, agencies):
    start_prison_case(users, agencies)  # the year's row exists, the caches are warm
    with CaptureQueriesContext(connection) as queries:
        case = start_prison_case(users, agencies)
    counters = [q["sql"] for q in queries if '"workflows_casereferencecounter"' in q["sql"]]
    assert len(counters) == 1 and '"workflows_case"' in counters[0], counters
    instances = [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "workflows_processinstance"')]
    assert not instances and '"workflows_processinstance"' in counters[0], instances
    stored = Case.objects.get(pk=case.pk)
    assert stored.reference == case.reference
    _, year, number = case.reference.rsplit("-", 2)
    assert len(number) == 6 and CaseReferenceCounter.objects.get(year=int(year)).last == int(number)
    instance = ProcessInstance.objects.get(case=case)
    assert (instance.pk, instance.status, instance.version) == (case.instances.get().pk, "running", 1)
    assert instance.state != "{}" and case.tasks.count() == 1


@pytest.mark.parametrize("last", (0, 41, 999_998, 999_999, 12_345_678))
def test_the_number_has_six_digits_at_least_and_never_loses_one(last, shipped, users, agencies):
    year, prefix = case_services._reference_parts()
    CaseReferenceCounter.objects.update_or_create(year=year, defaults={"last": last})
    case = start_prison_case(users, agencies)
    assert case.reference == f"{prefix}{last + 1:06d}"
    assert Case.objects.get(pk=case.pk).reference == case.reference
    assert CaseReferenceCounter.objects.get(year=year).last == last + 1


def test_a_start_with_a_correlation_key_is_numbered_as_one_without(shipped, users, agencies):
    first = start_prison_case(users, agencies)
    keyed = start_prison_case(users, agencies, correlation_key="FENGSEL-1")
    assert _number(keyed.reference) == _number(first.reference) + 1
    assert Case.objects.get(pk=keyed.pk).reference == keyed.reference


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_starts_at_once_get_two_numbers_one_after_the_other(monkeypatch, shipped, users, agencies):
    # Both have begun and read (two people: the same one would queue them at the person's
    # row) before either holds its person and takes a number in its insert: they meet at the
    # counter.
    meet_after(monkeypatch, case_services, "_StartReads")
    started = all_at_once(
        [lambda: start_prison_case(users, agencies), lambda: start_prison_case(users, agencies, person=OTHER_PERSON)]
    )
    assert all(isinstance(case, Case) for case in started), started
    numbers = sorted(_number(Case.objects.get(pk=case.pk).reference) for case in started)
    assert numbers[1] == numbers[0] + 1
    year, _ = case_services._reference_parts()
    assert CaseReferenceCounter.objects.get(year=year).last == numbers[1]
    assert {case.person_name for case in started} == {PERSON["name"], OTHER_PERSON["name"]}


# The start (no correlation key) on PostgreSQL: its statements after the first start's
# warm-up. The case, its instance, its participants and their groups' grants are one
# statement; before they were three. With the SAVEPOINT and RELEASE of the test's own
# transaction: 11 statements before, 9 then, 6 now: the start's reads travel together
# (``_StartReads``, one entry of the query log) and its person is held in the case's insert.
START_STATEMENTS = 6


@pytest.mark.postgres
def test_a_start_writes_its_participants_and_their_grants_in_the_cases_insert(shipped, users, agencies):
    start_prison_case(users, agencies)  # the year's row exists, the caches are warm
    with CaptureQueriesContext(connection) as queries:
        case = start_prison_case(users, agencies)
    statements = [q["sql"] for q in queries]
    inserts = [sql for sql in statements if "INSERT INTO" in sql and '"workflows_caseparticipant"' in sql]
    assert len(inserts) == 1 and '"workflows_casereferencecounter"' in inserts[0], statements
    assert '"permissions_casegroupobjectpermission"' in inserts[0], inserts
    assert len(statements) == START_STATEMENTS, "\n".join(statements)
    # As ``bulk_create`` and ``grant_case_access`` wrote them: every participant, in the
    # order given, each agency's group granted ``view_case``, and nothing more.
    participants = list(CaseParticipant.objects.filter(case=case).order_by("pk").values_list("kind", "agency_id"))
    assert participants == [(kind, agencies[kind].pk) for kind in PRISON_PARTICIPANTS]
    granted = CaseGroupObjectPermission.objects.filter(content_object=case)
    assert sorted(granted.values_list("group_id", flat=True)) == sorted(
        agencies[kind].group_id for kind in PRISON_PARTICIPANTS
    )
    assert {grant.permission.codename for grant in granted} == {"view_case"}
    assert all(participant.added_at for participant in CaseParticipant.objects.filter(case=case))
    # Whom the case is for: its participants' members see it, another agency's do not.
    assert rules.can_view_case(users["nils"], case)
    assert not rules.can_view_case(users["siri"], case)


@pytest.mark.postgres
def test_the_cases_insert_is_prepared_on_the_server_and_keeps_one_plan(shipped, users, agencies):
    """Its text never changes and it writes and reads by key: PostgreSQL parses it once per
    connection and, after its first runs, keeps one plan (it planned it on every start)."""
    from permissions.prepared import prepares_statements

    if not prepares_statements(connection):
        pytest.skip("DB_PREPARE_THRESHOLD=0: nothing is prepared")
    people = [PERSON, OTHER_PERSON]
    references = {start_prison_case(users, agencies, person=people[n % 2]).reference for n in range(7)}
    assert len(references) == 7
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ['WITH found AS (SELECT % FROM "workflows_person"%'],
        )
        ((generic, custom),) = cursor.fetchall()
    assert generic + custom == 7 and generic >= 1
