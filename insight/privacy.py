"""Small counts never shown, and never derivable from the cells around them.

A ``Ledger`` holds every number of one page (or export) and the sums that tie them
together: a row and its total, a column and its total, this month's open cases and last
month's plus the opened less the closed. ``suppress`` hides

- every count from 1 to 4 (*primary*; shown as "<5"), and every number that depends on a
  hidden count (days waited by fewer than five people);
- then, until nothing changes, one more number in each sum from which a hidden number
  could be worked out (*complementary*; shown as "\u00d7"): a sum with a single hidden number
  gives it away, and so can a sum whose hidden numbers can only be at their bounds (two
  "<5" cells that add up to 8 are both 4).

Whether a hidden number can be worked out is judged as an attacker would: each "<5" is
somewhere in 1..4, each "\u00d7" 0 or 5 and up (a count from 1 to 4 is shown "<5", and the code
is open: ``Ledger._marked``), every shown number is exact, and each sum narrows its unknowns'
ranges until nothing moves. A number whose range closes to a single
value is given away. Zeros are shown: they count nobody.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from dataclasses import dataclass, field
from math import gcd

log = logging.getLogger(__name__)

SMALL = 5  # counts under this are hidden
UNBOUNDED = 10**12
COMBINED_ROUNDS = 50
HIDDEN_MARK = "\u00d7"  # a multiplication sign: hidden so that a small count cannot be worked out

PRIMARY = "primary"
COMPLEMENTARY = "complementary"
# A number never shown but worked out by an attacker who reads two scopes: the difference of
# two cells of the same key (``joint``); hidden from the start, protected when it is 1-4 off zero.
DIFFERENCE = "difference"
# What a row's or column's presence tells: its counts add up to 1 or more (it is listed only
# because something was counted there). Never shown, never protected: known to the attacker.
PRESENT = "present"
# What one figure being part of another tells (tasks completed late are among those completed):
# their difference is 0 or more. Never shown, never protected: known to the attacker.
PART_OF = "part_of"


@dataclass
class Ledger:
    values: list[int] = field(default_factory=list)
    is_count: list[bool] = field(default_factory=list)
    depends_on: dict[int, int] = field(default_factory=dict)  # measure cell -> its count cell
    equations: list[list[tuple[int, int]]] = field(default_factory=list)  # sum(coef * cell) == 0
    hidden: dict[int, str] = field(default_factory=dict)
    keys: dict = field(default_factory=dict)  # a count's key in its family -> its cell (``label``)
    bounds: dict[int, tuple[int, int]] = field(default_factory=dict)  # of each DIFFERENCE cell
    _equations_of: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    _protected: set[int] = field(default_factory=set)
    # The open cells the last ``ranges`` did not carry bounds to the end for (a round cap or a
    # budget hit, or bounds that contradict each other): what they could be narrowed to is
    # not known, so ``exposed`` takes them as pinned (fail safe, never open).
    _unsettled: set[int] = field(default_factory=set)
    # Cells below this were decided by an earlier reading (``merge``): what they show, and
    # how, is final; ``suppress`` hides only among the cells after them.
    fixed: int = 0

    def count(self, value: int) -> int:
        self.values.append(int(value))
        self.is_count.append(True)
        return len(self.values) - 1

    def label(self, name: str, cells: dict) -> None:
        """Name the counts of ``cells`` (key -> cell): the same name and key in the ledger of
        another scope is the same figure about other cases (``joint``)."""
        for key, cell in cells.items():
            self.keys[name, key] = cell[0] if isinstance(cell, tuple) else cell

    def measure(self, value: int, *, of: int) -> int:
        """An additive number about the people of count cell ``of`` (days, sums): hidden with it."""
        self.values.append(int(value))
        self.is_count.append(False)
        self.depends_on[len(self.values) - 1] = of
        return len(self.values) - 1

    def total(self, parts: list[int], *, measure_of: int | None = None) -> int:
        """A cell that is the sum of ``parts``, tied to them by an equation."""
        value = sum(self.values[part] for part in parts)
        cell = self.count(value) if measure_of is None else self.measure(value, of=measure_of)
        self.equation([(part, 1) for part in parts] + [(cell, -1)])
        return cell

    def equation(self, terms: list[tuple[int, int]]) -> None:
        if len(terms) > 1:
            self.equations.append(terms)

    def difference(self, minuend: int, subtrahend: int, *, low: int) -> None:
        """An attacker's ``minuend - subtrahend`` (at least ``low``): kept from being worked out
        as a number from 1 to 4 off zero, like a small count."""
        self.values.append(self.values[minuend] - self.values[subtrahend])
        self.is_count.append(False)
        cell = len(self.values) - 1
        self.hidden[cell] = DIFFERENCE
        self.bounds[cell] = (low, UNBOUNDED)
        self.equation([(minuend, 1), (subtrahend, -1), (cell, -1)])

    def remainder(self, whole: int, parts: list[int]) -> None:
        """What ``whole`` holds beyond ``parts`` (some of what it counts), shown beside it: an
        attacker's ``whole - sum(parts)``, 0 or more, kept from being worked out as a number
        from 1 to 4 like ``difference``."""
        if len(parts) == 1:
            self.difference(whole, parts[0], low=0)
            return
        self.values.append(self.values[whole] - sum(self.values[part] for part in parts))
        self.is_count.append(False)
        cell = len(self.values) - 1
        self.hidden[cell] = DIFFERENCE
        self.bounds[cell] = (0 if self.values[cell] >= 0 else -UNBOUNDED, UNBOUNDED)
        self.equation([(whole, 1), *[(part, -1) for part in parts], (cell, -1)])

    def moved_by(self, terms: list[tuple[int, int]]) -> int:
        """An attacker's ``sum(coef * cell)`` over readings kept (``merge``): what a number
        moved by since an earlier reading, or such a move in one scope less the same in
        another; kept from being worked out as a number from 1 to 4 off zero, like
        ``difference``. Its sign is taken as known (a year so far only grows)."""
        value = sum(coef * self.values[cell] for cell, coef in terms)
        if value < 0:
            terms, value = [(cell, -coef) for cell, coef in terms], -value
        self.values.append(value)
        self.is_count.append(False)
        cell = len(self.values) - 1
        self.hidden[cell] = DIFFERENCE
        self.bounds[cell] = (0, UNBOUNDED)
        self.equation([*terms, (cell, -1)])
        return cell

    def at_least_one(self, cells: list[int]) -> None:
        """The cells of a row (or column) listed only where something was counted: a hidden
        one among them is 1 or more if the others are 0, which the attacker knows as well."""
        self.values.append(sum(self.values[cell] for cell in cells))
        self.is_count.append(False)
        cell = len(self.values) - 1
        self.hidden[cell] = PRESENT
        self.bounds[cell] = (1, UNBOUNDED)
        self.equation([(part, 1) for part in cells] + [(cell, -1)])

    def at_most(self, part: int, whole: int) -> None:
        """``part`` counts some of what ``whole`` counts (the tasks an agency completed late
        among those it completed): the attacker knows ``whole`` is at least ``part``, so a
        shown ``part`` is a lower bound of a hidden ``whole``."""
        self.values.append(self.values[whole] - self.values[part])
        self.is_count.append(False)
        cell = len(self.values) - 1
        self.hidden[cell] = PART_OF
        self.bounds[cell] = (0, UNBOUNDED)
        self.equation([(whole, 1), (part, -1), (cell, -1)])

    def _small(self, cell: int) -> bool:
        """Whether working out a hidden number gives something away."""
        kind = self.hidden.get(cell)
        if kind in (PRESENT, PART_OF):
            return False
        return kind != DIFFERENCE or 0 < abs(self.values[cell]) < SMALL

    def shown(self, cell: int) -> str:
        if cell in self.hidden:
            return "<5" if self.hidden[cell] == PRIMARY else HIDDEN_MARK
        return str(self.values[cell])

    def is_hidden(self, cell: int) -> bool:
        return cell in self.hidden

    # --- deciding what to hide --------------------------------------------------------------

    def _free(self, cell: int) -> bool:
        """Whether this reading may still decide the cell (not one an earlier reading decided)."""
        return cell >= self.fixed

    def suppress(self) -> Ledger:
        for cell, value in enumerate(self.values):
            if self._free(cell) and self.is_count[cell] and 0 < value < SMALL:
                self.hidden[cell] = PRIMARY
        for cell, count_cell in self.depends_on.items():
            if self._free(cell) and count_cell in self.hidden:
                self.hidden.setdefault(cell, COMPLEMENTARY)
        self._equations_of = _equations_of(self)
        for _ in range(len(self.values) + 1):
            self._hide_lone_cells()
            # The bounds carried through each sum first (cheap, most of what is found), then
            # through the sums combined, once the first finds nothing more to hide.
            if self._answer(self.exposed()):
                continue
            exposed = self.exposed(combined=True)
            if not exposed:
                return self
            if not self._answer(exposed):
                # Only cells an earlier reading decided are left around it: what they give
                # away was given away then (``merge`` keeps every reading's cells, so a
                # reading never adds to it); nothing this reading hides would take it back.
                # Two scopes first read together, whose earlier months were decided apart
                # (README "A reader whose scopes change"), or a restated number
                # (``insight_backfill --replace``), can get here.
                if any(cell in self._unsettled for cell in exposed):
                    # Every cell around them hidden already: bounds that still move after that
                    # can only be narrowed through an earlier reading's sums or the ranges alone.
                    log.warning("insight: bounds of %d hidden cells not carried to the end", len(self._unsettled))
                else:
                    log.warning("insight: %d hidden cells pinned by earlier readings alone", len(exposed))
                return self
        raise AssertionError("suppression did not settle")  # each round hides at least one more cell

    def _answer(self, exposed: list[int]) -> bool:
        """Hide what keeps the ``exposed`` cells from being worked out; whether anything changed."""
        before = dict(self.hidden)
        unsettled = [cell for cell in exposed if cell in self._unsettled]
        if unsettled:
            # Bounds not carried to the end: hide every cell this reading decides around them
            # at once, not one complement a round (each round would carry every bound again).
            self._hide_around(unsettled)
            exposed = [cell for cell in exposed if cell not in self._unsettled]
        for cell in exposed:
            self._protect(cell)
        return self.hidden != before or (bool(exposed) and self._hide_around(exposed))

    def _hide_around(self, exposed: list[int]) -> bool:
        """The last resort when no single complement helps (the cells around are an earlier
        reading's, shown for good): hide as "\u00d7" every cell this reading decides in the sums
        reached from the exposed cells. Whether anything changed."""
        changed = False
        for cell in exposed:
            _complement, reached = self._complement(cell, free_only=False)
            touching = {index for each in reached | {cell} for index in self._equations_of[each]}
            for other in {each for index in touching for each, _ in self.equations[index]} | reached:
                if self._free(other) and self.hidden.get(other) in (None, PRIMARY):
                    self.hidden[other] = COMPLEMENTARY
                    changed = True
        return changed

    def _hide_lone_cells(self) -> None:
        """The cheap rule first: a sum with exactly one hidden number gives it away."""
        changed = True
        while changed:
            changed = False
            for terms in self.equations:
                if not any(self._free(cell) for cell, _ in terms):
                    continue  # an earlier reading's sum, decided then
                hidden = [cell for cell, _ in terms if cell in self.hidden]
                if len(hidden) == 1 and self._small(hidden[0]):
                    complement, _reached = self._complement(hidden[0], within=terms)
                    if complement is not None:
                        self.hidden[complement] = COMPLEMENTARY
                        changed = True

    def _protect(self, exposed: int) -> None:
        complement, reached = self._complement(exposed)
        if exposed in self._protected and self.hidden[exposed] == PRIMARY and self._free(exposed):
            # Still pinned after a complement: its own bounds (1 to 4) are what give it away.
            self.hidden[exposed] = COMPLEMENTARY
            return
        self._protected.add(exposed)
        if complement is not None:
            self.hidden[complement] = COMPLEMENTARY
            return
        # Every number tied to it is hidden and the ranges alone still give it away (four
        # "<5" parts of a "<5" total are all 1): say less about the whole group, "\u00d7"
        # instead of "<5", which drops the attacker's lower and upper bounds.
        # (None left: an earlier step of this round relabelled the group; the next round checks.)
        primaries = [cell for cell in reached if self.hidden.get(cell) == PRIMARY and self._free(cell)]
        for cell in primaries:
            self.hidden[cell] = COMPLEMENTARY

    def ranges(self, *, combined: bool = False) -> dict[int, tuple[int, int]]:
        """What an attacker can narrow each hidden cell to, from the shown cells and the sums
        (bounds carried through the sums until nothing moves); ``combined``: through every
        sum the ledger's sums add up to as well (``_combined``), which finds what the sums
        subtracted from each other pin (a year so far less the month added is the year so far
        a month before)."""
        bounds = {}
        for cell, kind in self.hidden.items():
            low, high = (1, SMALL - 1) if kind == PRIMARY else self._marked(cell, self.bounds.get(cell, (0, UNBOUNDED)))
            # A bound the number itself breaks is nothing the attacker knows (a row listed
            # with nothing counted in it is no row "present"): bounds that contradict each
            # other were carried on without end (cells of thousands of digits) and read as pinned.
            value = self.values[cell]
            bounds[cell] = (min(low, value), max(high, value))
        unsettled = self._carry(bounds)
        if combined and not unsettled:
            unsettled = self._combined(bounds)
        self._unsettled = self._open_around(unsettled, bounds) if unsettled else set()
        return bounds

    def _marked(self, cell: int, bounds: tuple[int, int]) -> tuple[int, int]:
        """What a count shown as "\u00d7" tells an attacker who knows how the marks are chosen:
        a count from 1 to 4 is shown "<5", so one shown "\u00d7" is 0 or 5 and up, unless the
        ledger relabelled it (``_protect``, ``_hide_around``: a count from 1 to 4 whose own
        bounds gave it away), which the attacker cannot tell from the others. Only the part of
        {0} and 5 and up that holds the count is taken (5 and up for a count of 5 or more, 0
        for a 0): the attacker is taken to know which, never less than they do. So a hidden 0
        protects nothing (``_smallest`` hides one last), and a relabelled count keeps the bounds
        of "\u00d7" alone (0 and up)."""
        value, (low, high) = self.values[cell], bounds
        if self.hidden.get(cell) != COMPLEMENTARY or not self.is_count[cell]:
            return low, high
        if value >= SMALL:
            return max(low, SMALL), high
        if value == 0:
            return max(low, 0), min(high, 0)
        return low, high

    def _open_around(self, cells: set[int], bounds: dict[int, tuple[int, int]]) -> set[int]:
        """The open cells (hidden, not narrowed to one value) that ``cells`` reach through the
        sums and open cells: all that bounds still moving could narrow further."""
        reached = {cell for cell in cells if cell in bounds}
        frontier = set(reached)
        while frontier:
            touching = {index for cell in frontier for index in self._equations_of[cell]}
            cells = {cell for index in touching for cell, _ in self.equations[index] if cell in bounds}
            frontier = {cell for cell in cells - reached if bounds[cell][0] < bounds[cell][1]}
            reached |= frontier
        return {cell for cell in reached if bounds[cell][0] < bounds[cell][1]}

    def _combined(self, bounds: dict[int, tuple[int, int]]) -> set[int]:
        """Narrow ``bounds`` (carried already) through the sums solved as one system of linear
        equations, until nothing moves.

        The cells still open (hidden, not narrowed to one value) are the unknowns; the shown
        cells and the cells narrowed to one value are constants. The sums in reduced row echelon
        form (``_echelon``) say every unknown that the sums pin whatever the bounds (a unit
        vector in the sums' span is one of its rows), and each of its rows is a sum that bounds
        are carried through too: a cell the attacker could only work out by adding and
        subtracting sums (two readings of a year so far and the month between) is then found.
        A cell narrowed so is a constant for the next round, its bounds carried through the
        ledger's own sums again (at most ``COMBINED_ROUNDS`` rounds: bounds of 0 to 10**12 could
        otherwise narrow by one a round; the random search of test_months_combined.py takes four
        at most).

        The cells still moving when a cap or a budget is hit, or none (``ranges`` takes the open
        cells around them as pinned)."""
        moved: list[int] = []
        for _round in range(COMBINED_ROUNDS):
            open_cells = {cell for cell, (low, high) in bounds.items() if low < high}
            if not open_cells:
                return set()
            rows = []
            for index in sorted({index for cell in open_cells for index in self._equations_of[cell]}):
                row: dict[int, int] = {}
                constant = 0
                for cell, coef in self.equations[index]:
                    if cell in open_cells:
                        row[cell] = row.get(cell, 0) + coef
                    else:
                        constant -= coef * (bounds[cell][0] if cell in bounds else self.values[cell])
                rows.append((row, constant))
            before = dict(bounds)
            settled = _carry_rows(_shortened(_echelon(rows)), bounds)
            moved = [cell for cell in open_cells if bounds[cell] != before[cell]]
            if not settled:
                return set(moved) | open_cells
            if not moved:
                return set()
            unsettled = self._carry(bounds, moved)
            if unsettled:
                return unsettled
        return set(moved)

    def _carry(self, bounds: dict[int, tuple[int, int]], moved: list[int] | None = None) -> set[int]:
        """Narrow ``bounds`` in place, carried through each of the ledger's sums in turn (those
        of the ``moved`` cells first, where only they moved since the bounds were carried).
        The hidden cells of the sums left to carry through when the budget ran out, or when
        bounds contradict each other; none when carried to the end."""
        equations_of = self._equations_of
        queue = deque(sorted({index for cell in (bounds if moved is None else moved) for index in equations_of[cell]}))
        queued = set(queue)
        budget = 100 * (len(queue) + 1)
        while queue and budget:
            budget -= 1
            index = queue.popleft()
            queued.discard(index)
            terms = self.equations[index]
            spans = []
            low_sum = high_sum = 0
            for cell, coef in terms:
                low, high = bounds.get(cell, (self.values[cell], self.values[cell]))
                span = (coef * low, coef * high) if coef > 0 else (coef * high, coef * low)
                spans.append(span)
                low_sum += span[0]
                high_sum += span[1]
            for (cell, coef), (low, high) in zip(terms, spans, strict=True):
                if cell not in bounds:
                    continue
                # coef * cell == -(the others), whose sum lies in [low_sum - low, high_sum - high]
                others = (low_sum - low, high_sum - high)
                implied = (-others[1], -others[0]) if coef > 0 else others
                new = (max(bounds[cell][0], implied[0]), min(bounds[cell][1], implied[1]))
                if new[0] > new[1]:
                    return {each for each, _ in terms if each in bounds}
                if new != bounds[cell]:
                    bounds[cell] = new
                    for other in equations_of[cell]:
                        if other not in queued:
                            queue.append(other)
                            queued.add(other)
        return {cell for index in queue for cell, _ in self.equations[index] if cell in bounds}

    def exposed(self, *, combined: bool = False) -> list[int]:
        """The hidden cells an attacker could pin down; empty when every hidden cell is safe."""
        return [
            cell
            for cell, (low, high) in sorted(self.ranges(combined=combined).items())
            if (low >= high or cell in self._unsettled)
            and (self.hidden[cell] == PRIMARY or 0 < abs(self.values[cell]) < SMALL or cell in self.depends_on)
            and self._small(cell)
        ]

    def _smallest(self, candidates) -> int:
        """The complement among ``candidates``: a count before a measure, a count of 0 last of
        the counts (hidden, it is 0 or 5 and up: in a sum that leaves it under 5 it is 0, so it
        protects nothing, ``_marked``), else the first cell. Never ranked by the number itself:
        which cell was hidden would tell how it compares with those shown beside it (the
        smallest hidden, "\u00d7", "<5", "5" and "14" for 5, 4 and 5 made the "\u00d7" at
        most 5, so 5, and the "<5" 4). Whether a hidden mark is a 0 the attacker is taken to
        know already (``_marked``)."""

        def rank(cell: int) -> tuple:
            count = self.is_count[cell]
            return (not count, count and not self.values[cell], cell)

        return min(candidates, key=rank)

    def _complement(self, exposed_cell: int, within=None, free_only: bool = True) -> tuple[int | None, set[int]]:
        """The first shown number (``_smallest``: a count before a measure) of ``within`` (a sum with the
        exposed cell), else of any sum with it; when those are all hidden, of a sum with one of
        their hidden cells, and so on. Only a cell this reading decides can be hidden: an
        earlier reading's shown cells are constants, which link nothing."""
        if within is not None:
            candidates = [cell for cell, _ in within if cell not in self.hidden and self._free(cell)]
            if candidates:
                return self._smallest(candidates), set()
        reached, frontier = {exposed_cell}, {exposed_cell}
        while frontier:
            touching = {index for cell in frontier for index in self._equations_of[cell]}
            cells = {cell for index in touching for cell, _ in self.equations[index]}
            candidates = [cell for cell in cells if cell not in self.hidden and self._free(cell)]
            if candidates and free_only:
                return self._smallest(candidates), reached
            frontier = {cell for cell in cells if cell in self.hidden} - reached
            reached |= frontier
        return None, reached


