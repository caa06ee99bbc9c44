"""Public ids: what the API and the pages call a task or an event, in place of its key.

Tasks and events take their keys from one sequence each, over every case, and a task or event
on a branch hidden from a reader takes a number all the same: the gap between two keys a reader
is shown counted the hidden rows between them and told the branch a health decision took
(docs/security.md, "What the path of a case gives away"). So no key of these rows leaves the
server: each is shown as a keyed pseudorandom permutation of itself, a number below 2**52 (a
JSON integer JavaScript reads exactly) that says nothing of its neighbours without the key.

The permutation is a balanced Feistel network over 52 bits (two halves of 26), its round
function keyed BLAKE2b (a PRF, one call a round; HMAC-SHA256 is two) with a key per kind and
round derived from ``PUBLIC_ID_KEY`` by HMAC-SHA256, so a task and an event of the same key
differ and one kind's id is no other's. Eight rounds: four already make a strong pseudorandom
permutation (Luby-Rackoff), but proven only up to about 2**13 ids on 26-bit halves; six and
more push the bound towards 2**26 (Patarin), eight for margin, at about a microsecond a round.
Every number below 2**52 decodes to some key: a made-up id finds no row (404 like any other),
never an error.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

BITS = 52
HALF = BITS // 2
HALF_MASK = (1 << HALF) - 1
LIMIT = 1 << BITS  # public ids are 0 <= id < LIMIT; keys must be below it too
ROUNDS = 8
# access: an access-log row; the rest name what an access-log row's ``item`` is about (``ITEMS``)
KINDS = ("task", "event", "access", "note", "attachment", "correction", "job", "message", "export")


def _no_key() -> str:
    raise RuntimeError("core.public_ids has no key: use_key() was not called (workflows.apps does)")


_key: Callable[[], str] = _no_key


def use_key(source: Callable[[], str]) -> None:
    """Where the key comes from (``settings.BROBYGGER["PUBLIC_ID_KEY"]``, read on each use so
    that a test's ``override_settings`` applies): set once at start-up by ``workflows.apps``;
    this module stays plain Python (``tests/test_architecture.py``)."""
    global _key
    _key = source


@functools.lru_cache(maxsize=16)
def _rounds(secret: str, kind: str) -> tuple[Any, ...]:
    """The round functions of ``kind``'s permutation: BLAKE2b keyed per round, ready to copy."""
    if kind not in KINDS:
        raise ValueError(f"no public ids of kind {kind!r}")
    base = hmac.new(secret.encode(), f"brobygger.public-id.{kind}".encode(), hashlib.sha256).digest()
    return tuple(
        hashlib.blake2b(key=hmac.new(base, bytes([number]), hashlib.sha256).digest(), digest_size=4)
        for number in range(ROUNDS)
    )


def _permute(rounds: tuple[Any, ...], number: int) -> int:
    left, right = number >> HALF, number & HALF_MASK
    for keyed in rounds:
        mac = keyed.copy()
        mac.update(right.to_bytes(4, "big"))
        left, right = right, left ^ (int.from_bytes(mac.digest(), "big") & HALF_MASK)
    return (left << HALF) | right


def _unpermute(rounds: tuple[Any, ...], number: int) -> int:
    left, right = number >> HALF, number & HALF_MASK
    for keyed in reversed(rounds):
        mac = keyed.copy()
        mac.update(left.to_bytes(4, "big"))
        left, right = right ^ (int.from_bytes(mac.digest(), "big") & HALF_MASK), left
    return (left << HALF) | right


def encode(kind: str, pk: int) -> int:
    """The public id of the ``kind`` row keyed ``pk``."""
    if not 0 <= pk < LIMIT:
        raise ValueError("key out of range for a public id")
    return _permute(_rounds(_key(), kind), pk)


def decode(kind: str, public: int) -> int:
    """The key of the ``kind`` row whose public id is ``public`` (which may be no row's)."""
    if not 0 <= public < LIMIT:
        raise ValueError("not a public id")
    return _unpermute(_rounds(_key(), kind), public)


def encode_or_none(kind: str, pk: int | None) -> int | None:
    return None if pk is None else encode(kind, pk)


def lookup(kind: str, value: object) -> int:
    """``value`` (a public id from a URL, a body or a query) as a key to look a row up by: one
    that is no public id becomes 0, which no row has, so the caller answers 404 as for any
    id it does not find."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return 0
    try:
        number = int(value)
        return decode(kind, number)
    except ValueError:
        return 0


class PublicIdConverter:
    """A path converter for one kind's public ids: ``to_python`` decodes, ``to_url`` encodes,
    so ``reverse("task", args=[task.pk])`` and ``{% url 'task' task.pk %}`` give the public
    URL and the view receives the key. Any number matches (one past the
    range becomes 0: no row), so a made-up id answers the view's own 404, the same as a real
    id of a row the reader may not see."""

    regex = "[0-9]+"
    kind = ""

    def to_python(self, value: str) -> int:
        return lookup(self.kind, value)

    def to_url(self, value: int) -> str:
        return str(encode(self.kind, int(value)))


class TaskIdConverter(PublicIdConverter):
    kind = "task"


class EventIdConverter(PublicIdConverter):
    kind = "event"


CONVERTERS = {"task_id": TaskIdConverter, "event_id": EventIdConverter}  # registered by the URLconfs


def public_basis(basis: str) -> str:
    """An access-log basis as a reader is shown it: ``task:<key>`` (stored so: the key stays
    when the public ids' key changes) names the task by its public id."""
    if basis and basis.startswith("task:") and basis[5:].isdigit() and int(basis[5:]) < LIMIT:
        return f"task:{encode('task', int(basis[5:]))}"
    return basis


# An access-log row's ``item`` (``<name>:<key>``) names its object by key, stored so (the key
# stays when the public ids' key changes); shown, the key is each kind's permutation of it.
# Read by coordinators and auditors (auditors read no note, attachment or correction), and each
# sequence runs over every case: note and attachment keys counted the notes others wrote
# meanwhile, correction keys the corrections made elsewhere, and job and message keys the
# notification jobs and messages of each step, a branch hidden from the reader included (the
# jobs' and corrections' keys left the timeline's details for this, docs/security.md "Ids
# count nothing"). Agencies (``agency:<id>``: an admin-kept list) keep their ids.
ITEMS = {
    "note": "note",
    "attachment": "attachment",
    "correction": "correction",
    "service-task": "job",
    "external-task": "job",
    "message": "message",
    "archive-export": "export",
    "archive-folder": "export",
    "archive-delivery": "export",
}


def public_item(item: str) -> str:
    """An access-log row's ``item`` as a reader is shown it: ``note:<key>`` (and the other
    ``ITEMS``) names its object by its kind's public id; any other item as it is."""
    name, colon, number = item.partition(":")
    kind = ITEMS.get(name)
    if kind is None or not colon or not (number.isascii() and number.isdigit()) or int(number) >= LIMIT:
        return item
    return f"{name}:{encode(kind, int(number))}"
