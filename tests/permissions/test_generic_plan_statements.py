"""``permissions.prepared.run_generic``: a statement run with the one plan PostgreSQL makes for
any value (the agency inbox, the job worker's look at what is due and its claim), prepared by
name once per connection and run by ``EXECUTE`` between ``SET plan_cache_mode`` and its
reset in one query text. The rows are the statement's own; the setting is back as it was
after every run, a failed one too; a rollback (psycopg then deallocates every statement of
the session) or a new connection makes it prepare the statement again."""

import pytest
from django.db import DataError, connection, transaction

from permissions import prepared
from permissions.models import Agency
from permissions.prepared import Prepared, constants_written_in, prepares_statements, run_generic
from workflows.models import TaskStatus


def test_constants_are_written_in_and_the_values_keep_their_slots():
    sql = "SELECT 1 FROM t WHERE a IN (%s) AND s IN (%s, %s) AND b = %s AND c = %s AND d LIKE 'x%%' AND e = %s"
    params = (-2_137_000_000, TaskStatus.OPEN, "claimed", 7, "it's", True)
    slots = ((0, 0),)
    written, kept, new_slots = constants_written_in(sql, params, slots)
    assert written == (
        "SELECT 1 FROM t WHERE a IN (%s) AND s IN ('open', 'claimed') AND b = 7 AND c = %s AND d LIKE 'x%%' AND e = %s"
    )
    # A text that is no plain word and a yes/no stay values; the stand-in keeps its slot.
    assert kept == (-2_137_000_000, "it's", True) and new_slots == ((0, 0),)


def _generic_only() -> None:
    if connection.vendor != "postgresql" or not prepares_statements(connection):
        pytest.skip("PostgreSQL with prepared statements only")


def _plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


def _prepared_by_name() -> dict[str, tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE %s",
            ["brobygger_generic_%"],
        )
        return {name: (generic, custom) for name, generic, custom in cursor.fetchall()}


def _agencies_of_kind(kind):
    return Agency.objects.filter(kind=kind, id__gt=-1).order_by("id")


@pytest.mark.django_db
def test_a_generic_member_answers_with_the_queryset_s_rows_and_its_one_plan(agencies):
    _generic_only()
    listing = Prepared(_agencies_of_kind, kinds=(str,), generic=True)
    before = _prepared_by_name()
    for kind in ("nav", "housing", "nav", "prison", "nav", "health", "nav"):
        assert listing.objects(kind) == list(_agencies_of_kind(kind))
        assert _plan_cache_mode() == "auto"
    ((generic, custom),) = [plans for name, plans in _prepared_by_name().items() if name not in before]
    assert (generic, custom) == (7, 0)  # never planned for its values


@pytest.mark.django_db
def test_after_a_rollback_to_a_savepoint_the_statement_is_prepared_again(agencies):
    """psycopg sends ``DEALLOCATE ALL`` when it rolls back to a savepoint with statements of
    its own prepared: the statement must not be taken for prepared then."""
    _generic_only()
    own = Prepared(lambda pk: Agency.objects.filter(pk=pk), kinds=(int,))  # psycopg's prepared statement
    listing = Prepared(_agencies_of_kind, kinds=(str,), generic=True)
    before = _prepared_by_name()
    assert own.objects(agencies["nav"].pk) and listing.objects("nav")
    (first,) = set(_prepared_by_name()) - set(before)
    with pytest.raises(RuntimeError), transaction.atomic():
        own.objects(agencies["nav"].pk)
        raise RuntimeError("rolled back")
    assert _prepared_by_name() == {}  # deallocated with psycopg's own
    assert listing.objects("nav") == list(_agencies_of_kind("nav"))
    assert list(_prepared_by_name()) != [first]
    assert _plan_cache_mode() == "auto"


@pytest.mark.django_db
def test_a_failed_run_leaves_the_setting_as_it_was_and_the_next_run_works():
    _generic_only()
    sql, raw_sql = "SELECT 10 / %s", "SELECT 10 / $1::int"
    with connection.cursor() as cursor:
        with pytest.raises(DataError), transaction.atomic():
            run_generic(cursor, sql, raw_sql, [0]).close()
        assert _plan_cache_mode() == "auto"
        raw = run_generic(cursor, sql, raw_sql, [5])
        assert raw.fetchall() == [(2,)]
        raw.close()
    assert _plan_cache_mode() == "auto"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_failed_run_leaves_the_setting_as_it_was():
    """Autocommitted: the query text's statements are one transaction, whose rollback undoes
    the setting when the statement fails before its reset."""
    _generic_only()
    sql, raw_sql = "SELECT 10 / %s", "SELECT 10 / $1::int"
    with connection.cursor() as cursor:
        assert connection.get_autocommit()
        with pytest.raises(DataError):
            run_generic(cursor, sql, raw_sql, [0]).close()
        assert _plan_cache_mode() == "auto"
        raw = run_generic(cursor, sql, raw_sql, [2])
        assert raw.fetchall() == [(5,)]
        raw.close()
    connection.close()  # a new connection knows none of the statements
    with connection.cursor() as cursor:
        raw = run_generic(cursor, sql, raw_sql, [1])
        assert raw.fetchall() == [(10,)]
        raw.close()
    assert prepared._generic_names(connection.connection)  # prepared on the new one