def combine(ledgers: list[Ledger], names: list | None = None) -> tuple[Ledger, list[int]]:
    """The ledgers of one family in several scopes that one user reads, as one ledger (not yet
    suppressed), with each pair of same-keyed counts tied by their difference (``joint``
    says why), and the offset of each ledger's cells in it. ``names``: each ledger's scope,
    which the combined ledger's keys start with (``merge`` finds a cell by its key)."""
    names = list(range(len(ledgers))) if names is None else names
    together, offsets = Ledger(), []
    for ledger, name in zip(ledgers, names, strict=True):
        offset = len(together.values)
        offsets.append(offset)
        together.values += ledger.values
        together.is_count += ledger.is_count
        together.depends_on.update({cell + offset: of + offset for cell, of in ledger.depends_on.items()})
        together.equations += [[(cell + offset, coef) for cell, coef in terms] for terms in ledger.equations]
        together.hidden.update({cell + offset: kind for cell, kind in ledger.hidden.items()})
        together.bounds.update({cell + offset: bounds for cell, bounds in ledger.bounds.items()})
        together.keys.update({(name, *key): cell + offset for key, cell in ledger.keys.items()})
    for first in range(len(ledgers)):
        for second in range(first + 1, len(ledgers)):
            a, b = ledgers[first], ledgers[second]
            pairs = [(a.keys[key] + offsets[first], b.keys[key] + offsets[second]) for key in a.keys if key in b.keys]
            a_holds_b = all(together.values[x] >= together.values[y] for x, y in pairs)
            b_holds_a = all(together.values[x] <= together.values[y] for x, y in pairs)
            for x, y in pairs:
                if b_holds_a and not a_holds_b:
                    together.difference(y, x, low=0)
                else:
                    together.difference(x, y, low=0 if a_holds_b else -UNBOUNDED)
    return together, offsets


