"""Stored failure texts scrubbed again with today's scrubber (``manage.py scrub_failure_texts``).

A failure text is scrubbed where it is made and kept (``selectors.error_kept``, a step's
``Step.kept``): of every value its case holds and held, of what its person's other cases hold,
and of any e-mail address by RFC 5322's local part. Rows written before (a job's
``last_error``, an incident's ``error``, an incident event's ``detail``) kept what the scrub
of their day missed: a value corrected away that an agency's system remembered, the name the
person's other case spells, ``o'brien@...`` half-masked. Shown, they are scrubbed again
(``selectors.error_shown``); stored, they went where no scrub follows (an export of the
rows, a query by hand, a backup). This scrubs every stored one as it would be kept today.

Not a data migration: it reads the live models and registries (``selectors.HELD_BEFORE``:
``retention``'s corrections), which a migration's historical models cannot, and a big job or
event table is walked in batches of their own transactions (the rows to change locked and read
again only to be rewritten: a worker's newer error or an erasure is never written over), with the place
reached recorded (``FailureTextScrub``), so that a pass broken off goes on and a finished one
is skipped in one statement. Run by the upgrade step (docs/deploy.md) and by ``manage.py
serve`` before it starts the processes; idempotent (a scrubbed text scrubs to itself).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from bpmn.engine import scrub
from core.messages import Message
from workflows import selectors
from workflows.jobs.errors import MAX_ERROR
from workflows.models import Case, Event, EventKind, FailureTextScrub, Incident, Job

# The pass of today's scrubber; a later scrubber that finds more names a new pass.
CURRENT = "2026-12-06 values held ever, other cases, RFC 5322"
BATCH = 200  # rows of one table a transaction; their cases' saved states are read with them


def _scrubbed_params(value: Any, change: Callable[[str], str]) -> Any:
    """A stored message's JSON (``Message.as_json``) with ``change`` applied to every text
    among its params at any depth, its codes kept: as ``Message.map_text``, also for a code
    no longer known (its params hold the words as they were)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_scrubbed_params(item, change) for item in value]
    if isinstance(value, dict):
        if "code" in value and isinstance(value.get("params"), dict):
            return {**value, "params": _scrubbed_params(value["params"], change)}
        return {key: _scrubbed_params(item, change) for key, item in value.items()}
    return value


def kept(text: str, message: Any, literals: list[str]) -> tuple[str, Any]:
    """A stored failure (its ``text`` and its ``message``, ``Message.as_json`` or None) as it
    is kept today: the texts of the message scrubbed of ``literals`` and its English text made
    from it again; without a message (another system's words), the text scrubbed. A row
    with nothing to scrub comes back as it was (a message's text is not made again)."""

    def change(part: str) -> str:
        return scrub.scrub(part, literals)

    def changed_text() -> str:
        clean = change(text or "")
        return clean[:MAX_ERROR] if clean != text else text

    if not isinstance(message, dict):
        return changed_text(), message
    clean = _scrubbed_params(message, change)
    known = Message.from_json(clean)
    if known is None:  # a code no longer known: its text is what is shown
        return changed_text(), clean
    if clean == message:
        return text, message
    return str(known)[:MAX_ERROR], clean


class _Table:
    """One table's failure texts: which rows, their case, and how a row is read and set."""

    def __init__(self, key: str, rows: Callable[[], QuerySet], fields: tuple[str, ...]):
        self.key, self.rows, self.fields = key, rows, fields

    def get(self, row: Model) -> tuple[str, Any] | None:
        if isinstance(row, Event):
            detail = row.detail or {}
            return (detail["error"], detail.get("error_message")) if isinstance(detail.get("error"), str) else None
        if isinstance(row, Job):
            return row.last_error, row.last_error_message
        assert isinstance(row, Incident)
        return row.error, row.error_message

    def set(self, row: Model, text: str, message: Any) -> None:
        if isinstance(row, Event):
            detail = {**row.detail, "error": text}
            if "error_message" in row.detail:
                detail["error_message"] = message
            row.detail = detail
        elif isinstance(row, Job):
            row.last_error, row.last_error_message = text, message
        else:
            row.error, row.error_message = text, message  # type: ignore[attr-defined]


