"""The case the clients work (shared by the locust clients and the two-node test, without locust)."""

import random
from collections.abc import Callable

from core.national_id import synthetic_national_id

PROCESS = "prison_release_to_housing"
# Who works each agency's inbox (the demo cast of ``seed_demo``).
WORKER_OF = {"prison": "kari", "nav": "nils", "health": "helga", "housing": "bjorn"}
# Steer the gateways through the longest path: no home at release, one found later.
OVERRIDES = {"has_home": False, "home_found": True}
# Synthetic test numbers (month + 80): no real person. The serial tools (profile,
# instructions, serial CPU) start their cases for these three.
NATIONAL_IDS = ("17912099997", "29822099635", "05840399895")


def people(count: int, seed: int = 4711) -> list[str]:
    """``count`` synthetic national ids, the same ones at every run. The load's cases each
    have a person of their own, as prison releases do: with three people for every case,
    each start waited for the last one's lock on its person row (held until its commit), up
    to 6 ms a start at 8 clients (h-pgcpu's pg_stat_statements), which no office meets."""
    rng = random.Random(seed)  # noqa: S311 (synthetic numbers, reproducible on purpose)
    taken: set[str] = set()
    return [synthetic_national_id(rng, taken) for _ in range(count)]


INBOX = "/api/v1/tasks/?assigned=agency&status=active"


def known_open(known: list[dict], worked: dict | None, listed: list[dict]) -> list[dict]:
    """The tasks a client knows to be open after an answer: those it knew, less the one it
    worked, and those the answer lists. The case start lists the three parallel tasks at
    once; each agency works its own from its inbox, so none is forgotten because another
    was worked first (forgetting them made the clients look for each in every agency's
    inbox: 11 lookups a case instead of 4)."""
    left = [task for task in known if worked is None or task["id"] != worked["id"]]
    seen = {task["id"] for task in left}
    return left + [task for task in listed if task["id"] not in seen]


def find_in_inbox(read_page: Callable[[str], dict], task_id: int) -> dict | None:
    """The task's row in an agency's inbox, read page by page (the keyset ``next`` link)
    until it is found or the inbox ends: a busy agency has more than one page.
    ``read_page(url)`` answers one page (``results``, ``next``)."""
    url: str | None = INBOX
    while url is not None:
        page = read_page(url)
        found = next((row for row in page["results"] if row["id"] == task_id), None)
        if found is not None:
            return found
        url = page["next"]
    return None
