"""The load: each locust user works whole prison-release cases over the REST API.

One round, as the agencies would: the prison starts a case; then, for every open task,
the agency it landed on reads its inbox (``GET /api/v1/tasks/?assigned=agency``), opens
the task (``GET /api/v1/tasks/{id}/``) and completes it with valid data from the task's
own form (``POST /api/v1/tasks/{id}/complete/``), until the case has no open task.
"""

from __future__ import annotations

import itertools

from locust import FastHttpUser, task

from bench.samples import sample_form_data

from .cases import OVERRIDES, PROCESS, WORKER_OF, find_in_inbox, known_open, people

ROUTES = {
    "start": "POST /api/v1/cases/",
    "inbox": "GET /api/v1/tasks/?assigned=agency",
    "open": "GET /api/v1/tasks/{id}/",
    "complete": "POST /api/v1/tasks/{id}/complete/",
}
_numbers = itertools.count(1)
# More than a run starts (about 550 cases in 53 s at 8 clients).
_PEOPLE = people(5000)


class CaseBroken(Exception):
    """The case cannot go on; locust records it and the user starts the next case."""


class CaseWorkers(FastHttpUser):
    """Set by the harness before the run: ``tokens`` (username -> API token), ``participants``
    (agency kind -> id)."""

    tokens: dict[str, str] = {}
    inbox_page_races = 0
    inbox_lookups = 0  # inbox reads for next tasks the completion's answer did not list
    participants: dict[str, int] = {}
    # Think time is not what is measured: clients send the next request at once.
    wait_time = staticmethod(lambda: 0)

    def _headers(self, kind: str) -> dict:
        return {"Authorization": f"Token {self.tokens[WORKER_OF[kind]]}"}

    @task
    def work_a_case(self) -> None:
        number = next(_numbers)
        started = self._json(
            self.client.post(
                "/api/v1/cases/",
                name=ROUTES["start"],
                headers=self._headers("prison"),
                json={
                    "process_key": PROCESS,
                    "participants": self.participants,
                    "person": {"name": f"Last Testperson {number}", "national_id": _PEOPLE[number % len(_PEOPLE)]},
                },
            ),
            201,
        )
        known, status = known_open([], None, started["open_tasks"]), started["status"]
        while status == "open":
            if not known:
                # An answer lists only the next tasks its reader may see (a branch that
                # tells another agency's data stays hidden: rules.task_listed); the agencies
                # then find theirs in their own inboxes.
                known = self._look_in_every_inbox(started["id"])
                if not known:
                    break
            listed, status = self._work(known[0], started["id"])
            known = known_open(known, known[0], listed)

    def _look_in_every_inbox(self, case_id: int) -> list[dict]:
        for kind in WORKER_OF:
            type(self).inbox_lookups += 1
            found = self._json(
                self.client.get(
                    f"/api/v1/tasks/?assigned=agency&status=active&case={case_id}",
                    name=ROUTES["inbox"],
                    headers=self._headers(kind),
                ),
                200,
            )["results"]
            if found:
                return found
        return []

    def _find_in_inbox(self, task_id: int, headers: dict) -> dict | None:
        return find_in_inbox(
            lambda url: self._json(self.client.get(url, name=ROUTES["inbox"], headers=headers), 200), task_id
        )

    def _work(self, listed: dict, case_id: int) -> tuple[list[dict], str]:
        kind, headers = listed["agency"]["kind"], self._headers(listed["agency"]["kind"])
        mine = self._find_in_inbox(listed["id"], headers)
        if mine is None:
            # Page-number pages counted, then read: a task created between the two statements
            # could push ours off the page (inbox_page_races). Keyset pages read once, so this
            # should stay 0; a look again, up to 3 times, counts it if it ever happens.
            for _ in range(3):
                type(self).inbox_page_races += 1
                if (mine := self._find_in_inbox(listed["id"], headers)) is not None:
                    break
        if mine is None:
            raise CaseBroken(f"the task of case {case_id} is not in the {kind} inbox")
        opened = self._json(self.client.get(f"/api/v1/tasks/{mine['id']}/", name=ROUTES["open"], headers=headers), 200)
        data = sample_form_data(opened["form_schema"], OVERRIDES)
        done = self._json(
            self.client.post(
                f"/api/v1/tasks/{mine['id']}/complete/", name=ROUTES["complete"], headers=headers, json={"data": data}
            ),
            200,
        )
        return done["open_tasks"], done["case_status"]

    @staticmethod
    def _json(response, expected: int) -> dict:
        if response.status_code != expected:
            # Locust has counted the failed request already; this case cannot go on.
            raise CaseBroken(f"{response.status_code}: {response.text[:300]}")
        return response.json()