def write_back(together: Ledger, ledgers: list[Ledger], offsets: list[int]) -> None:
    """What each ledger hides, from the combined ledger (``combine``) suppressed."""
    for ledger, offset in zip(ledgers, offsets, strict=True):
        end = offset + len(ledger.values)
        ledger.hidden = {cell - offset: kind for cell, kind in together.hidden.items() if offset <= cell < end}


def joint(ledgers: list[Ledger]) -> None:
    """Suppress the ledgers of one family in several scopes that one user reads, together.

    Each scope's own suppression keeps its hidden numbers from its own sums, but a user who
    reads two scopes can subtract a figure of one from the same figure of the other (their
    cases overlap: the cases with NAV, the cases with the housing office) and learn a count
    from 1 to 4 of the cases in one and not the other, or narrow a hidden number of one by
    the shown number of the other. So the ledgers are joined, each pair of same-keyed counts
    tied by their difference (never below 0 where every such pair says one scope holds the
    other's cases, which an attacker may know), and suppressed as one: every hidden number is
    then safe from the sums of every scope the user reads, and every difference is 0 or 5
    and up, or hidden. What each ledger hides is written back into it.
    """
    together, offsets = combine(ledgers)
    together.suppress()
    write_back(together, ledgers, offsets)


# --- readings kept month after month ------------------------------------------------------
#
# A leader may keep every reading (each month's export): the union of what the readings
# showed is what the attacker holds, not one reading. So the figures of finished periods are
# decided once: a group's ``known`` ledger is every cell any earlier reading had, with its
# sums and what it showed, and a new reading is suppressed as that ledger plus its own new
# cells (``merge``), the earlier ones fixed. A finished month's cell is the same key with the
# same number at every reading, so it is found in ``known`` and shown (or hidden) as it was;
# a cell whose number moved (this year so far, a month later; a restated figure) is a new
# cell beside the earlier one, which stays with its sums: the attacker holds both.

