"""The scale loader's rows, loaded once for a module's tests rather than once per test.

``bench.scale.load`` writes thousands of cases (20,000 for the plan tests: about 20 s each
time). Loading them once per module, in a transaction that each test's own nests in as a
savepoint and that is rolled back after the module's last test, gives every test the same
rows and leaves none behind, as a per-test load did.
"""

import pytest
from django.db import connection, transaction

from bench.scale.load import load
from tests.conftest import deploy_shipped


def loaded_once(*, cases: int, tasks: int):
    """A module-scoped ``loaded`` fixture: the shipped processes and ``load(cases, tasks)``."""

    @pytest.fixture(scope="module")
    def loaded(django_db_setup, django_db_blocker):
        with django_db_blocker.unblock():
            compact_tables()
        with django_db_blocker.unblock(), transaction.atomic():
            deploy_shipped()
            rows = load(cases=cases, tasks=tasks, password="x")
            # The foreign keys are checked at commit (deferred). Checked here once, or each
            # test's teardown (Django's TestCase checks constraints) checks all these rows again.
            connection.check_constraints()
            yield rows
            transaction.set_rollback(True)

    return loaded


def compact_tables() -> None:
    """Rewrite the project's tables and indexes to hold only their live rows (``VACUUM FULL``),
    so that a module's plan tests see them as the loader alone makes them.

    Every test before this module left its rows behind as dead tuples: each test's
    transaction is rolled back (as is a module's load, with thousands of rows), and nothing
    removes them in a test database (autovacuum may be off, and no test runs ``VACUUM``,
    which cannot run inside a transaction). The tables' files and indexes keep growing with
    the tests run before (``participant_agency_case``: 27 pages after a load into a fresh
    database, 41 after ``tests/api``, 52 after another module's load), and PostgreSQL costs
    an index read by its size: at 900 cases two plans of a busy agency's list are within 1 %
    of each other, and a bloated index tipped ``test_case_lists`` onto the other one,
    depending on which tests had run before it in the session. ``ANALYZE`` (the loader's)
    counts the live rows again, but no statement short of a rewrite gives the pages back.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        # The names are Django's own tables', quoted.
        cursor.execute("VACUUM FULL " + ", ".join(connection.ops.quote_name(table) for table in sorted(tables)))
