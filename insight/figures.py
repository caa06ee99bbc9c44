"""The figures of the insight pages, read from the summary tables and made safe to show.

Each family of figures (case flow and outcomes, referral to housed, task times, escalations,
discharge waits) is one ``Ledger`` over *every* period of a scope: a page shows a year of
it and a filter picks columns of it, but what is hidden is decided once for the whole
family, so no two views of the same scope can be subtracted from each other to reveal a
hidden count. And it is decided once per finished period: every later reading keeps what
the earlier ones showed and hid, and is suppressed with their numbers taken as known
(``decide``), so the readings a leader keeps month after month give nothing away together.
A figure is a table (its rows as shown, small counts hidden) and a chart drawn from the
same cells.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import Count as CountOf
from django.db.models import Exists, F, Max, Min, OuterRef, Sum
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from bpmn.engine.xml import parse_bpmn_xml
from bpmn.models import ProcessDefinition
from insight import periods
from insight.models import (
    WHOLE_MUNICIPALITY,
    CaseFlow,
    DecidedLedger,
    DischargeWait,
    FiguresVersion,
    HousingTime,
    TaskTime,
    TimerFired,
)
from insight.periods import quarter_of
from insight.privacy import SMALL, Ledger, combine, decided, dumps, joint, loads, read_on, write_back
from permissions.models import Agency, CaseParticipant, Membership, Role
from workflows.models import ACTIVE_TASK_STATUSES, OutcomeKind, ProcessInstance, Task, Tenure

NOT_SHOWN = "\u2013"  # an en dash: a figure about fewer than five is left out
EVICTED_KIND = "utkastet"  # the standard kind "Kastet ut av boligen"
BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


# --- cells of a figure ------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    cell: int


@dataclass(frozen=True)
class Stat:
    """A number about a group (a median, a mean, an amount): shown when the group counts
    at least five (``n``) and its count (``cell``, when the figure has one) is shown, else
    left out: the mean of a group whose count is hidden to protect a small one beside it,
    next to the mean of both, would tell the small one's."""

    value: float | None
    n: int
    digits: int = 0
    unit: str = ""
    cell: int | None = None  # the ledger cell counting the group


@dataclass
class Figure:
    key: str
    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)  # label (str) first, then Count/Stat/str
    chart_columns: list[int] = field(default_factory=list)  # which columns the chart draws
    chart: str = "bars"  # "bars" (categories down, series across) or "hbars"
    note: str = ""
    ledger: Ledger = field(default_factory=Ledger)

    def shows(self, stat: Stat) -> bool:
        hidden = stat.cell is not None and self.ledger.is_hidden(stat.cell)
        return stat.value is not None and stat.n >= SMALL and not hidden

    def text(self, value) -> str:
        if isinstance(value, Count):
            return self.ledger.shown(value.cell)
        if isinstance(value, Stat):
            if not self.shows(value):
                return NOT_SHOWN
            return f"{value.value:,.{value.digits}f}".replace(",", "\u00a0") + value.unit
        return str(value)

    def number(self, value) -> float | None:
        """The value a chart draws; None where the table hides it."""
        if isinstance(value, Count):
            return None if self.ledger.is_hidden(value.cell) else self.ledger.values[value.cell]
        if isinstance(value, Stat):
            return value.value if self.shows(value) else None
        return None

    def table(self) -> list[list[str]]:
        return [[self.text(value) for value in row] for row in self.rows]

    def series(self) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
        """Categories (row labels, totals left out) and one series per chart column."""
        total = _("Total")
        rows = [row for row in self.rows if not str(row[0]).startswith(total)]
        categories = [str(row[0]) for row in rows]
        return categories, [
            (self.header[column], [self.number(row[column]) for row in rows]) for column in self.chart_columns
        ]

    def total(self) -> int:
        """The figure's grand total (its last row's first count), for refusing small filters."""
        for value in self.rows[-1] if self.rows else ():
            if isinstance(value, Count):
                return self.ledger.values[value.cell]
        return 0


# --- computed once per change of a scope's figures ------------------------------------------

CACHE_SECONDS = 3600  # an unused version's entries go; a current one is recomputed hourly at most


def version_of(scope: int) -> int:
    return FiguresVersion.objects.filter(scope=scope).values_list("version", flat=True).first() or 0


def cached(compute):
    """``compute(scope, *args, until=...)`` once per version of the scope's summary rows, last
    finished month (``until``: the first month not counted) and language.

    A family's suppression is decided over every period of the scope, which costs most of a
    page; the version is read before the rows, and bumped in the transaction that changes
    them (``insight.recording``), so an entry is never older than the last commit.
    """

    @functools.wraps(compute)
    def wrapper(scope: int, *args, version: int | None = None, together: tuple[int, ...] = ()):
        """``version``: the scope's, read once for all the figures of a page (else read here);
        ``together``: the other scopes the reader sees, whose figures are suppressed with these
        (``privacy.joint``), so their versions are part of the key too."""
        version = version_of(scope) if version is None else version
        until = periods.finished_before()
        others = [f"{other}v{version_of(other)}" for other in together]
        parts = [compute.__name__, scope, version, until, get_language(), *args, *others]
        key = "insight:" + ":".join(str(part) for part in parts)
        found = cache.get(key)
        if found is None:
            found = compute(scope, *args, until=until, **({"together": together} if together else {}))
            cache.set(key, found, CACHE_SECONDS)
        return found

    return wrapper


def suppress(ledger: Ledger, others: list[Ledger]) -> None:
    """Decide what ``ledger`` hides in this reading alone: alone, or with the same family of
    the other scopes its reader sees (``others``), so that no figure of one less the same of
    another tells a small count (README "Insight for leaders"). For a live figure only
    (``overdue_now``); the finished periods' figures are decided once (``decide``)."""
    if others:
        joint([ledger, *others])
    else:
        ledger.suppress()


