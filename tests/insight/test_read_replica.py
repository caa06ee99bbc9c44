"""A read replica for the leaders' reports (``DATABASE_REPLICA_URL``, ``insight.replica``).

The replica here is a second connection to the test database (what ``TEST: MIRROR`` gives
a configured one): the figures it answers are the primary's, and which connection ran
which statement shows the routing. A lagging or unreachable replica is left for the
primary, and nothing a caseworker reads ever comes from it.
"""

import re
import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from django.db import OperationalError, connections
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from insight import replica
from permissions.models import Membership
from tests.conftest import REPO
from tests.ids import tid
from tests.ops.test_health_and_metrics import TOKEN, _beat
from tests.workflows.helpers import open_tasks, start_prison_case

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases=["default", replica.REPLICA]),
    pytest.mark.usefixtures("month_over"),
]

REPORTS = [reverse("insight"), reverse("insight-annual"), reverse("insight-export", args=["flow", "csv"])]

# The alias DATABASE_REPLICA_URL would add, known before the test database is set up (a test
# mirror, as the settings make it); it stays unused until a test installs the router.
connections.settings.setdefault(replica.REPLICA, {**connections.settings["default"], "TEST": {"MIRROR": "default"}})


def _drop_connection():
    """Close this thread's replica connection; the next use opens one from the settings."""
    connections[replica.REPLICA].close()
    del connections[replica.REPLICA]


@pytest.fixture
def with_replica():
    """``with_replica()`` installs the router, as ``DATABASE_REPLICA_URL`` does;
    ``with_replica(PORT="1")`` points the replica where nothing answers."""
    kept = dict(connections.settings[replica.REPLICA])
    routing, routed = override_settings(DATABASE_ROUTERS=["insight.replica.ReportsToReplica"]), []

    def configure(**changes):
        _drop_connection()
        connections.settings[replica.REPLICA].update(changes)
        routing.enable()
        routed.append(True)
        replica.forget()

    yield configure
    if routed:
        routing.disable()
    _drop_connection()
    connections.settings[replica.REPLICA].clear()
    connections.settings[replica.REPLICA].update(kept)
    replica.forget()


def _figure_tables(response) -> list[str]:
    return re.findall(r"<table.*?</table>", response.content.decode(), flags=re.DOTALL)


def _read(client, url):
    """The report computed afresh (not from the figures' cache), and the statements each database ran."""
    cache.clear()
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[replica.REPLICA]) as secondary,
    ):
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return response, [q["sql"] for q in primary.captured_queries], [q["sql"] for q in secondary.captured_queries]


def _reads_figures(statements) -> bool:
    """Whether a summary table is read (what earlier readings decided is the primary's: it
    is written as it is read, ``figures.decide``)."""
    return any('FROM "insight_' in sql and "insight_decidedledger" not in sql for sql in statements)


@pytest.mark.parametrize("url", REPORTS)
def test_the_figures_are_read_from_the_replica_and_who_may_read_them_from_the_primary(
    client, finished_cases, users, with_replica, url
):
    client.force_login(users["leif"])
    without = client.get(url)  # before the replica: the same figures from the primary
    with_replica()
    response, primary, secondary = _read(client, url)
    assert _reads_figures(secondary)
    assert not _reads_figures(primary)
    assert not any("insight_decidedledger" in sql for sql in secondary)
    # The leader's memberships (who may read which scope) are current: the primary's.
    assert any('FROM "permissions_membership"' in sql for sql in primary)
    assert not any("permissions_membership" in sql for sql in secondary)
    if url.endswith(".csv"):
        assert response.content == without.content
    else:
        assert _figure_tables(response) == _figure_tables(without) != []


def _monitoring(settings) -> dict:
    """/readyz tells the replica to the operators' monitoring only (ops.health)."""
    settings.METRICS_TOKEN = "metrics-test-token-0123456789abcdef"
    return {"Authorization": f"Bearer {settings.METRICS_TOKEN}"}


def test_a_replica_that_lags_is_left_for_the_primary_and_readyz_tells_it(
    client, finished_cases, users, with_replica, monkeypatch, settings
):
    with_replica()
    monkeypatch.setattr(replica, "measure_lag", lambda: 60.0)
    client.force_login(users["leif"])
    _, primary, secondary = _read(client, REPORTS[0])
    assert secondary == [] and _reads_figures(primary)
    _beat()
    client.logout()
    answer = client.get("/readyz", headers=_monitoring(settings))
    assert answer.status_code == 200  # the node still serves: the reports come from the primary
    assert answer.json()["replica"] == {"state": "lagging", "lag_seconds": 60.0}


def test_readyz_never_waits_for_the_replica(client, users, with_replica, monkeypatch, settings):
    """A replica that does not answer (a host whose packets are dropped: each connection
    waits out its connect timeout) must not make the web nodes unready: a readiness probe
    gives up after a second or so, and every node would leave the load balancer for a
    replica that only the reports use. /readyz tells the state last found, never asks."""
    with_replica()
    _beat()

    def blackholed():
        time.sleep(2)  # the connect timeout, shortened
        raise OperationalError("timeout expired")

    monkeypatch.setattr(replica, "measure_lag", blackholed)
    started = time.monotonic()
    answer = client.get("/readyz", headers=_monitoring(settings))
    assert time.monotonic() - started < 1
    assert answer.status_code == 200
    assert answer.json()["replica"] == {"state": "unknown", "lag_seconds": None}
    replica._state = replica.State(checked_at=time.monotonic() - 60, lag=None)  # a report found it gone
    assert client.get("/readyz", headers=_monitoring(settings)).json()["replica"] == {
        "state": "unreachable",
        "lag_seconds": None,
    }


