"""Schemathesis against /api/v1/schema/: no 500, no answer outside the documented schema.

Runs in the normal ``pytest`` run with a bounded number of examples per operation and
a fixed seed (``derandomize``), through the WSGI app inside the test's transaction.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

from .conftest import PERSON, PRISON_KINDS, start

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 20
CALLS = []  # every request made, for the closing summary


@pytest.fixture
def world(db, users, agencies, shipped):
    """A case to find, and requests kept on the test's connection (and transaction), as
    Django's test client does: the WSGI app would otherwise close it after each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loaded at collection (schema generation needs no database). ``schemathesis.pytest.from_fixture``
# would be lazier but does not work with pytest 9 (it sets the removed ``Node._nodeid``).
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    phases=[Phase.explicit, Phase.generate],
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _call(case, user):
    from accounts.tokens import issue

    token = issue(user)[0]
    CALLS.append(case.operation.label)
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


@pytest.mark.slow
@schema.parametrize()
@FUZZ
def test_answers_to_a_coordinator_conform_to_the_schema(case, users, world):
    """bjorn sees the case, its consents and its access log."""
    _call(case, users["bjorn"])


@pytest.mark.slow
@schema.parametrize()
@FUZZ
def test_answers_to_a_process_admin_conform_to_the_schema(case, users, world):
    """ada deploys models and sees incidents (random BPMN uploads must not crash)."""
    _call(case, users["ada"])


@pytest.fixture(scope="module", autouse=True)
def _report_calls():
    yield
    print(f"\nschemathesis: {len(CALLS)} requests over {len(set(CALLS))} operations")
