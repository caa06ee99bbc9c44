"""Keeping the summary tables current: the increments of a step's events, as upserts.

``record_step`` is a ``core.hooks`` writer: the step machinery calls it inside the step's
transaction, just before it writes the events, and the upserts go in the step's own batch
(no extra round trip on PostgreSQL). ``insight.backfill`` feeds the same ``Tally`` from
the recorded history, so a figure counts the same way live and rebuilt.

Rows are merged by key and written in a fixed order (table, then key), so two steps that
touch the same rows take their locks in the same order and cannot deadlock each other.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import connection
from django.utils import timezone

from insight import periods
from insight.models import (
    WHOLE_MUNICIPALITY,
    CaseFlow,
    DischargeWait,
    FiguresVersion,
    HousingTime,
    SummaryRow,
    TaskTime,
    TimerFired,
)
from insight.periods import counted_in, month_of, quarter_of
from workflows.models import CaseOutcome, EventKind

# The discharge form's fields (institution_discharge_to_housing): the day the hospital
# declared the patient ready, and the day of discharge. Days between are paid for.
READY_FOR_DISCHARGE_FIELD = "discharge_ready_date"
DISCHARGE_FIELD = "discharge_date"

# Key columns and counted columns of each table, in the order rows are written.
TABLES: dict[type[SummaryRow], tuple[tuple[str, ...], tuple[str, ...]]] = {
    CaseFlow: (("scope", "month", "process_key", "outcome", "tenure"), ("opened", "closed")),
    HousingTime: (("scope", "quarter", "process_key", "days"), ("cases",)),
    TaskTime: (
        ("scope", "month", "definition_id", "element_id", "agency_id"),
        ("completed", "seconds", "with_deadline", "late"),
    ),
    TimerFired: (("scope", "month", "definition_id", "element_id"), ("fired",)),
    DischargeWait: (("scope", "month"), ("discharges", "days", "waited")),
}


# Longer than any step's transaction: a step this close to the end of a month counts as if
# the month had ended before it commits.
VERSION_MARGIN = datetime.timedelta(hours=1)


def scopes_of(agency_ids) -> list[int]:
    """The whole municipality and each agency taking part."""
    return [WHOLE_MUNICIPALITY, *sorted(set(agency_ids))]


def parse_date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


class Tally:
    """Increments to the summary tables, merged by key."""

    def __init__(self):
        self.rows: dict[type[SummaryRow], dict[tuple, list[int]]] = defaultdict(dict)

    def add(self, model: type[SummaryRow], scopes: list[int], key: tuple, counts: tuple[int, ...]) -> None:
        table = self.rows[model]
        for scope in scopes:
            current = table.setdefault((scope, *key), [0] * len(counts))
            for index, count in enumerate(counts):
                current[index] += count

    def __bool__(self) -> bool:
        return any(self.rows.values())

    def objects(self, model: type[SummaryRow]) -> list:
        key_fields, count_fields = TABLES[model]
        return [
            model(**dict(zip(key_fields, key, strict=True)), **dict(zip(count_fields, counts, strict=True)))
            for key, counts in sorted(self.rows[model].items())
        ]

    def scopes(self) -> list[int]:
        return sorted({key[0] for table in self.rows.values() for key in table})

    def write(self, batch) -> None:
        """Queue one upsert per table in ``batch`` (a ``workflows.steps.rows.Batch``), and,
        when a row is of a period whose figures may be read before this step commits
        (``changes_shown_figures``), bump the version of each scope written (last, in scope
        order, so steps lock the version rows in one order after the summary rows and cannot
        deadlock)."""
        for model, (key_fields, count_fields) in TABLES.items():
            if self.rows[model]:
                rows = [(*key, *counts) for key, counts in sorted(self.rows[model].items())]
                batch.insert_values(model, key_fields + count_fields, rows, on_conflict=_add_on_conflict(model))
        if self.changes_shown_figures():
            batch.insert_values(
                FiguresVersion,
                ("scope", "version"),
                [(scope, 1) for scope in self.scopes()],
                on_conflict=_bump_on_conflict(),
            )

    def changes_shown_figures(self, moment: datetime.datetime | None = None) -> bool:
        """Whether a row is of a period that has ended, or ends within ``VERSION_MARGIN`` of
        ``moment`` (now): figures cached from the rows before this step commits may then
        count that period, and the scopes' versions must move. A step counts in periods
        that have not ended (``counted_in``), so it leaves the versions alone but in the
        last hour of a month: bumping them on every step made every counted step in the
        municipality queue on scope 0's version row until its commit, and every page compute
        its figures again."""
        until = periods.finished_before((moment or timezone.now()) + VERSION_MARGIN)
        for model, table in self.rows.items():
            key_fields = TABLES[model][0]
            period = "quarter" if "quarter" in key_fields else "month"
            position = key_fields.index(period)
            shown = quarter_of(until) if period == "quarter" else until
            if any(key[position] < shown for key in table):
                return True
        return False

    # --- the facts counted -----------------------------------------------------------------

    def case_opened(self, scopes, *, day: datetime.date, process_key: str) -> None:
        self.add(CaseFlow, scopes, (month_of(day), process_key, "", ""), (1, 0))

    def case_closed(self, scopes, *, day: datetime.date, process_key: str, outcome: CaseOutcome | None) -> None:
        kind = outcome.kind.code if outcome else ""
        tenure = outcome.tenure if outcome else ""
        self.add(CaseFlow, scopes, (month_of(day), process_key, kind, tenure), (0, 1))
        # Referral to housed: outcomes of moving into a home (a kept home has no move), in the
        # quarter moved in, or the quarter the case closed if that one had already ended.
        if outcome and outcome.kind.needs_tenure and outcome.housed_date and outcome.referral_date:
            days = max(0, (outcome.housed_date - outcome.referral_date).days)
            quarter = counted_in(quarter_of, outcome.housed_date, day)
            self.add(HousingTime, scopes, (quarter, process_key, days), (1,))

    def task_completed(self, scopes, *, definition_id, element_id, agency_id, created_at, completed_at, due_at):
        held = max(0, int((completed_at - created_at).total_seconds()))
        late = int(due_at is not None and completed_at > due_at)
        key = (month_of(timezone.localdate(completed_at)), definition_id, element_id, agency_id)
        self.add(TaskTime, scopes, key, (1, held, int(due_at is not None), late))

    def timer_fired(self, scopes, *, day: datetime.date, definition_id: int, element_id: str) -> None:
        self.add(TimerFired, scopes, (month_of(day), definition_id, element_id), (1,))

    def discharged(self, scopes, data: dict, *, day: datetime.date) -> None:
        """A discharge whose case data has both dates (days before "ready" count as none),
        recorded on ``day``: counted in the month of discharge, or in the month recorded if
        the month of discharge had already ended."""
        ready, discharged = parse_date(data.get(READY_FOR_DISCHARGE_FIELD)), parse_date(data.get(DISCHARGE_FIELD))
        if ready and discharged:
            month = counted_in(month_of, discharged, day)
            days = max(0, (discharged - ready).days)
            self.add(DischargeWait, scopes, (month,), (1, days, int(days > 0)))


def _add_on_conflict(model: type[SummaryRow]) -> str:
    key_fields, count_fields = TABLES[model]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    keys = ", ".join(quote(name) for name in key_fields)  # the key names are their columns
    sums = ", ".join(f"{quote(name)} = {table}.{quote(name)} + EXCLUDED.{quote(name)}" for name in count_fields)
    return f"ON CONFLICT ({keys}) DO UPDATE SET {sums}"


def _bump_on_conflict() -> str:
    quote = connection.ops.quote_name
    table = quote(FiguresVersion._meta.db_table)
    return f"ON CONFLICT ({quote('scope')}) DO UPDATE SET {quote('version')} = {table}.{quote('version')} + 1"


COUNTED_EVENTS = frozenset(
    {EventKind.CASE_STARTED, EventKind.CASE_COMPLETED, EventKind.TASK_COMPLETED, EventKind.TIMER_FIRED}
)


def record_step(*, step, events, **_) -> None:
    """The ``STEP_EVENTS`` writer: count ``events`` of ``step`` into the summary tables."""
    if not any(event.kind in COUNTED_EVENTS for event in events):
        return
    instance = step.instance
    case = instance.case
    scopes = scopes_of(agency.pk for agency in step.agencies().values())
    today = timezone.localdate()
    tally = Tally()
    for event in events:
        if event.kind == EventKind.CASE_STARTED:
            tally.case_opened(scopes, day=today, process_key=case.process_key)
        elif event.kind == EventKind.TASK_COMPLETED:
            task = event.task
            tally.task_completed(
                scopes,
                definition_id=instance.definition_id,
                element_id=task.element_id,
                agency_id=task.agency_id,
                created_at=task.created_at,
                completed_at=task.completed_at,
                due_at=task.due_at,
            )
            if DISCHARGE_FIELD in event.detail.get("fields", ()):
                tally.discharged(scopes, case.data, day=timezone.localdate(task.completed_at))
        elif event.kind == EventKind.TIMER_FIRED:
            tally.timer_fired(scopes, day=today, definition_id=instance.definition_id, element_id=event.element_id)
        elif event.kind == EventKind.CASE_COMPLETED:
            outcome = CaseOutcome.objects.select_related("kind").filter(case_id=case.pk).first()
            tally.case_closed(scopes, day=today, process_key=case.process_key, outcome=outcome)
    tally.write(step.batch)