AUXILIARY = (DIFFERENCE, PRESENT, PART_OF)
DIFFERENCE_NAME = "difference "  # the start of a name ``_moved_apart`` keys by cell


def _sum_key(terms) -> tuple:
    return tuple(sorted(terms))


def _equations_of(ledger: Ledger) -> defaultdict[int, list[int]]:
    """The indices of the ledger's sums each cell is a term of."""
    equations_of: defaultdict[int, list[int]] = defaultdict(list)
    for index, terms in enumerate(ledger.equations):
        for cell, _ in terms:
            equations_of[cell].append(index)
    return equations_of


def _auxiliary_cells(union: Ledger, equations_of) -> dict[tuple, int]:
    """The union's auxiliary cells (a difference, a presence, a part) by their kind, bounds and
    the sum they stand in (without them): another reading's cell with the same key is this one."""
    auxiliary = {}
    for cell, kind in union.hidden.items():
        if kind in AUXILIARY and len(equations_of[cell]) == 1 and cell in union.bounds:
            terms = union.equations[equations_of[cell][0]]
            auxiliary[(kind, *union.bounds[cell], _sum_key((o, c) for o, c in terms if o != cell))] = cell
    return auxiliary


def merge(known: Ledger | None, reading: Ledger) -> tuple[Ledger, list[int], bool]:
    """``known`` (every earlier reading, decided) and ``reading`` (labelled, not suppressed)
    as one ledger whose cells below ``fixed`` are ``known``'s; where each of the reading's
    cells is in it; and whether the reading brought anything new (a cell or a sum) to decide.

    A labelled cell is ``known``'s when it has a known cell's key and number (so, both
    showing the same number, one cell); an auxiliary cell (a difference, a presence, a part)
    when ``known`` has one of its kind and bounds over the same cells."""
    union = Ledger() if known is None else known
    union.fixed = len(union.values)
    # A union's keys are (key, number) -> cell: one key may have had several numbers.
    found: dict[tuple[str, int], int] = dict(union.keys)
    sums = {_sum_key(terms) for terms in union.equations}
    auxiliary = _auxiliary_cells(union, _equations_of(union))
    names: defaultdict[int, list[str]] = defaultdict(list)
    for key, cell in reading.keys.items():
        names[cell].append(repr(key))
    where: list[int] = [-1] * len(reading.values)
    new = False

    def add(cell: int) -> int:
        union.values.append(reading.values[cell])
        union.is_count.append(reading.is_count[cell])
        if cell in reading.hidden:
            union.hidden[len(union.values) - 1] = reading.hidden[cell]
        if cell in reading.bounds:
            union.bounds[len(union.values) - 1] = reading.bounds[cell]
        return len(union.values) - 1

    reading_equations_of = _equations_of(reading)
    aux_cells = [cell for cell, kind in reading.hidden.items() if kind in AUXILIARY]
    for cell in range(len(reading.values)):
        if reading.hidden.get(cell) in AUXILIARY:
            continue
        value = reading.values[cell]
        match = next((found[name, value] for name in names[cell] if (name, value) in found), None)
        if match is None:
            match, new = add(cell), True
            for name in names[cell]:
                found[name, value] = match
        where[cell] = match
    # A key whose number moved (this year's figures a month later) is the same group with
    # the tasks or cases added since: the attacker holds every reading, so the new number
    # less each earlier one counts the ones added, and a mean times its count less an
    # earlier mean times its count is their days. Tie each new number to the earlier
    # numbers of its key by that difference (``_tie``: those 1 to 4 away), protected like
    # a small count: a number (and a mean of it) is shown only where it is the same as, or
    # five or more away from, every earlier reading's (README "Readings kept month after
    # month").
    earlier: defaultdict[str, list[int]] = defaultdict(list)
    for name, value in found:
        if found[name, value] < union.fixed:
            earlier[name].append(found[name, value])
    moved = set()
    for cell in range(len(reading.values)):
        if where[cell] < union.fixed or where[cell] in moved or not reading.is_count[cell]:
            continue  # a measure (days) moves with its count, which is tied
        moved.add(where[cell])
        for other in sorted({each for name in names[cell] for each in earlier[name]}):
            _tie(union, [(where[cell], 1), (other, -1)])
    for cell in aux_cells:
        (index,) = reading_equations_of[cell]
        others = _sum_key((where[other], coef) for other, coef in reading.equations[index] if other != cell)
        key = (reading.hidden[cell], *reading.bounds[cell], others)
        if key not in auxiliary:
            auxiliary[key], new = add(cell), True
            if reading.hidden[cell] == DIFFERENCE:
                _moved_apart(union, found, earlier, reading.equations[index], names, cell, auxiliary[key])
        where[cell] = auxiliary[key]
    for cell, of in reading.depends_on.items():
        if where[cell] >= union.fixed:
            union.depends_on[where[cell]] = where[of]
    for terms in reading.equations:
        mapped = [(where[cell], coef) for cell, coef in terms]
        if all(cell < union.fixed and cell not in union.hidden for cell, _ in mapped):
            continue  # shown numbers an earlier reading showed: nothing to decide, nothing to keep
        if _sum_key(mapped) not in sums:
            sums.add(_sum_key(mapped))
            union.equations.append(mapped)
            new = True
    union.keys = found
    return union, where, new


