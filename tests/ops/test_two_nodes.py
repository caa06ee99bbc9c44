"""Two nodes, one database: two gunicorn servers and two job workers (``manage.py serve``
twice) on one PostgreSQL. Whole cases are driven through both in turn (each task found in its agency's
whole inbox, page after page), two people complete
one task at the same moment on different nodes, and timers fall due meanwhile: nothing is
lost and nothing is done twice (counted in the database)."""

import json
import threading
import urllib.parse
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.db.models import Count

from bench.http.cases import NATIONAL_IDS, OVERRIDES, PROCESS, WORKER_OF
from bench.http.server import Node
from bench.samples import sample_form_data
from tests.workflows.jobs.conftest import start_timer_case
from tests.workflows.jobs.conftest import timer_process as timer_process  # a fixture
from workflows.models import Event, EventKind, Job, JobKind, JobStatus, Task, TaskStatus

from .helpers import node_env, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "two-nodes-password"
CASES = 6
TIMERS = 20
# Pages of three rows: an agency's inbox then spans several pages while the other clients
# create and complete tasks on it (at the default 50 it fitted on one).
INBOX = "/tasks/?assigned=agency&status=active&page_size=3"


def _url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _api_path(link: str | None) -> str | None:
    """A ``next`` link (absolute, to the node that answered) as a path under ``/api/v1``."""
    if link is None:
        return None
    parts = urllib.parse.urlsplit(link)
    return parts.path.removeprefix("/api/v1") + (f"?{parts.query}" if parts.query else "")


