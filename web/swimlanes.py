"""Layout of the handoff timeline: one row per agency, a bar per task, an arrow per handoff.

Pure arithmetic over rows the selectors already returned (no queries, no access rules);
the template ``cases/_swimlanes.svg.html`` draws it as inline SVG.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core import public_ids

WIDTH = 960
LABEL_WIDTH = 210
RIGHT_PAD = 24
TOP = 30
SUBLANE = 38
ROW_PAD = 8
BAR_HEIGHT = 14
MIN_BAR = 8
CHAR_WIDTH = 6.2  # average width of an 11 px label character
LABEL_CHAR_WIDTH = 7.2  # of a 12 px bold lane label character


@dataclass
class Row:
    agency_id: int
    label: str
    y: float
    height: float = SUBLANE + 2 * ROW_PAD
    holds_ball: bool = False

    @property
    def label_y(self) -> float:
        return self.y + 18

    @property
    def label_lines(self) -> list[str]:
        """The agency's name on up to two lines that fit the label column (long names such as
        "Sarpsborg kommune rus og psykisk helse" are wrapped, not cut)."""
        return wrap_label(self.label, int((LABEL_WIDTH - 14) / LABEL_CHAR_WIDTH), lines=2)

    @property
    def ball_y(self) -> float:
        return self.y + 48


def wrap_label(text: str, width: int, *, lines: int) -> list[str]:
    wrapped = textwrap.wrap(text, width) or [""]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], textwrap.shorten(" ".join(wrapped[lines - 1 :]), width, placeholder=" …")]
    return wrapped


@dataclass
class Bar:
    task_id: int  # public (``core.public_ids``)
    label: str
    status: str  # done, active, overdue, cancelled
    x: float
    y: float
    width: float
    started: datetime
    ended: datetime | None

    @property
    def text_x(self) -> float:
        # Clear of a handoff arrow drawn where the task arrived, and never past the right
        # edge: a late task's label moves left rather than being cut ("Oppfølging ette").
        return max(LABEL_WIDTH + 4.0, min(self.x + 6, WIDTH - RIGHT_PAD - len(self.label) * CHAR_WIDTH))

    @property
    def text_y(self) -> float:
        return self.y - 4


@dataclass
class Arrow:
    x: float
    y1: float
    y2: float
    label: str
    at: datetime

    @property
    def head_y(self) -> float:  # stop short of the row centre so the head stays visible
        return self.y2 - 10 if self.y2 > self.y1 else self.y2 + 10


@dataclass
class Chart:
    width: int
    height: float
    label_width: int
    start: datetime
    end: datetime
    rows: list[Row] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT_PAD


def _status(task, now) -> str:
    if task.status == "cancelled":
        return "cancelled"
    if task.status == "completed":
        return "done"
    if task.due_at and task.due_at < now:
        return "overdue"
    return "active"


def build_chart(*, agencies, tasks, handoffs, start: datetime, now: datetime) -> Chart:
    """``agencies``: (id, name) in row order; ``tasks``: Task rows; ``handoffs``: Events."""
    end = max([now, *[t.completed_at for t in tasks if t.completed_at]])
    span = max((end - start).total_seconds(), 1.0)
    plot = WIDTH - LABEL_WIDTH - RIGHT_PAD

    def x_of(moment) -> float:
        return LABEL_WIDTH + max(0.0, min(1.0, (moment - start).total_seconds() / span)) * plot

    chart = Chart(width=WIDTH, height=0, label_width=LABEL_WIDTH, start=start, end=end)
    by_agency: dict[int, list[Any]] = {agency_id: [] for agency_id, _name in agencies}
    for task in sorted(tasks, key=lambda t: (t.created_at, t.pk)):
        by_agency.setdefault(task.agency_id, []).append(task)
    names = dict(agencies)
    holders = {t.agency_id for t in tasks if t.status in ("open", "claimed")}

    y = TOP
    rows = {}
    for agency_id, row_tasks in by_agency.items():
        lanes_end: list[float] = []  # right edge of what each sub-lane already holds
        placed = []
        for task in row_tasks:
            x1 = x_of(task.created_at)
            x2 = max(x_of(task.completed_at or end), x1 + MIN_BAR)
            extent = max(x2, x1 + len(task.name) * CHAR_WIDTH) + 6
            lane = next((i for i, right in enumerate(lanes_end) if right <= x1), None)
            if lane is None:
                lanes_end.append(extent)
                lane = len(lanes_end) - 1
            else:
                lanes_end[lane] = extent
            placed.append((task, lane, x1, x2))
        height = max(1, len(lanes_end)) * SUBLANE + 2 * ROW_PAD
        row = Row(agency_id, names.get(agency_id, "?"), y, height, agency_id in holders)
        rows[agency_id] = row
        chart.rows.append(row)
        for task, lane, x1, x2 in placed:
            bar_y = y + ROW_PAD + lane * SUBLANE + (SUBLANE - BAR_HEIGHT) - 4
            chart.bars.append(
                Bar(
                    public_ids.encode("task", task.pk),
                    task.name,
                    _status(task, now),
                    x1,
                    bar_y,
                    x2 - x1,
                    task.created_at,
                    task.completed_at,
                )
            )
        y += height

    for event in handoffs:
        source, target = rows.get(event.from_agency_id), rows.get(event.to_agency_id)
        if source is None or target is None or source is target:
            continue
        chart.arrows.append(
            Arrow(
                x=x_of(event.created_at),
                y1=source.y + source.height / 2,
                y2=target.y + target.height / 2,
                label=f"{source.label} → {target.label}",
                at=event.created_at,
            )
        )
    chart.height = y + 24
    return chart