def read_on(known: Ledger | None, others: list[Ledger], reading: Ledger) -> tuple[Ledger, list[int], bool]:
    """A group's kept ledger (``known``, or none yet) with the kept ledgers of the groups it
    overlaps taken in (``others``, ``fold``) and the new reading (combined, not suppressed)
    decided against them all (``merge``, then ``Ledger.suppress`` where the reading brought
    anything new): the union to keep, where each of the reading's cells is in it, and whether
    it brought anything new (``decided`` writes what it hides back into the reading)."""
    if others:
        known = fold(known, others)
    union, where, new = merge(known, reading)
    if new:
        union.suppress()
    return union, where, new


def _moved_apart(union: Ledger, found: dict, earlier: dict, terms, names, cell: int, at: int) -> None:
    """A new difference ``at`` of one figure between two scopes read together (``combine``),
    tied to every earlier reading's difference of the same figure and scopes (``earlier``:
    name -> the earlier readings' cells): how far one scope's figure moved less how far the
    other's did counts the cases (or tasks) added in one scope and not the other since that
    reading, however far each moved and however far apart they are (README "Readings kept
    month after month"). Kept in ``found`` under its name for later readings."""
    minuend = next((term for term, coef in terms if coef == 1), None)
    subtrahend = next((term for term, coef in terms if coef == -1 and term != cell), None)
    if minuend is None or subtrahend is None or not names[minuend] or not names[subtrahend]:
        return  # not two scopes' figure (a sum's remainder, moves carried between quarters)
    name, reverse = (
        f"{DIFFERENCE_NAME}{min(names[a])} {min(names[b])}" for a, b in ((minuend, subtrahend), (subtrahend, minuend))
    )
    for other in earlier.get(name, ()):
        _tie(union, [(at, 1), (other, -1)])
    for other in earlier.get(reverse, ()):
        _tie(union, [(at, 1), (other, 1)])
    found[name, at] = at  # keyed by its cell: one name, many numbers