def _call(base, method, path, token=None, body=None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})}
    request = urllib.request.Request(
        f"{base}/api/v1{path}",
        method=method,
        headers=headers,
        data=json.dumps(body).encode() if body is not None else None,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


class Client:
    """One client of the agencies, sending each request to the next node in turn."""

    def __init__(self, nodes, tokens, participants):
        self.nodes, self.tokens, self.participants = nodes, tokens, participants
        self.sent, self.completed, self.problems = Counter(), 0, []
        self.most_pages = 0  # the longest inbox walk, in pages

    def call(self, method, path, kind, body=None):
        node = self.nodes[sum(self.sent.values()) % len(self.nodes)]
        self.sent[node.port] += 1
        return _call(node.base, method, path, self.tokens[WORKER_OF[kind]], body)

    def read_inbox(self, kind) -> list[dict] | None:
        """Every row of the agency's inbox, page after page by the keyset ``next`` link, each
        page from the next node in turn; None (and a problem noted) when a page is refused."""
        rows: list[dict] = []
        path: str | None = INBOX
        pages = 0
        while path is not None:
            status, page = self.call("GET", path, kind)
            if status != 200:
                self.problems.append((status, "inbox page", page))
                return None
            rows += page["results"]
            pages += 1
            path = _api_path(page["next"])
        self.most_pages = max(self.most_pages, pages)
        return rows

    def find_in_inbox(self, task_id: int, kind: str) -> dict | None:
        """The task's row, from the whole inbox: it is there once, and no row is on two pages
        (keyset pages: a task created or completed meanwhile shifts no row to another page)."""
        rows = self.read_inbox(kind)
        if rows is None:
            return None
        ids = [row["id"] for row in rows]
        if len(ids) != len(set(ids)):
            self.problems.append(("inbox", kind, "a row on two pages", sorted(i for i in ids if ids.count(i) > 1)))
        mine = [row for row in rows if row["id"] == task_id]
        if len(mine) != 1:
            self.problems.append(("inbox", kind, f"task {task_id} listed {len(mine)} times over {len(ids)} rows"))
            return None
        return mine[0]

    def work_a_case(self, number: int) -> None:
        status, case = self.call(
            "POST",
            "/cases/",
            "prison",
            {
                "process_key": PROCESS,
                "participants": self.participants,
                "person": {"name": f"To Noder {number}", "national_id": NATIONAL_IDS[number % 3]},
            },
        )
        if status != 201:
            self.problems.append((status, case))
            return
        tasks = case["open_tasks"]
        while tasks:
            kind = tasks[0]["agency"]["kind"]
            mine = self.find_in_inbox(tasks[0]["id"], kind)
            if mine is None:
                return
            status, opened = self.call("GET", f"/tasks/{mine['id']}/", kind)
            data = sample_form_data(opened["form_schema"], OVERRIDES)
            status, done = self.call("POST", f"/tasks/{mine['id']}/complete/", kind, {"data": data})
            if status != 200:
                self.problems.append((status, done))
                return
            self.completed += 1
            tasks = done["open_tasks"]


@pytest.mark.usefixtures("timer_process")
def test_two_nodes_one_database_lose_nothing_and_do_nothing_twice(shipped, users, agencies, tmp_path):
    for name in WORKER_OF.values():
        users[name].password = PBKDF2PasswordHasher().encode(PASSWORD, f"salt{name}")
        users[name].save(update_fields=["password"])
    env = node_env(_url(), str(tmp_path / "static"), DEMO_PASSWORD=PASSWORD)
    nodes = [Node(env, args=("--job-workers", "1")), Node(env, args=("--job-workers", "1", "--skip-setup"))]
    try:
        for node in nodes:
            node.wait_ready()
        tokens = {
            name: _call(nodes[0].base, "POST", "/auth/token/", body={"username": name, "password": PASSWORD})[1][
                "token"
            ]
            for name in WORKER_OF.values()
        }
        participants = {kind: agencies[kind].pk for kind in WORKER_OF}

        # Timers fall due while the cases are worked: both nodes' workers share them.
        fire_at = datetime.now(UTC) + timedelta(seconds=2)
        timer_cases = [
            start_timer_case(users, agencies, (fire_at + timedelta(milliseconds=100 * n)).isoformat()).pk
            for n in range(TIMERS)
        ]

        clients = [Client(nodes, tokens, participants) for _ in range(CASES)]
        threads = [threading.Thread(target=client.work_a_case, args=(n,)) for n, client in enumerate(clients)]
        for thread in threads:
            thread.start()

        # Meanwhile two people complete one task at the same moment, one on each node.
        status, race = _call(
            nodes[0].base,
            "POST",
            "/cases/",
            tokens["kari"],
            {
                "process_key": PROCESS,
                "participants": participants,
                "person": {"name": "Samtidig Person", "national_id": NATIONAL_IDS[0]},
            },
        )
        assert status == 201, race
        intake = race["open_tasks"][0]["id"]
        _, opened = _call(nodes[1].base, "GET", f"/tasks/{intake}/", tokens["kari"])
        data = sample_form_data(opened["form_schema"], OVERRIDES)
        answers = []
        barrier = threading.Barrier(2)

        def complete_at_once(node):
            barrier.wait()
            answers.append(_call(node.base, "POST", f"/tasks/{intake}/complete/", tokens["kari"], {"data": data}))

        racers = [threading.Thread(target=complete_at_once, args=(node,)) for node in nodes]
        for thread in racers:
            thread.start()
        for thread in threads + racers:
            thread.join(60)

        assert sorted(status for status, _ in answers) == [200, 409], answers
        assert [client.problems for client in clients] == [[]] * CASES
        assert all(len(client.sent) == 2 for client in clients), "every client used both nodes"
        assert max(client.most_pages for client in clients) > 1, "no inbox spanned two pages"
        timer_jobs = Job.objects.filter(kind=JobKind.TIMER, case__in=timer_cases)
        assert wait_for(lambda: timer_jobs.filter(status=JobStatus.DONE).count() == TIMERS, timeout=30), (
            nodes[0].tail() + nodes[1].tail()
        )

        # An error on node B names its request; node B's log has the same id on a JSON line.
        status, refused = _call(nodes[1].base, "POST", f"/tasks/{intake}/complete/", tokens["kari"], {"data": {}})
        assert status in (400, 409) and refused["request_id"]
        logged = [json.loads(line) for line in nodes[1].tail(2000).splitlines() if refused["request_id"] in line]
        assert any(line.get("route") == "api/v1/tasks/<task_id:pk>/complete/" for line in logged)
    finally:
        codes = [node.stop() for node in nodes]
    assert codes == [0, 0]
    for node in nodes:
        node.remove_log()

    # Nothing lost: every completion the clients were told of is in the database, once.
    completions = sum(client.completed for client in clients) + 1
    events = Event.objects.filter(kind=EventKind.TASK_COMPLETED)
    assert events.count() == completions
    assert Task.objects.filter(status=TaskStatus.COMPLETED).count() == completions
    assert not events.values("task").annotate(n=Count("id")).filter(n__gt=1).exists()
    # Nothing done twice: one timer fired per timer case, one task after it, no job left claimed.
    fired = (
        Event.objects.filter(case__in=timer_cases, kind=EventKind.TIMER_FIRED).values("case").annotate(n=Count("id"))
    )
    assert sorted(row["n"] for row in fired) == [1] * TIMERS
    assert Task.objects.filter(case__in=timer_cases).count() == TIMERS
    assert not Job.objects.filter(status=JobStatus.RUNNING).exists()
    assert set(Job.objects.filter(kind=JobKind.TIMER, case__in=timer_cases).values_list("status", flat=True)) == {
        JobStatus.DONE
    }