def decide(family: str, scopes: tuple[int, ...], ledgers: list[Ledger], until: datetime.date) -> None:
    """Decide what the ledgers of ``family`` (one per scope of ``scopes``, the first the
    scope read, the others read with it: ``privacy.joint``) hide, with every earlier
    reading of the same scopes taken as known and its decisions kept (``DecidedLedger``).

    A leader may keep every month's export: a finished month's cells are then shown (or
    hidden) at every later reading as at the first, and a later reading hides what it must
    so that the readings put together give no small count away (README "Insight for
    leaders", "Readings kept month after month")."""
    order = sorted(range(len(scopes)), key=lambda index: scopes[index])
    ledgers = [ledgers[index] for index in order]
    names = [scopes[index] for index in order]
    together, offsets = combine(ledgers, names)
    # On the primary whatever the reading's summary rows are read from: it is written here.
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        kept, _created = (
            DecidedLedger.objects.using(DEFAULT_DB_ALIAS)
            .select_for_update()
            .get_or_create(family=family, scopes=",".join(map(str, names)), defaults={"until": until})
        )
        known = loads(kept.ledger) if kept.ledger else None
        overlapping = _overlapping(kept, set(names), (family, *FORMER.get(family, ())))
        if overlapping:
            kept.folded.update({str(row.pk): row.updated_at.isoformat() for row in overlapping})
        union, where, new = read_on(known, [loads(row.ledger) for row in overlapping if row.ledger], together)
        if new or overlapping:
            kept.ledger, kept.until = dumps(union), max(kept.until, until)
            kept.save(update_fields=["ledger", "until", "folded", "updated_at"])
    decided(union, together, where)
    write_back(together, ledgers, offsets)


# The families whose figures another family now holds, by it: their kept decisions are taken in.
FORMER = {"case_flow": ("housing_time",)}
SUCCESSOR = {former: family for family, formers in FORMER.items() for former in formers}


def _overlapping(kept: DecidedLedger, scopes: set[int], families: tuple[str, ...]) -> list[DecidedLedger]:
    """The other groups' ledgers of ``families`` (``kept``'s, and those it holds the figures
    of) that share a scope with it and were written since ``kept`` last took them in
    (``fold``): a leader whose scopes changed read them. A family has a ledger per group that
    was ever read: few rows, read without their ledgers first."""
    rows = DecidedLedger.objects.using(DEFAULT_DB_ALIAS).filter(family__in=families).exclude(pk=kept.pk)
    wanted = [
        pk
        for pk, group, written in rows.values_list("pk", "scopes", "updated_at")
        if scopes & {int(scope) for scope in group.split(",")} and kept.folded.get(str(pk)) != written.isoformat()
    ]
    return list(rows.filter(pk__in=wanted).order_by("pk")) if wanted else []


def read_together(scopes: list[int]) -> tuple[int, ...]:
    """``scopes`` (one reader's), every scope some leader reads and the whole municipality's:
    the one group whose figures are decided together (``decide``), sorted.

    Leaders compare their pages: the housing office's figure less NAV's counts the cases
    without NAV, the municipality's less an agency's the cases without it, whoever reads
    which. So every figure shown to a leader is decided in one ledger with every other
    leader's (README "Several scopes, one reader"), and a scope's figures read the same to
    every reader, whatever else each reads: a leader who gains or loses an agency, or two
    leaders, never hold a finished month of one scope hidden two ways."""
    return tuple(sorted(set(scopes) | _published()))


def _published() -> set[int]:
    """The scopes leaders read: the municipality's and every agency some leader leads (a
    municipality leader reads the municipality only)."""
    municipal = Membership.objects.filter(role=Role.MUNICIPAL_LEADER).values("user_id")
    rows = Membership.objects.filter(role=Role.LEADER).exclude(user_id__in=municipal)
    return {WHOLE_MUNICIPALITY, *rows.values_list("agency_id", flat=True).distinct()}


def leader_groups() -> list[set[int]]:
    """Every group of scopes read together now (``read_together``): one."""
    return [_published()]


def prune_decided_ledgers() -> int:
    """Delete the kept ledgers no reading can need any more; how many.

    A group's ledger is needed while its group is read (``leader_groups``) and its family
    decided (not one whose figures another family now holds, ``FORMER``), and after that
    until each of its scopes is in a group being read whose ledger has taken it in as last
    written (``DecidedLedger.folded``): that ledger then holds every cell and sum it held, and
    a group formed later takes in that one (it overlaps it, and was written since). Until then
    it is kept: a leader of one of its scopes may come back to it, or a new leader read it.
    Nothing inside a ledger is pruned (README "Readings kept month after month")."""
    current = {",".join(map(str, sorted(group))) for group in leader_groups()}
    rows = list(DecidedLedger.objects.values_list("pk", "family", "scopes", "updated_at", "folded"))
    reading = [
        (family, set(group.split(",")), folded)
        for _pk, family, group, _at, folded in rows
        if group in current and family not in SUCCESSOR
    ]
    pruned = 0
    for pk, family, scopes, written, _folded in rows:
        if scopes in current and family not in SUCCESSOR:
            continue
        reader = SUCCESSOR.get(family, family)
        taken_in = [
            group for kind, group, folded in reading if kind == reader and folded.get(str(pk)) == written.isoformat()
        ]
        if all(any(scope in group for group in taken_in) for scope in scopes.split(",")):
            # Only as last written: a reading since (a group read again) keeps it.
            pruned += DecidedLedger.objects.filter(pk=pk, updated_at=written).delete()[0]
    return pruned


# A family's dicts that hold no cells, and the cells named otherwise than their field: the
# moves in were a family of their own ("cells", "totals"), whose kept decisions are found by
# those names (``decide``).
UNLABELLED = ("held", "seconds", "histograms")
NAMES = {"moved_in": "cells", "moved_in_quarter": "totals"}


def label_family(family) -> None:
    """Name every count of a family's dicts (field name and key) for ``privacy.joint``."""
    for item in dataclasses.fields(family):
        cells = getattr(family, item.name)
        if isinstance(cells, dict) and item.name not in UNLABELLED:
            family.ledger.label(NAMES.get(item.name, item.name), cells)


# --- periods and names ------------------------------------------------------------------


def months_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def month_label(month: datetime.date) -> str:
    return str(MONTHS_3[month.month])