TABLES = (
    _Table("jobs", lambda: Job.objects.exclude(last_error=""), ("last_error", "last_error_message")),
    _Table("incidents", lambda: Incident.objects.all(), ("error", "error_message")),
    _Table("events", lambda: Event.objects.filter(kind=EventKind.INCIDENT), ("detail",)),
)


def _record(name: str) -> FailureTextScrub:
    try:
        with transaction.atomic():
            return FailureTextScrub.objects.get_or_create(name=name)[0]
    except IntegrityError:  # made meanwhile by another node's run
        return FailureTextScrub.objects.get(name=name)


def rescrub(
    *, name: str = CURRENT, batch: int = BATCH, out: Callable[[str], None] | None = None
) -> dict[str, int] | None:
    """Run (or go on with) the pass ``name``: every table in batches of ``batch`` rows, each
    its own transaction with the place reached. The rows changed by table; None when the
    pass was finished before (one statement)."""
    if FailureTextScrub.objects.filter(name=name, finished_at__isnull=False).exists():
        return None
    _record(name)
    for table in TABLES:
        while _batch(name, table, batch):
            pass
        if out is not None:
            record = FailureTextScrub.objects.get(name=name)
            out(f"{table.key}: {record.changed.get(table.key, 0)} changed")
    with transaction.atomic():
        record = FailureTextScrub.objects.select_for_update().get(name=name)
        if record.finished_at is None:
            record.finished_at = timezone.now()
            record.save(update_fields=["finished_at"])
    return {table.key: record.changed.get(table.key, 0) for table in TABLES}


def _batch(name: str, table: _Table, size: int) -> bool:
    """Scrub the next ``size`` rows of ``table``; False when none were left. The pass's row is
    locked first: two runs at once (the upgrade step and a node's ``serve``) take turns.

    The rows are read and their cases' values gathered (the slow part: every saved state of
    up to ``size`` cases) without a lock on them; only the rows whose text changes are then
    locked, read again and scrubbed from what they hold under the lock (a worker's newer
    error, an erasure's empty text: never written over), for the time of one update. Until
    2026-12-06 the whole batch was locked while the values were gathered: a worker recording
    a job's outcome, a retry or a folded incident waited on a row that needed nothing."""
    with transaction.atomic():
        record = FailureTextScrub.objects.select_for_update().get(name=name)
        after = record.progress.get(table.key, 0)
        fields = ("pk", "case_id", *table.fields)
        rows = list(table.rows().filter(pk__gt=after).order_by("pk").only(*fields)[:size])
        if not rows:
            return False
        by_case = _literals(table, rows)
        dirty = [row.pk for row in rows if _scrubbed(table, row, by_case)]
        changed: list[Model] = []
        if dirty:
            locked = table.rows().select_for_update(of=("self",)).filter(pk__in=dirty).order_by("pk").only(*fields)
            changed = [row for row in locked if _scrubbed(table, row, by_case)]
        if changed:
            type(rows[0])._default_manager.bulk_update(changed, list(table.fields))
        record.progress = {**record.progress, table.key: rows[-1].pk}
        record.changed = {**record.changed, table.key: record.changed.get(table.key, 0) + len(changed)}
        record.save(update_fields=["progress", "changed"])
        return True


def _literals(table: _Table, rows: list[Model]) -> dict[int, list[str]]:
    """The ``case_literals_ever`` of the cases of ``rows`` with a failure text, by case id (its
    cases read at once); a row of no case is scrubbed by the rules alone."""
    ids = {row.case_id for row in rows if table.get(row) is not None and row.case_id is not None}  # type: ignore[attr-defined]
    cases: Iterable[Case] = Case.objects.select_related("person").in_bulk(ids).values() if ids else ()
    return selectors.literals_ever_by_case(cases)


def _scrubbed(table: _Table, row: Model, by_case: dict[int, list[str]]) -> bool:
    """Whether ``row``'s text changes scrubbed of its case's ``by_case``; if so, set to it."""
    found = table.get(row)
    if found is None:
        return False
    text, message = found
    clean = kept(text, message, by_case.get(row.case_id, []))  # type: ignore[attr-defined]
    if clean == (text, message):
        return False
    table.set(row, *clean)
    return True