def _tie(union: Ledger, terms: list[tuple[int, int]]) -> None:
    """``Ledger.moved_by``, only where the move is 1 to 4 off zero. A move of five or more is
    never protected, and the bound it gives (never below 0) is five or more from its number:
    every bound an attacker derives through it (the sums' coefficients are all 1 or -1) is as
    far from the number it bounds, so it pins nothing and can be left out. A year of monthly
    readings tied every number to every earlier one of its key otherwise: 66 ties a key by
    December, the kept ledgers three and a half times as large, a month's first reading
    three to four times as long (measured at 100,000 tasks)."""
    if 0 < abs(sum(coef * union.values[cell] for cell, coef in terms)) < SMALL:
        union.moved_by(terms)


# How much a presentation tells, least first: hidden as "\u00d7" (0, or 5 and more), "<5" (1 to 4), shown.
_TELLS: dict[str | None, int] = {COMPLEMENTARY: 0, PRIMARY: 1, None: 2}


KNOWN_NAME = "known "  # the start of a name ``fold`` keys a number's most telling reading by


def fold(base: Ledger | None, others: list[Ledger]) -> Ledger:
    """``base`` (a kept ledger, decided) with every cell and sum of ``others`` (other kept
    ledgers of the same family, decided apart: the group of scopes a reader reads together
    before theirs changed) taken as known too, as one decided ledger for ``merge``.

    A reader whose scopes change holds the readings of their earlier group: a cell of the same
    key and number in both is one figure, shown from now on the way that tells least of the
    two ("\u00d7" before "<5" before the number), so that the union of what the reader holds
    is no more than what either group showed. What the attacker holds is the way that told
    most: where that is more than the cell shows from now on, a copy of the cell shown that
    way is kept beside it, tied equal (one per key and number, under ``KNOWN_NAME``). Hiding a
    shown number only widens what an attacker can narrow a hidden one to, so every decision
    of either ledger stays safe. A measure whose count is hidden is hidden with it
    (``Figure.shows``).

    A cell, an auxiliary cell (over the same cells, of the same kind and bounds) and a sum
    ``base`` already holds is not added again: agencies joining and leaving a leader's group
    fold ledgers that took each other in, and adding them again doubled the kept ledgers at
    each change, for the same figures (``tests/insight/test_ledger_growth.py``)."""
    union = Ledger() if base is None else base
    for other in others:
        _fold_one(union, other)
    for cell, of in union.depends_on.items():
        if of in union.hidden and cell not in union.hidden:
            union.hidden[cell] = COMPLEMENTARY
    return union


