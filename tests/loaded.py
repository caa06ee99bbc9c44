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
        with django_db_blocker.unblock(), transaction.atomic():
            deploy_shipped()
            rows = load(cases=cases, tasks=tasks, password="x")
            # The foreign keys are checked at commit (deferred). Checked here once, or each
            # test's teardown (Django's TestCase checks constraints) checks all these rows again.
            connection.check_constraints()
            yield rows
            transaction.set_rollback(True)

    return loaded