def quarter_label(quarter: datetime.date) -> str:
    return _("Q%(number)s") % {"number": (quarter.month - 1) // 3 + 1}


def process_names() -> dict[str, str]:
    names = {}
    for key, name in ProcessDefinition.objects.order_by("key", "version").values_list("key", "name"):
        names[key] = name or key
    return names


def agency_names() -> dict[int, str]:
    return dict(Agency.objects.values_list("pk", "name"))


@lru_cache(maxsize=256)
def elements_of(definition_id: int) -> dict[str, tuple[str, str]]:
    """Element id -> (BPMN type, name) of a version (immutable, so cached)."""
    xml = ProcessDefinition.objects.values_list("bpmn_xml", flat=True).get(pk=definition_id)
    root = parse_bpmn_xml(xml.encode() if isinstance(xml, str) else xml)
    return {
        node.get("id"): (node.tag.removeprefix(BPMN_NS), node.get("name") or node.get("id"))
        for node in root.iter()
        if isinstance(node.tag, str) and node.tag.startswith(BPMN_NS) and node.get("id")
    }


def daily_rate(year: int) -> int:
    """The municipality's payment per day for a patient ready for discharge, in NOK: the
    setting for the year, else the latest earlier year's."""
    rates = settings.BROBYGGER["DISCHARGE_DAY_RATES"]
    known = [y for y in rates if y <= year]
    return rates[max(known)] if known else 0


@cached
def year_span(scope: int, *, until: datetime.date) -> tuple[int, int] | None:
    span = CaseFlow.objects.filter(scope=scope, month__lt=until).aggregate(first=Min("month"), last=Max("month"))
    return None if span["first"] is None else (span["first"].year, span["last"].year)


def years_with_figures(scope: int, version: int | None = None) -> list[int]:
    span, this_year = year_span(scope, version=version), datetime.date.today().year
    if span is None:
        return [this_year]
    return list(range(span[0], max(span[1], this_year) + 1))


def _span(rows, key="month") -> list[datetime.date]:
    periods = [row[key] for row in rows]
    if not periods:
        return []
    first = min(periods)
    return months_between(first, max(periods)) if key == "month" else sorted(set(periods))


def _year_rows(months: list[datetime.date], year: int) -> list[datetime.date]:
    return [month for month in months if month.year == year]


# --- family A: case flow and outcomes -----------------------------------------------------


@dataclass
class CaseFlowFamily:
    ledger: Ledger
    months: list[datetime.date]
    processes: list[str]
    kinds: list[str]
    tenures: list[str]
    opened: dict  # (month, process) -> cell
    opened_month: dict  # month -> cell
    closed: dict  # (month, kind) -> cell
    closed_month: dict
    open_end: dict  # month -> cell
    yearly: dict  # (year, kind, tenure) -> cell
    yearly_kind: dict  # (year, kind) -> cell
    yearly_tenure: dict  # (year, tenure) -> cell
    yearly_closed: dict  # year -> cell
    yearly_opened: dict  # year -> cell
    report: dict  # (year, line) -> cell
    # Referral to housed (``housing_time``): the same closures, counted per quarter moved in.
    histograms: dict  # (quarter, process or None) -> [(days, cases)]
    quarters: list[datetime.date]
    housing_processes: list[str]
    moved_in: dict  # (quarter, process) -> cell
    moved_in_quarter: dict  # quarter -> cell


REPORT_LINES = ("rented", "owned", "kept", "evicted")


@cached
def case_flow(scope: int, *, until: datetime.date, together: tuple[int, ...] = ()) -> CaseFlowFamily:
    family = _case_flow(scope, until)
    others = [_case_flow(other, until).ledger for other in together]
    decide("case_flow", (scope, *together), [family.ledger, *others], until)
    return family


def _case_flow(scope: int, until: datetime.date) -> CaseFlowFamily:
    """The family's numbers and sums, labelled, not yet suppressed."""
    rows = list(
        CaseFlow.objects.filter(scope=scope, month__lt=until).values(
            "month", "process_key", "outcome", "tenure", opened_sum=F("opened"), closed_sum=F("closed")
        )
    )
    kinds = {kind.code: kind for kind in OutcomeKind.objects.all()}
    months = _span(rows)
    processes = sorted({row["process_key"] for row in rows})
    # Listed where a case closed with it: a summary row can come back to 0 closed (a case
    # reopened), and a column of zeros marked "1 or more" (below) contradicted its own cells.
    kind_codes = [code for code in kinds if any(row["outcome"] == code and row["closed_sum"] for row in rows)]
    if any(row["outcome"] == "" and row["closed_sum"] for row in rows):
        kind_codes.append("")
    closed_tenures = {row["tenure"] for row in rows if row["closed_sum"]}
    tenures = [value for value in Tenure.values if value in closed_tenures] + [""]
    opened_v: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    closed_v: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    yearly_v: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    for row in rows:
        opened_v[row["month"], row["process_key"]] += row["opened_sum"]
        closed_v[row["month"], row["outcome"]] += row["closed_sum"]
        yearly_v[row["month"].year, row["outcome"], row["tenure"]] += row["closed_sum"]
    ledger = Ledger()
    opened = {(m, p): ledger.count(opened_v[m, p]) for m in months for p in processes}
    opened_month = {m: ledger.total([opened[m, p] for p in processes]) for m in months}
    closed = {(m, k): ledger.count(closed_v[m, k]) for m in months for k in kind_codes}
    closed_month = {m: ledger.total([closed[m, k] for k in kind_codes]) for m in months}
    open_end, previous = {}, None
    running = 0
    for m in months:
        running += ledger.values[opened_month[m]] - ledger.values[closed_month[m]]
        open_end[m] = ledger.count(running)
        terms = [(opened_month[m], 1), (closed_month[m], -1), (open_end[m], -1)]
        ledger.equation(terms + ([(previous, 1)] if previous is not None else []))
        previous = open_end[m]
    years = sorted({m.year for m in months})
    yearly, yearly_kind, yearly_tenure, yearly_closed, report = {}, {}, {}, {}, {}
    yearly_opened = {}
    for year in years:
        in_year = _year_rows(months, year)
        yearly_opened[year] = ledger.total([opened_month[m] for m in in_year])
        for k in kind_codes:
            yearly_kind[year, k] = ledger.total([closed[m, k] for m in in_year])
            for t in tenures:
                yearly[year, k, t] = ledger.count(yearly_v[year, k, t])
            ledger.equation([(yearly[year, k, t], 1) for t in tenures] + [(yearly_kind[year, k], -1)])
        for t in tenures:
            yearly_tenure[year, t] = ledger.total([yearly[year, k, t] for k in kind_codes])
        yearly_closed[year] = ledger.total([yearly_kind[year, k] for k in kind_codes])
        ledger.equation([(yearly_tenure[year, t], 1) for t in tenures] + [(yearly_closed[year], -1)])
        ledger.equation([(closed_month[m], 1) for m in in_year] + [(yearly_closed[year], -1)])
        moved = [k for k in kind_codes if k in kinds and kinds[k].needs_tenure]
        lines = {
            "rented": [
                yearly[year, k, t]
                for k in moved
                for t in (Tenure.MUNICIPAL_RENTAL, Tenure.PRIVATE_RENTAL, Tenure.SUPPORTED_HOUSING)
                if t in tenures
            ],
            "owned": [
                yearly[year, k, Tenure.OWNED_WITH_STARTLAN] for k in moved if Tenure.OWNED_WITH_STARTLAN in tenures
            ],
            "kept": [
                yearly_kind[year, k]
                for k in kind_codes
                if k in kinds and kinds[k].has_home and not kinds[k].needs_tenure
            ],
            "evicted": [yearly_kind[year, k] for k in kind_codes if k == EVICTED_KIND],
        }
        for line, parts in lines.items():
            report[year, line] = ledger.total(parts) if parts else ledger.count(0)
        # The annual report shows its lines and the cases closed: the rest closed otherwise
        # (not housed, no outcome recorded), worked out by subtraction, is a count too.
        ledger.remainder(yearly_closed[year], [report[year, line] for line in REPORT_LINES])
    # A column of an outcome or a form of tenure is listed only where a case closed with it.
    for k in kind_codes:
        ledger.at_least_one([closed[m, k] for m in months])
    for t in tenures[:-1]:
        ledger.at_least_one([yearly[year, k, t] for year in years for k in kind_codes])
    histograms, quarters, housing_processes, moved_in, moved_in_quarter = _housing(ledger, scope, until)
    # A move is counted in the quarter its case closed as housed, or the later quarter moved
    # in (``recording.case_closed``; the outcome form asks for the form of tenure and the day
    # moved in): a quarter's cases moved in are the cases closed with a kind that moves the
    # person in, in its three months, but for a move dated after its case closed. Tied by that
    # sum where it holds (an attacker may take it to), so that neither table's quarter or month
    # gives back what the other hides (a month of 3 housed, hidden, was the quarter's 23 less
    # 10 and 10). Where a move counts in a later quarter the sum is off by it, and the attacker's
    # subtraction with it (README "Figures of two families").
    moves = [k for k in kind_codes if k in kinds and kinds[k].needs_tenure]
    for q, cell in moved_in_quarter.items():
        closures = [closed[m, k] for m in months if quarter_of(m) == q for k in moves]
        if closures and sum(ledger.values[each] for each in closures) == ledger.values[cell]:
            ledger.equation([(each, 1) for each in closures] + [(cell, -1)])
    _carried_moves(ledger, months, moves, closed, moved_in_quarter, quarter_of(until))
    family = CaseFlowFamily(
        ledger,
        months,
        processes,
        kind_codes,
        tenures,
        opened,
        opened_month,
        closed,
        closed_month,
        open_end,
        yearly,
        yearly_kind,
        yearly_tenure,
        yearly_closed,
        yearly_opened,
        report,
        histograms,
        quarters,
        housing_processes,
        moved_in,
        moved_in_quarter,
    )
    label_family(family)
    return family


def _carried_moves(ledger: Ledger, months, moves, closed, moved_in_quarter, current: datetime.date) -> None:
    """Tie the cases moved in per quarter to the cases closed as housed per month, across a
    move dated after its case closed (counted in a later quarter: ``recording.case_closed``).

    Up to the end of each finished quarter, the cases closed as housed less those moved in
    are the moves still to come (0 or more: a move is never counted before its case closed):
    where they are none, the sum is exact (an attacker may take it to be); where they are one
    to four, a count of cases protected like a small count (a DIFFERENCE never below 0; five
    or more pins nothing, ``privacy._tie``). And any run of quarters moved in less its
    closures (the moves carried into the run less those carried out) is a difference
    protected the same way where it is 1 to 4 off zero: 26 closed as housed in a quarter
    and 25 moved in told one move dated after its case closed, 28 and 29 in the next where
    it was counted (README "Figures of two families"; until 2026-12-06 a quarter was tied
    only where the two were equal)."""
    if not moved_in_quarter:
        return  # nobody moved in: nothing to tie
    quarters = sorted({quarter_of(m) for m in months} | set(moved_in_quarter))
    quarters = [q for q in quarters if q < current]
    runs: list[list[tuple[int, int]]] = []
    cumulative: list[tuple[int, int]] = []
    for q in quarters:
        terms = [(closed[m, k], 1) for m in months if quarter_of(m) == q for k in moves]
        if q in moved_in_quarter:
            terms.append((moved_in_quarter[q], -1))
        runs = [run + terms for run in runs] + [terms]
        cumulative = cumulative + terms
        pending = sum(coef * ledger.values[cell] for cell, coef in cumulative)
        if pending == 0:
            ledger.equation(list(cumulative))
        elif 0 < pending < SMALL:  # five or more pins nothing (``privacy._tie``)
            ledger.moved_by(list(cumulative))
        for run in runs[1:]:  # the first starts with the first quarter: ``cumulative``
            if 0 < abs(sum(coef * ledger.values[cell] for cell, coef in run)) < SMALL:
                ledger.moved_by(list(run))


def kind_labels() -> dict[str, str]:
    return {"": _("No outcome recorded"), **dict(OutcomeKind.objects.values_list("code", "label"))}


def tenure_labels() -> dict[str, str]:
    return {"": _("No form of tenure"), **{value: str(label) for value, label in Tenure.choices}}


def flow_figures(family: CaseFlowFamily, year: int) -> list[Figure]:
    names, kinds = process_names(), kind_labels()
    months = _year_rows(family.months, year)
    flow = Figure(
        "flow",
        _("Cases opened, closed and open per month"),
        [_("Month"), _("Opened"), _("Closed"), _("Open at month end")],
        chart_columns=[1, 2, 3],
        ledger=family.ledger,
    )
    for m in months:
        flow.rows.append(
            [month_label(m), Count(family.opened_month[m]), Count(family.closed_month[m]), Count(family.open_end[m])]
        )
    by_process = Figure(
        "opened_by_process",
        _("Cases opened per month, by process"),
        [_("Month"), *[names.get(p, p) for p in family.processes], _("Total")],
        chart_columns=list(range(1, len(family.processes) + 1)),
        ledger=family.ledger,
    )
    for m in months:
        by_process.rows.append(
            [month_label(m), *[Count(family.opened[m, p]) for p in family.processes], Count(family.opened_month[m])]
        )
    by_outcome = Figure(
        "closed_by_outcome",
        _("Cases closed per month, by outcome"),
        [_("Month"), *[kinds.get(k, k) for k in family.kinds], _("Total")],
        chart_columns=list(range(1, len(family.kinds) + 1)),
        ledger=family.ledger,
    )
    for m in months:
        by_outcome.rows.append(
            [month_label(m), *[Count(family.closed[m, k]) for k in family.kinds], Count(family.closed_month[m])]
        )
    if year in {m.year for m in family.months}:
        by_outcome.rows.append(
            [_("Total"), *[Count(family.yearly_kind[year, k]) for k in family.kinds], Count(family.yearly_closed[year])]
        )
    return [flow, by_process, by_outcome, outcomes_by_tenure(family, year, kinds)]


def outcomes_by_tenure(family: CaseFlowFamily, year: int, kinds: dict[str, str] | None = None) -> Figure:
    """``kinds``: the outcome kinds' labels, when the caller read them already."""
    kinds, tenures = kinds or kind_labels(), tenure_labels()
    figure = Figure(
        "outcomes_by_tenure",
        _("Outcomes by form of tenure, %(year)s") % {"year": year},
        [_("Outcome"), *[tenures[t] for t in family.tenures], _("Total")],
        chart="hbars",
        chart_columns=[len(family.tenures) + 1],
        ledger=family.ledger,
    )
    if year not in {m.year for m in family.months}:
        return figure
    for k in family.kinds:
        figure.rows.append(
            [
                kinds.get(k, k),
                *[Count(family.yearly[year, k, t]) for t in family.tenures],
                Count(family.yearly_kind[year, k]),
            ]
        )
    figure.rows.append(
        [_("Total"), *[Count(family.yearly_tenure[year, t]) for t in family.tenures], Count(family.yearly_closed[year])]
    )
    return figure


def report_lines(family: CaseFlowFamily, year: int) -> Figure:
    labels = {
        "rented": _("Housed in a rented home"),
        "owned": _("Housed in an owned home with start loan"),
        "kept": _("Kept their home"),
        "evicted": _("Evicted"),
    }
    figure = Figure(
        "annual",
        _("Outcomes %(year)s") % {"year": year},
        [_("Outcome"), _("Cases")],
        chart="hbars",
        chart_columns=[1],
        ledger=family.ledger,
    )
    if year in {m.year for m in family.months}:
        for line in REPORT_LINES:
            figure.rows.append([labels[line], Count(family.report[year, line])])
        figure.rows.append([_("Total closed"), Count(family.yearly_closed[year])])
    return figure


# --- family B: referral to housed -----------------------------------------------------------


def percentile(histogram: list[tuple[int, int]], share: float) -> float | None:
    """The nearest-rank percentile of a (days, cases) histogram sorted by days, or None where
    it would be the days of fewer than five people at one end: a nearest-rank percentile is a
    value someone has (the 90th percentile of five cases is the longest wait, to the day), so
    it is shown only where at least five waited that long or longer, and five that long or
    shorter (``SMALL``)."""
    n = sum(cases for _, cases in histogram)
    if not n:
        return None
    rank, seen, value = max(1, math.ceil(share * n)), 0, histogram[-1][0]
    for days, cases in histogram:
        seen += cases
        if seen >= rank:
            value = days
            break
    at_least = sum(cases for days, cases in histogram if days >= value)
    at_most = sum(cases for days, cases in histogram if days <= value)
    return value if min(at_least, at_most) >= SMALL else None


@cached
def housing_time(scope: int, year: int, *, until: datetime.date, together: tuple[int, ...] = ()) -> Figure:
    """Days from referral to moving in: read from the case flow family, whose ledger holds the
    moves in with the closures they count (``_case_flow``)."""
    family = case_flow(scope, together=together)
    histograms, processes, cells, totals = (
        family.histograms,
        family.housing_processes,
        family.moved_in,
        family.moved_in_quarter,
    )
    names = process_names()
    figure = Figure(
        "housing_time",
        _("Days from referral to moving in, per quarter moved in"),
        [_("Quarter and process"), _("Cases"), _("Median"), _("75th percentile"), _("90th percentile")],
        chart="hbars",
        chart_columns=[2, 3, 4],
        note=_("A move entered after its quarter had ended is counted in the quarter it was entered."),
        ledger=family.ledger,
    )
    for q in (q for q in family.quarters if q.year == year):
        for p in [*processes, None]:
            # Every process, none left out for a 0: a row missing would tell a hidden one is 0.
            histogram = histograms.get((q, p), [])
            n = sum(c for _, c in histogram)
            process = names.get(p, p) if p else _("all processes")
            label = f"{quarter_label(q)} · {process}"
            cell = cells[q, p] if p else totals[q]
            stats = [Stat(percentile(histogram, share), n, unit=" " + _("d"), cell=cell) for share in (0.5, 0.75, 0.9)]
            figure.rows.append([label, Count(cell), *stats])
    return figure


def _housing(ledger: Ledger, scope: int, until: datetime.date):
    """The cases moved in per quarter and process, in ``ledger``, with their histograms of days."""
    # One row per (scope, quarter, process, days): read as they are, no grouping needed.
    # Finished quarters only (a quarter ends with its last month).
    rows = HousingTime.objects.filter(scope=scope, quarter__lt=quarter_of(until)).values_list(
        "quarter", "process_key", "days", "cases"
    )
    histograms: defaultdict[tuple[datetime.date, str | None], list[tuple[int, int]]] = defaultdict(list)
    for quarter, process_key, days, cases in rows:
        histograms[quarter, process_key].append((days, cases))
        histograms[quarter, None].append((days, cases))
    for key in histograms:
        histograms[key].sort()
    quarters = sorted({quarter for quarter, process in histograms if process is None})
    processes = sorted({process for _quarter, process in histograms if process is not None})
    cells = {(q, p): ledger.count(sum(c for _, c in histograms.get((q, p), []))) for q in quarters for p in processes}
    totals = {q: ledger.total([cells[q, p] for p in processes]) for q in quarters}
    # A process and a quarter are listed only where someone moved in.
    for p in processes:
        ledger.at_least_one([cells[q, p] for q in quarters])
    for q in quarters:
        ledger.at_least_one([totals[q]])
    return dict(histograms), quarters, processes, cells, totals


# --- family C: who holds the ball, and overdue work ---------------------------------------


@dataclass
class TaskFamily:
    ledger: Ledger
    years: list[int]
    months: list[datetime.date]
    agency_ids: list[int]
    elements: list[tuple[int, str]]  # (agency, task name)
    held: dict  # (year, agency, task name) -> completed
    seconds: dict
    per_task: dict  # (year, agency, task name) -> cell
    per_agency: dict  # (year, agency) -> cell
    per_year: dict
    late_cells: dict  # (month, agency) -> cell
    late_month: dict
    late_year: dict  # (year, agency) -> cell
    late_total: dict
    on_diagram: dict  # (year, definition, element id, agency or None) -> (cell, seconds)


@cached
def task_family(scope: int, *, until: datetime.date, together: tuple[int, ...] = ()) -> TaskFamily:
    """Completed tasks of every year: per agency and task, per month late, and per element
    of each process version (the heatmap), in one ledger."""
    family = _task_family(scope, until)
    others = [_task_family(other, until).ledger for other in together]
    decide("task_family", (scope, *together), [family.ledger, *others], until)
    return family


def _task_family(scope: int, until: datetime.date) -> TaskFamily:
    rows = list(
        # One row per key of the scope: read as they are, no grouping needed.
        TaskTime.objects.filter(scope=scope, month__lt=until).values(
            "month",
            "definition_id",
            "element_id",
            "agency_id",
            n=F("completed"),
            seconds_sum=F("seconds"),
            late_sum=F("late"),
        )
    )
    agencies = agency_names()
    agency_ids = sorted({row["agency_id"] for row in rows}, key=lambda pk: agencies.get(pk, ""))
    months = _span(rows)
    years = sorted({m.year for m in months})
    held: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    seconds: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    late: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    version_held: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    version_seconds: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    for row in rows:
        name = elements_of(row["definition_id"]).get(row["element_id"], ("", row["element_id"]))[1]
        year, agency = row["month"].year, row["agency_id"]
        held[year, agency, name] += row["n"]
        seconds[year, agency, name] += row["seconds_sum"]
        late[row["month"], agency] += row["late_sum"]
        version_key = (year, row["definition_id"], row["element_id"], agency, name)
        version_held[version_key] += row["n"]
        version_seconds[version_key] += row["seconds_sum"]
    elements = sorted({key[1:] for key in held}, key=lambda key: (agencies.get(key[0], ""), key[1]))
    ledger = Ledger()
    per_task = {(y, a, e): ledger.count(held[y, a, e]) for y in years for (a, e) in elements}
    per_agency = {
        (y, a): ledger.total([per_task[y, a2, e] for (a2, e) in elements if a2 == a]) for y in years for a in agency_ids
    }
    per_year = {y: ledger.total([per_agency[y, a] for a in agency_ids]) for y in years}
    on_diagram: dict[tuple[Any, ...], tuple[Any, Any]] = {}
    parts: defaultdict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for (y, definition, element, a, name), n in sorted(version_held.items()):
        cell = ledger.count(n)
        on_diagram[y, definition, element, a] = (cell, version_seconds[y, definition, element, a, name])
        parts[y, a, name].append(cell)
        parts["element", y, definition, element].append((cell, version_seconds[y, definition, element, a, name]))
    for (y, a, e), cells in ((k, v) for k, v in parts.items() if k[0] != "element"):
        ledger.equation([(cell, 1) for cell in cells] + [(per_task[y, a, e], -1)])
    for key, cells in ((k, v) for k, v in parts.items() if k[0] == "element"):
        _, y, definition, element = key
        total = ledger.total([cell for cell, _ in cells]) if len(cells) > 1 else cells[0][0]
        on_diagram[y, definition, element, None] = (total, sum(secs for _, secs in cells))
    # An agency, a task and a version's element are listed only where a task was completed.
    for a in agency_ids:
        ledger.at_least_one([per_agency[y, a] for y in years])
    for a, e in elements:
        ledger.at_least_one([per_task[y, a, e] for y in years])
    for cell, _seconds in on_diagram.values():
        ledger.at_least_one([cell])
    late_cells = {(m, a): ledger.count(late[m, a]) for m in months for a in agency_ids}
    late_month = {m: ledger.total([late_cells[m, a] for a in agency_ids]) for m in months}
    late_year = {
        (y, a): ledger.total([late_cells[m, a] for m in months if m.year == y]) for y in years for a in agency_ids
    }
    late_total = {y: ledger.total([late_year[y, a] for a in agency_ids]) for y in years}
    # Completed late: among those completed. The two are shown side by side (tasks completed,
    # tasks completed late), so what they differ by (the tasks completed on time) is worked
    # out by subtraction: protected like a small count, as a difference never below 0.
    for (y, a), cell in late_year.items():
        ledger.difference(per_agency[y, a], cell, low=0)
    for y in years:
        ledger.difference(per_year[y], late_total[y], low=0)
    for y in years:
        ledger.equation([(late_month[m], 1) for m in months if m.year == y] + [(late_total[y], -1)])
    family = TaskFamily(
        ledger,
        years,
        months,
        agency_ids,
        elements,
        held,
        seconds,
        per_task,
        per_agency,
        per_year,
        late_cells,
        late_month,
        late_year,
        late_total,
        on_diagram,
    )
    label_family(family)
    return family


def task_figures(
    family: TaskFamily, year: int, agency_id: int | None = None, agencies: dict[int, str] | None = None
) -> list[Figure]:
    """``agencies``: their names, when the caller read them already (as for ``overdue_now``)."""
    agencies = agency_names() if agencies is None else agencies
    ledger, elements, held, seconds = family.ledger, family.elements, family.held, family.seconds
    shown_agencies = [a for a in family.agency_ids if agency_id in (None, a)]

    def mean_days(a, e=None):
        keys = [(year, a, e)] if e else [(year, a, e2) for (a2, e2) in elements if a2 == a]
        n = sum(held[k] for k in keys)
        cell = family.per_task[year, a, e] if e else family.per_agency[year, a]
        mean = sum(seconds[k] for k in keys) / 86400 / n if n else None
        return Stat(mean, n, digits=1, unit=" " + _("d"), cell=cell)

    ball = Figure(
        "ball_by_agency",
        _("Who holds the ball how long: days from a task's arrival to its completion, per agency"),
        [_("Agency"), _("Tasks completed"), _("Mean days held")],
        chart="hbars",
        chart_columns=[2],
        ledger=ledger,
    )
    by_task = Figure(
        "ball_by_task",
        _("Days held per task"),
        [_("Agency and task"), _("Tasks completed"), _("Mean days held")],
        chart="hbars",
        chart_columns=[2],
        ledger=ledger,
    )
    totals = [] if agency_id is not None else [_("Total")]
    overdue = Figure(
        "overdue",
        _("Tasks completed after their deadline, per month and agency"),
        [_("Month"), *[agencies.get(a, str(a)) for a in shown_agencies], *totals],
        chart_columns=list(range(1, len(shown_agencies) + 1)),
        ledger=ledger,
    )
    if year not in family.years:
        return [ball, by_task, overdue]
    for a in shown_agencies:
        ball.rows.append([agencies.get(a, str(a)), Count(family.per_agency[year, a]), mean_days(a)])
        for a2, e in elements:
            if a2 == a:  # every task, none left out for a 0 (a row missing would tell a hidden one is 0)
                by_task.rows.append(
                    [f"{agencies.get(a, str(a))} · {e}", Count(family.per_task[year, a, e]), mean_days(a, e)]
                )
    if agency_id is None:
        ball.rows.append([_("Total"), Count(family.per_year[year]), Stat(None, 0)])
    for m in (m for m in family.months if m.year == year):
        row_total = [] if agency_id is not None else [Count(family.late_month[m])]
        overdue.rows.append([month_label(m), *[Count(family.late_cells[m, a]) for a in shown_agencies], *row_total])
    year_total = [] if agency_id is not None else [Count(family.late_total[year])]
    overdue.rows.append([_("Total"), *[Count(family.late_year[year, a]) for a in shown_agencies], *year_total])
    return [ball, by_task, overdue]


# The open tasks past their deadline, in one statement, so one snapshot: the days before the
# roll's day folded into a row per agency (``OpenTasksBefore``), the day rows of the days from
# it to today (``OpenTasksDue``: one day while the daily roll keeps up, and any straggler a
# merge left before it), this transaction's changes not yet merged into them, and today's
# deadlines from the index of the active tasks by deadline (``task_active_due``). The rows read
# are set by the agencies and the days since the last roll, not by the days that hold open
# tasks (insight 0012). The last part tells a roll gone past ``today`` (a clock behind the
# roller's): the totals then hold days that are not overdue yet, so the tasks are counted.
OVERDUE_SQL = """
SELECT agency_id, sum(tasks) FROM (
    SELECT agency_id, tasks FROM insight_opentasksbefore WHERE scope = %(scope)s
    UNION ALL
    SELECT agency_id, tasks FROM insight_opentasksdue WHERE scope = %(scope)s AND due_day < %(today)s
    UNION ALL
    SELECT agency_id, tasks FROM insight_opentaskschange
    WHERE transaction_id = txid_current_if_assigned() AND scope = %(scope)s AND due_day < %(today)s
    UNION ALL
    SELECT t.agency_id, 1 FROM workflows_task t
    WHERE t.status = ANY(%(active)s) AND t.due_at >= %(midnight)s AND t.due_at < %(now)s
      AND (%(scope)s = 0 OR EXISTS (
          SELECT 1 FROM workflows_caseparticipant p WHERE p.case_id = t.case_id AND p.agency_id = %(scope)s
      ))
    UNION ALL
    SELECT NULL, 0 FROM insight_opentasksroll WHERE through > %(today)s
) counted GROUP BY agency_id
"""


def counted_overdue(scope: int, now: datetime.datetime) -> dict[int, int]:
    """Agency -> its open tasks past their deadline at ``now``, in cases of ``scope`` (each
    task once, however many parts the agency plays in its case), counted from the tasks."""
    tasks = Task.objects.filter(status__in=ACTIVE_TASK_STATUSES, due_at__lt=now)
    if scope != WHOLE_MUNICIPALITY:
        tasks = tasks.filter(Exists(CaseParticipant.objects.filter(case_id=OuterRef("case_id"), agency_id=scope)))
    return dict(tasks.order_by().values_list("agency_id").annotate(n=CountOf("id")))


def overdue_params(scope: int, now: datetime.datetime) -> dict[str, Any]:
    """``OVERDUE_SQL``'s parameters for ``scope`` at ``now``."""
    today = now.astimezone(datetime.UTC).date()
    return {
        "scope": scope,
        "today": today,
        "midnight": datetime.datetime.combine(today, datetime.time.min, tzinfo=datetime.UTC),
        "now": now,
        "active": [str(status) for status in ACTIVE_TASK_STATUSES],
    }


def overdue_counts(scope: int, now: datetime.datetime) -> dict[int, int]:
    """What ``counted_overdue`` counts, from the summary of the open tasks' deadlines."""
    if connection.vendor != "postgresql":  # the SQLite demo has no triggers, and few tasks
        return counted_overdue(scope, now)
    with connection.cursor() as cursor:
        cursor.execute(OVERDUE_SQL, overdue_params(scope, now))
        rows = cursor.fetchall()
    if any(agency is None for agency, _n in rows):  # rolled past ``today``
        return counted_overdue(scope, now)
    return {agency: int(n) for agency, n in rows if n}


def overdue_now(
    scope: int,
    agency_id: int | None = None,
    agencies: dict[int, str] | None = None,
    together: tuple[int, ...] = (),
) -> Figure:
    """Open tasks past their deadline at this moment, per agency holding them. Live, so not
    cached (a deadline passes without a write): in a ledger of its own (no sum ties these
    tasks to the completed ones), with those of the ``together`` scopes the reader sees too;
    the agency filter shows its row of the same ledger."""
    now = timezone.now()
    agencies = agency_names() if agencies is None else agencies
    ledger, cells, total = _overdue_ledger(overdue_counts(scope, now), agencies)
    suppress(ledger, [_overdue_ledger(overdue_counts(other, now), agencies)[0] for other in together])
    figure = Figure(
        "overdue_now",
        _("Open tasks past their deadline now, per agency"),
        [_("Agency"), _("Open past the deadline")],
        chart="hbars",
        chart_columns=[1],
        ledger=ledger,
    )
    for a, cell in cells.items():
        if agency_id in (None, a):
            figure.rows.append([agencies.get(a, str(a)), Count(cell)])
    if agency_id is None:
        figure.rows.append([_("Total"), Count(total)])
    return figure


def _overdue_ledger(counts: dict[int, int], agencies: dict[int, str]) -> tuple[Ledger, dict[int, int], int]:
    ledger = Ledger()
    cells = {a: ledger.count(counts[a]) for a in sorted(counts, key=lambda pk: agencies.get(pk, ""))}
    total = ledger.total(list(cells.values()))
    ledger.label("agency", cells)
    ledger.label("total", {None: total})
    return ledger, cells, total


def agency_tasks(family: TaskFamily, year: int, agency_id: int) -> int | None:
    """How many tasks an agency completed in the year, as the table shows it: None where it
    hides the count. A filter narrower than five is refused, and so is one whose count is
    hidden: answering for it would tell what the table hides (that the count is five or
    more, and so, from the total, a small count beside it)."""
    cell = family.per_agency.get((year, agency_id))
    if cell is None:
        return 0
    return None if family.ledger.is_hidden(cell) else family.ledger.values[cell]


@dataclass(frozen=True)
class Heat:
    element_id: str
    name: str
    count: str  # as shown: a number, "<5" or the hidden mark
    mean_days: float | None  # None where fewer than five passed
    level: int  # 0 (no colour) .. 5 (longest wait)


def versions_with_five_cases(key: str) -> set[int]:
    """The versions of ``key`` that five cases or more have run on (their process instances, a
    case moved to one by a migration too). A process admin reads these numbers exactly on the
    process pages; on a version with fewer than five, the tasks shown as passed on the heatmap
    are the path of those few cases (the one case moved to a new version, its escalation, its
    eviction). Whether a fifth instance exists, from the index on the definition: counting
    them all took 150 ms at 300,000 cases, and grew with them."""
    fifth = ProcessInstance.objects.filter(definition_id=OuterRef("pk")).order_by("pk")[SMALL - 1 : SMALL]
    return set(
        ProcessDefinition.objects.filter(key=key).filter(Exists(fifth)).order_by().values_list("version", flat=True)
    )


def heatmap(family: TaskFamily, definition_id: int, year: int, agency_id: int | None = None) -> list[Heat]:
    """Each task element of a version: how many passed in the year and how long they waited."""
    names = elements_of(definition_id)
    found = []
    for (y, definition, element, agency), (cell, secs) in family.on_diagram.items():
        if (y, definition, agency) != (year, definition_id, agency_id):
            continue
        n = family.ledger.values[cell]
        visible = not family.ledger.is_hidden(cell) and n >= SMALL
        name = names.get(element, ("", element))[1]
        found.append((element, name, family.ledger.shown(cell), secs / 86400 / n if visible and n else None))
    means = sorted(mean for *_, mean in found if mean is not None)
    heats = []
    for element, name, count, mean in sorted(found):
        level = 0 if mean is None else 1 + min(4, int(5 * means.index(mean) / max(1, len(means))))
        heats.append(Heat(element, name, count, mean, level))
    return heats


# --- family D: escalations ------------------------------------------------------------------


@cached
def escalations(scope: int, year: int, *, until: datetime.date, together: tuple[int, ...] = ()) -> Figure:
    """Boundary timers fired (the shipped processes' escalations), per month and process."""
    ledger, months, processes, cells, month_totals, year_cells, year_totals = _escalations(scope, until)
    decide("escalations", (scope, *together), [ledger, *[_escalations(other, until)[0] for other in together]], until)
    names = process_names()
    figure = Figure(
        "escalations",
        _("Escalations fired per month, by process"),
        [_("Month"), *[names.get(p, p) for p in processes], _("Total")],
        chart_columns=list(range(1, len(processes) + 1)),
        ledger=ledger,
    )
    for m in (m for m in months if m.year == year):
        figure.rows.append([month_label(m), *[Count(cells[m, p]) for p in processes], Count(month_totals[m])])
    if year in year_totals:
        figure.rows.append([_("Total"), *[Count(year_cells[year, p]) for p in processes], Count(year_totals[year])])
    return figure


def _escalations(scope: int, until: datetime.date):
    """The escalations' numbers and sums, labelled, not yet suppressed."""
    rows = list(
        TimerFired.objects.filter(scope=scope, month__lt=until)
        .values("month", "definition_id", "element_id")
        .annotate(n=Sum("fired"))
    )
    definitions = dict(ProcessDefinition.objects.values_list("pk", "key"))
    counts: defaultdict[Any, int] = defaultdict(int)
    for row in rows:
        if elements_of(row["definition_id"]).get(row["element_id"], ("",))[0] == "boundaryEvent":
            counts[row["month"], definitions[row["definition_id"]]] += row["n"]
    months = _span([{"month": m} for m, _p in counts])
    processes = sorted({p for _m, p in counts})
    ledger = Ledger()
    cells = {(m, p): ledger.count(counts[m, p]) for m in months for p in processes}
    month_totals = {m: ledger.total([cells[m, p] for p in processes]) for m in months}
    year_cells = {
        (y, p): ledger.total([cells[m, p] for m in months if m.year == y])
        for y in {m.year for m in months}
        for p in processes
    }
    year_totals = {y: ledger.total([year_cells[y, p] for p in processes]) for y in {m.year for m in months}}
    for y in year_totals:
        ledger.equation([(month_totals[m], 1) for m in months if m.year == y] + [(year_totals[y], -1)])
    for p in processes:  # listed only where an escalation fired
        ledger.at_least_one([cells[m, p] for m in months])
    for name, labelled in (("cells", cells), ("months", month_totals), ("years", year_cells), ("total", year_totals)):
        ledger.label(name, labelled)
    return ledger, months, processes, cells, month_totals, year_cells, year_totals


# --- family E: days waiting for discharge ---------------------------------------------------


@cached
def discharge_waits(scope: int, year: int, *, until: datetime.date, together: tuple[int, ...] = ()) -> Figure:
    ledger, months, years, counts, days, year_counts, year_days = _discharges(scope, until)
    decide("discharge", (scope, *together), [ledger, *[_discharges(other, until)[0] for other in together]], until)
    rate = daily_rate(year)
    figure = Figure(
        "discharge",
        _("Patients ready for discharge: days waiting and what they cost (%(rate)s NOK a day in %(year)s)")
        % {"rate": f"{rate:,}".replace(",", "\u00a0"), "year": year},
        [_("Month"), _("Discharges"), _("Days after ready for discharge"), _("Cost (NOK)")],
        chart_columns=[3],
        note=_("A discharge entered after its month had ended is counted in the month it was entered."),
        ledger=ledger,
    )

    def cost(day_cell, count_cell):
        hidden = ledger.is_hidden(day_cell)
        return Stat(None if hidden else ledger.values[day_cell] * rate, SMALL if not hidden else 0)

    for m in (m for m in months if m.year == year):
        figure.rows.append([month_label(m), Count(counts[m]), Count(days[m]), cost(days[m], counts[m])])
    if year in years:
        figure.rows.append(
            [_("Total"), Count(year_counts[year]), Count(year_days[year]), cost(year_days[year], year_counts[year])]
        )
    return figure


def _discharges(scope: int, until: datetime.date):
    """The discharges and their days per month, labelled, not yet suppressed."""
    rows = list(
        DischargeWait.objects.filter(scope=scope, month__lt=until)
        .values("month")
        .annotate(n=Sum("discharges"), d=Sum("days"), w=Sum("waited"))
    )
    values = {row["month"]: row for row in rows}
    months = _span(rows)
    ledger = Ledger()
    counts = {m: ledger.count(values.get(m, {}).get("n", 0)) for m in months}
    # The days are those of the patients who waited a day or more, not of every discharge:
    # they are hidden with the count of those who waited (not shown itself, taken as known).
    waited = {m: ledger.count(values.get(m, {}).get("w", 0)) for m in months}
    for m in months:
        ledger.at_most(waited[m], counts[m])
    days = {m: ledger.measure(values.get(m, {}).get("d", 0), of=waited[m]) for m in months}
    years = sorted({m.year for m in months})
    year_counts = {y: ledger.total([counts[m] for m in months if m.year == y]) for y in years}
    year_waited = {y: ledger.total([waited[m] for m in months if m.year == y]) for y in years}
    year_days = {y: ledger.total([days[m] for m in months if m.year == y], measure_of=year_waited[y]) for y in years}
    ledger.label("months", counts)
    ledger.label("years", year_counts)
    ledger.label("waited", waited)
    ledger.label("year_waited", year_waited)
    ledger.label("days", days)  # shown too: a later reading must find them (``privacy.merge``)
    ledger.label("year_days", year_days)
    return ledger, months, years, counts, days, year_counts, year_days
