"""A PostgreSQL restart mid-run (a private server: the shared one must never be restarted):
workers and web processes reconnect, every timer fires exactly once, no job stays claimed;
a job worker that dies is started again by its node."""

import json
import signal
import urllib.request

import psutil
import psycopg
import pytest

from bench.http.server import Node

from . import cluster
from .helpers import node_env, scenario, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TIMERS = 40


@pytest.fixture
def private_postgres():
    if not cluster.available():
        pytest.fail(f"the fault test needs PostgreSQL's server binaries in {cluster.BIN} (Debian postgresql-15)")
    server = cluster.PrivatePostgres()
    server.start()
    yield server
    server.remove()


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
    except OSError:
        return 0, {}


def _token(base: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token/",
        method="POST",
        data=json.dumps({"username": "kari", "password": "brobygger-demo"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["token"]


def _job_workers(node: Node) -> set[int]:
    """The live job workers. A worker just killed stays a zombie until its supervisor reaps
    it, and psutil will not read a zombie's command line (it failed this test once): it is
    no worker any more."""
    workers = set()
    for process in node.processes():
        try:
            if "manage.py worker" in " ".join(process.cmdline()):
                workers.add(process.pid)
        except psutil.NoSuchProcess:  # ZombieProcess too
            continue
    return workers


def test_a_postgres_restart_mid_run_loses_no_timer_and_fires_none_twice(private_postgres, tmp_path):
    with psycopg.connect(private_postgres.url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE brob_fault")
    url = private_postgres.database_url("brob_fault")
    env = node_env(url, str(tmp_path / "static"))
    # Timers due from 20 s on, over 12 s: the node is up by then, the restart falls among them.
    cases = scenario(env, "prepare", TIMERS, 20, 12)["timer_cases"]
    node = Node(env, args=("--job-workers", "2"))
    try:
        node.wait_ready()
        token = _token(node.base)
        workers_before = _job_workers(node)
        assert len(workers_before) == 2

        def fired() -> int:
            with psycopg.connect(url) as db:
                done = "SELECT count(*) FROM workflows_job WHERE kind = 'timer' AND status = 'done'"
                return db.execute(done).fetchone()[0]

        assert wait_for(lambda: fired() >= 3, timeout=60, every=0.05), node.tail()
        private_postgres.restart()
        assert fired() < TIMERS, "the restart came after the last timer: the test proved nothing"

        # Every timer fires, once; the web answers again; nothing is left claimed.
        assert wait_for(lambda: fired() == TIMERS, timeout=60), node.tail()
        assert wait_for(lambda: _get(f"{node.base}/readyz")[0] == 200, timeout=30), node.tail()
        status, agencies = _get(f"{node.base}/api/v1/agencies/", token)
        assert status == 200 and agencies
        report = scenario(env, "timers", ",".join(map(str, cases)))
        assert report["fired_per_case"] == [1] * TIMERS
        assert report["tasks_per_case"] == [1] * TIMERS
        assert report["timer_jobs_by_status"] == {"done": TIMERS}
        # The new tasks' notification jobs may be running right now: none may *stay* claimed.
        assert wait_for(
            lambda: scenario(env, "timers", ",".join(map(str, cases)))["jobs_claimed"] == 0, timeout=30, every=1
        ), node.tail()
        # The workers rode it out: the same processes, none restarted by the node.
        assert _job_workers(node) == workers_before
        assert "exited with" not in node.tail(400)
        assert "database unavailable" in node.tail(400)

        # A worker that dies anyway is started again by its node.
        victim = sorted(workers_before)[0]
        psutil.Process(victim).send_signal(signal.SIGKILL)
        replaced = wait_for(
            lambda: len(_job_workers(node) - workers_before) == 1 and victim not in _job_workers(node), timeout=15
        )
        assert replaced, node.tail()
    finally:
        assert node.stop() == 0, node.tail()
    node.remove_log()