def test_an_unreachable_replica_is_left_for_the_primary_and_the_metrics_tell_it(
    client, finished_cases, users, with_replica, settings
):
    with_replica(PORT="1", OPTIONS={**connections["default"].settings_dict["OPTIONS"], "connect_timeout": 2})
    client.force_login(users["leif"])
    response = client.get(REPORTS[0])
    assert response.status_code == 200 and _figure_tables(response)
    assert replica.state().name == "unreachable"
    settings.METRICS_TOKEN = TOKEN
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).content.decode()
    assert "brobygger_replica_lag_seconds +Inf" in metrics


def test_a_replica_that_fails_during_a_report_is_read_again_from_the_primary(
    client, finished_cases, users, with_replica
):
    client.force_login(users["leif"])
    without = client.get(REPORTS[0])
    with_replica(PORT="1", OPTIONS={**connections["default"].settings_dict["OPTIONS"], "connect_timeout": 2})
    replica._state = replica.State(checked_at=time.monotonic(), lag=0.0)  # it answered a moment ago
    cache.clear()
    response = client.get(REPORTS[0])
    assert response.status_code == 200
    assert _figure_tables(response) == _figure_tables(without)
    assert replica.state().name == "unreachable"  # and the next reports go to the primary at once


def test_a_statement_the_replica_cancels_is_read_again_from_the_primary(client, finished_cases, users, with_replica):
    """A hot standby cancels a query that conflicts with the WAL it replays ("canceling
    statement due to conflict with recovery") or that outlasts its timeout, while it still
    answers the lag check: the report is read again from the primary, never a 500."""
    client.force_login(users["leif"])
    without = client.get(REPORTS[0])
    with_replica()

    def cancel_figures(execute, sql, params, many, context):
        if 'FROM "insight_' in sql:  # the replica's server cancels it: a real "canceling statement"
            return execute("SELECT pg_cancel_backend(pg_backend_pid()), pg_sleep(5)", None, many, context)
        return execute(sql, params, many, context)

    with connections[replica.REPLICA].execute_wrapper(cancel_figures):
        response, primary, _secondary = _read(client, REPORTS[0])
    assert _figure_tables(response) == _figure_tables(without) != []
    assert _reads_figures(primary)


def test_nothing_a_caseworker_reads_comes_from_the_replica(client, shipped, users, agencies, with_replica):
    case = start_prison_case(users, agencies)
    task = open_tasks(case)[0]
    with_replica()
    client.force_login(users["kari"])
    with CaptureQueriesContext(connections[replica.REPLICA]) as secondary:
        for url in (
            "/api/v1/tasks/?assigned=agency",
            f"/api/v1/tasks/{tid(task.pk)}/",
            "/api/v1/cases/",
            f"/api/v1/cases/{case.pk}/",
            "/tasks/",
            f"/cases/{case.pk}/",
            f"/tasks/{tid(task.pk)}/",
        ):
            assert client.get(url).status_code == 200, url
    assert secondary.captured_queries == []
    # Inside a report too, only the summary rows go to the replica.
    router = replica.ReportsToReplica()
    with replica._reports():
        assert router.db_for_read(Membership) is None
        assert router.db_for_write(Membership) is None
    assert router.allow_migrate(replica.REPLICA, "insight") is False


@pytest.mark.parametrize(
    ("primary", "secondary", "says"),
    [
        ("sqlite:////tmp/brobygger-primary.sqlite3", "postgres://root@127.0.0.1:5432/root", "needs PostgreSQL"),
        (None, "sqlite:////tmp/brobygger-replica.sqlite3", "needs PostgreSQL"),
    ],
)
def test_a_replica_needs_postgresql_on_both_sides(primary, secondary, says):
    import os

    env = {**os.environ, "DATABASE_REPLICA_URL": secondary}
    if primary:
        env["DATABASE_URL"] = primary
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and says in result.stderr


def test_the_replica_url_adds_the_alias_the_router_and_the_tests_mirror():
    import os

    env = {**os.environ, "DATABASE_REPLICA_URL": "postgres://root@127.0.0.1:5432/root"}
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
            "from django.conf import settings as s;"
            "print(s.DATABASES['replica']['TEST']['MIRROR'], s.DATABASE_ROUTERS)",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.stdout.strip() == "default ['insight.replica.ReportsToReplica']", shown.stderr


@pytest.mark.parametrize(
    ("state", "lag"),
    [
        ({"recovering": False, "primary_lsn": 900, "replayed_lsn": None, "since_replay": None}, 0.0),  # a primary
        ({"recovering": True, "primary_lsn": 900, "replayed_lsn": 900, "since_replay": 40.0}, 0.0),  # all replayed
        ({"recovering": True, "primary_lsn": 900, "replayed_lsn": 880, "since_replay": 0.4}, 0.4),  # just behind
        # The stream from the primary broke ten minutes ago: it replayed all it received, yet
        # the primary has moved on (the workers' heartbeats): ten minutes behind, not current.
        ({"recovering": True, "primary_lsn": 900, "replayed_lsn": 700, "since_replay": 600.0}, 600.0),
        ({"recovering": True, "primary_lsn": 900, "replayed_lsn": None, "since_replay": None}, float("inf")),
    ],
)
def test_the_lag_counts_from_what_the_primary_has_written_not_what_the_replica_received(state, lag):
    assert replica.lag_from(**state) == lag


def test_the_lag_of_a_replica_address_that_reaches_a_server_not_replaying_is_none(with_replica):
    with_replica()
    assert replica.measure_lag() == 0.0