def _fold_one(union: Ledger, other: Ledger) -> None:
    sums = {_sum_key(terms) for terms in union.equations}
    auxiliary = _auxiliary_cells(union, _equations_of(union))
    other_equations_of = _equations_of(other)
    names: defaultdict[int, list[str]] = defaultdict(list)
    for (name, _value), cell in other.keys.items():
        if not name.startswith(DIFFERENCE_NAME):
            names[cell].append(name)
    where: dict[int, int] = {}

    def add(cell: int) -> int:
        union.values.append(other.values[cell])
        union.is_count.append(other.is_count[cell])
        at = len(union.values) - 1
        if cell in other.hidden:
            union.hidden[at] = other.hidden[cell]
        if cell in other.bounds:
            union.bounds[at] = other.bounds[cell]
        return at

    def equation(terms: list[tuple[int, int]]) -> None:
        if len(terms) > 1 and _sum_key(terms) not in sums:
            sums.add(_sum_key(terms))
            union.equations.append(terms)

    ties = []
    for cell in range(len(other.values)):
        if other.hidden.get(cell) in AUXILIARY:
            continue
        value = other.values[cell]
        found = [union.keys[name, value] for name in names[cell] if (name, value) in union.keys]
        if not found:
            where[cell] = add(cell)
        else:
            where[cell] = found[0]
            ties += [[(found[0], 1), (each, -1)] for each in found[1:] if each != found[0]]
            _present(union, found[0], other.hidden.get(cell), names[cell], value)
        for name in names[cell]:
            union.keys.setdefault((name, value), where[cell])
    for cell in sorted(cell for cell, kind in other.hidden.items() if kind in AUXILIARY):
        indices = other_equations_of[cell]
        key = None
        if len(indices) == 1 and cell in other.bounds:
            terms = other.equations[indices[0]]
            if all(each in where for each, _ in terms if each != cell):
                mapped = _sum_key((where[each], coef) for each, coef in terms if each != cell)
                key = (other.hidden[cell], *other.bounds[cell], mapped)
        if key is not None and key in auxiliary:
            where[cell] = auxiliary[key]
        else:
            where[cell] = add(cell)
            if key is not None:
                auxiliary[key] = where[cell]
    for (name, _value), cell in other.keys.items():
        if name.startswith(DIFFERENCE_NAME):  # keyed by its cell: one name, many numbers
            union.keys[name, where[cell]] = where[cell]
    union.depends_on.update({where[cell]: where[of] for cell, of in other.depends_on.items()})
    for terms in other.equations:
        equation([(where[cell], coef) for cell, coef in terms])
    for terms in ties:
        equation(terms)


def _present(union: Ledger, mine: int, theirs: str | None, names: list[str], value: int) -> None:
    """A cell ``union`` holds, read the way ``theirs`` too (``fold``): shown from now on the
    way that tells least; the way that told most kept as a copy where it tells more."""
    ours = union.hidden.get(mine)
    if ours == theirs or ours in AUXILIARY or theirs in AUXILIARY:
        return
    least, most = sorted((ours, theirs), key=lambda kind: _TELLS[kind])
    if any(name.startswith(KNOWN_NAME) for name in names):  # a copy: what was known, the most
        if most is None:
            union.hidden.pop(mine, None)
        else:
            union.hidden[mine] = most
        return
    if least is not None:
        union.hidden[mine] = least
    else:
        union.hidden.pop(mine, None)
    name = KNOWN_NAME + min(names)
    copy = union.keys.get((name, value))
    if copy is None:
        union.values.append(value)
        union.is_count.append(union.is_count[mine])
        copy = len(union.values) - 1
        union.keys[name, value] = copy
        union.equations.append([(mine, 1), (copy, -1)])
    elif _TELLS[union.hidden.get(copy)] >= _TELLS[most]:
        return
    if most is None:
        union.hidden.pop(copy, None)
    else:
        union.hidden[copy] = most


def decided(union: Ledger, reading: Ledger, where: list[int]) -> None:
    """What the reading hides: what its cells hide in the union, suppressed."""
    reading.hidden = {cell: union.hidden[at] for cell, at in enumerate(where) if at in union.hidden}


def dumps(ledger: Ledger) -> dict:
    """A suppressed union (``merge``) as JSON to keep. A sum of shown cells only is left out:
    it says nothing about a hidden number (every cell of it is a known constant)."""
    hidden = ledger.hidden
    return {
        "values": ledger.values,
        "counts": [cell for cell, is_count in enumerate(ledger.is_count) if is_count],
        "depends_on": sorted(ledger.depends_on.items()),
        "equations": [terms for terms in ledger.equations if any(cell in hidden for cell, _ in terms)],
        "hidden": sorted(hidden.items()),
        "bounds": [[cell, *bounds] for cell, bounds in sorted(ledger.bounds.items())],
        "keys": [[name, value, cell] for (name, value), cell in ledger.keys.items()],
    }


def loads(data: dict) -> Ledger:
    counts = set(data["counts"])
    return Ledger(
        values=list(data["values"]),
        is_count=[cell in counts for cell in range(len(data["values"]))],
        depends_on={cell: of for cell, of in data["depends_on"]},
        equations=[[(cell, coef) for cell, coef in terms] for terms in data["equations"]],
        hidden={cell: kind for cell, kind in data["hidden"]},
        bounds={cell: (low, high) for cell, low, high in data["bounds"]},
        keys={(name, value): cell for name, value, cell in data["keys"]},
    )


Row = tuple[dict[int, int], int]  # sum(coef * cell) == constant, in whole numbers


def _echelon(rows: list[Row]) -> list[Row]:
    """``rows`` (sums over unknown cells, each equal to a constant) in reduced row echelon
    form: each row has one pivot cell that no other row has. Any sum the rows add up to that
    holds one cell only is then a row (so every cell the sums alone pin is one), and the other
    rows are sums that bounds can be carried through which no single row of ``rows`` is.

    Sparse rows of whole numbers, each divided by the greatest common divisor of its
    coefficients and constant (what a row says is the same for any multiple of it); the pivot
    of a row is its cell in the fewest rows so far (so that rows stay short)."""
    pivots: dict[int, Row] = {}
    rows_with: defaultdict[int, set[int]] = defaultdict(set)  # cell -> the pivots whose row has it
    for terms, constant in rows:
        row = {cell: coef for cell, coef in terms.items() if coef}
        value = constant
        for cell in [cell for cell in row if cell in pivots]:
            row, value = _eliminated(row, value, cell, pivots[cell])
        if not row:
            continue  # a sum the others add up to
        pivot = min(row, key=lambda cell: (len(rows_with[cell]), cell))
        if row[pivot] < 0:
            row, value = {cell: -coef for cell, coef in row.items()}, -value
        for holder in list(rows_with[pivot]):
            old = pivots[holder][0]
            pivots[holder] = _eliminated(old, pivots[holder][1], pivot, (row, value))
            for cell in old.keys() - pivots[holder][0].keys():
                rows_with[cell].discard(holder)
            for cell in pivots[holder][0].keys() - old.keys():
                rows_with[cell].add(holder)
        pivots[pivot] = (row, value)
        for cell in row:
            rows_with[cell].add(pivot)
    return list(pivots.values())


PAIRS = 200_000  # the cells of two rows ``_shortened`` compares at most, per round


def _shortened(rows: list[Row]) -> list[Row]:
    """``rows`` (``_echelon``'s) and every sum of two of them that holds fewer cells than
    either. A row of the reduced form holds its pivot and cells no row pivots on, so two
    cells that add up to a constant can stand in two rows as ``a - s = c`` and ``b + s = d``
    over the same other cells ``s`` (two months, their year so far less its earlier months,
    the earlier months pinned by another reading's year so far), and bounds carried through
    each row alone never reach ``a + b = c + d``: an attacker whose readings reduce to other
    rows does. Only two rows that share more than half the cells of the longer can add up to
    a shorter one; those are found by counting shared cells (at most ``PAIRS`` counted: past
    it the rows are carried as they are, as before this step)."""
    rows_of: defaultdict[int, list[int]] = defaultdict(list)
    for index, (row, _value) in enumerate(rows):
        for cell in row:
            rows_of[cell].append(index)
    extra: list[Row] = []
    budget = PAIRS
    for first, (row, value) in enumerate(rows):
        shared: defaultdict[int, int] = defaultdict(int)
        for cell in row:
            holders = rows_of[cell]
            budget -= len(holders)
            for second in holders:
                if second > first:
                    shared[second] += 1
        if budget < 0:
            break
        for second, count in shared.items():
            other, other_value = rows[second]
            if 2 * count <= max(len(row), len(other)):
                continue
            cell = min(row.keys() & other.keys())
            if other[cell] < 0:
                other, other_value = {each: -coef for each, coef in other.items()}, -other_value
            combined, combined_value = _eliminated(row, value, cell, (other, other_value))
            if combined and len(combined) < min(len(row), len(other)):
                extra.append((combined, combined_value))
    return rows + extra


def _eliminated(row: dict[int, int], value: int, pivot: int, by: Row) -> Row:
    """``row`` less a multiple of ``by`` (whose coefficient of ``pivot`` is above 0) that takes
    ``pivot`` out of it, in whole numbers, divided by the common divisor."""
    by_row, by_value = by
    keep, take = by_row[pivot], row[pivot]
    if keep != 1:
        row, value = {cell: keep * coef for cell, coef in row.items()}, keep * value
    else:
        row = dict(row)
    for cell, coef in by_row.items():
        updated = row.get(cell, 0) - take * coef
        if updated:
            row[cell] = updated
        else:
            row.pop(cell, None)
    value -= take * by_value
    divisor = gcd(value, *row.values())
    if divisor > 1:
        row, value = {cell: coef // divisor for cell, coef in row.items()}, value // divisor
    return row, value


def _carry_rows(rows: list[Row], bounds: dict[int, tuple[int, int]]) -> bool:
    """Narrow ``bounds`` (of whole numbers) in place, carried through ``rows`` until nothing
    moves (a bounded number of passes); whether it got there."""
    rows_of: defaultdict[int, list[int]] = defaultdict(list)
    for index, (row, _value) in enumerate(rows):
        for cell in row:
            rows_of[cell].append(index)
    queue = deque(range(len(rows)))
    queued = set(queue)
    budget = 100 * (len(queue) + 1)
    while queue and budget:
        budget -= 1
        index = queue.popleft()
        queued.discard(index)
        row, value = rows[index]
        spans = []
        low_sum = high_sum = 0
        for cell, coef in row.items():
            low, high = bounds[cell]
            span = (coef * low, coef * high) if coef > 0 else (coef * high, coef * low)
            spans.append(span)
            low_sum += span[0]
            high_sum += span[1]
        for (cell, coef), (low, high) in zip(row.items(), spans, strict=True):
            # coef * cell == value - (the others), the others in [low_sum - low, high_sum - high]
            least, most = value - (high_sum - high), value - (low_sum - low)
            if coef < 0:
                least, most, coef = -most, -least, -coef
            new = (max(bounds[cell][0], -(-least // coef)), min(bounds[cell][1], most // coef))
            if new[0] > new[1]:
                return False  # bounds that contradict each other: nothing they say holds
            if new != bounds[cell]:
                bounds[cell] = new
                for other in rows_of[cell]:
                    if other not in queued:
                        queue.append(other)
                        queued.add(other)
    return not queue
