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
somewhere in 1..4, each "\u00d7" anywhere from 0 up, every shown number is exact, and each sum
narrows its unknowns' ranges until nothing moves. A number whose range closes to a single
value is given away. Zeros are shown: they count nobody.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

SMALL = 5  # counts under this are hidden
UNBOUNDED = 10**12
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

    def suppress(self) -> Ledger:
        for cell, value in enumerate(self.values):
            if self.is_count[cell] and 0 < value < SMALL:
                self.hidden[cell] = PRIMARY
        for cell, count_cell in self.depends_on.items():
            if count_cell in self.hidden:
                self.hidden.setdefault(cell, COMPLEMENTARY)
        self._equations_of = defaultdict(list)
        for index, terms in enumerate(self.equations):
            for cell, _ in terms:
                self._equations_of[cell].append(index)
        for _ in range(len(self.values) + 1):
            self._hide_lone_cells()
            exposed = self.exposed()
            if not exposed:
                return self
            for cell in exposed:
                self._protect(cell)
        raise AssertionError("suppression did not settle")  # each round hides at least one more cell

    def _hide_lone_cells(self) -> None:
        """The cheap rule first: a sum with exactly one hidden number gives it away."""
        changed = True
        while changed:
            changed = False
            for terms in self.equations:
                hidden = [cell for cell, _ in terms if cell in self.hidden]
                if len(hidden) == 1 and self._small(hidden[0]):
                    complement, _reached = self._complement(hidden[0], within=terms)
                    if complement is not None:
                        self.hidden[complement] = COMPLEMENTARY
                        changed = True

    def _protect(self, exposed: int) -> None:
        complement, reached = self._complement(exposed)
        if exposed in self._protected and self.hidden[exposed] == PRIMARY:
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
        primaries = [cell for cell in reached if self.hidden.get(cell) == PRIMARY]
        for cell in primaries:
            self.hidden[cell] = COMPLEMENTARY

    def ranges(self) -> dict[int, tuple[int, int]]:
        """What an attacker can narrow each hidden cell to, from the shown cells and the sums
        (bounds carried through the sums until nothing moves)."""
        bounds = {
            cell: (1, SMALL - 1) if kind == PRIMARY else self.bounds.get(cell, (0, UNBOUNDED))
            for cell, kind in self.hidden.items()
        }
        equations_of = self._equations_of
        queue = deque(sorted({index for cell in bounds for index in equations_of[cell]}))
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
                if new != bounds[cell]:
                    bounds[cell] = new
                    for other in equations_of[cell]:
                        if other not in queued:
                            queue.append(other)
                            queued.add(other)
        return bounds

    def exposed(self) -> list[int]:
        """The hidden cells an attacker could pin down; empty when every hidden cell is safe."""
        return [
            cell
            for cell, (low, high) in sorted(self.ranges().items())
            if low >= high
            and (self.hidden[cell] == PRIMARY or 0 < abs(low) < SMALL or cell in self.depends_on)
            and self._small(cell)
        ]

    def _smallest(self, candidates) -> int:
        return min(candidates, key=lambda cell: (not self.is_count[cell], self.values[cell], cell))

    def _complement(self, exposed_cell: int, within=None) -> tuple[int | None, set[int]]:
        """The smallest shown number (a count before a measure) of ``within`` (a sum with the
        exposed cell), else of any sum with it; when those are all hidden, of a sum with one of
        their hidden cells, and so on."""
        if within is not None:
            candidates = [cell for cell, _ in within if cell not in self.hidden]
            if candidates:
                return self._smallest(candidates), set()
        reached, frontier = {exposed_cell}, {exposed_cell}
        while frontier:
            touching = {index for cell in frontier for index in self._equations_of[cell]}
            cells = {cell for index in touching for cell, _ in self.equations[index]}
            candidates = [cell for cell in cells if cell not in self.hidden]
            if candidates:
                return self._smallest(candidates), reached
            frontier = cells - reached
            reached |= frontier
        return None, reached


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
    together, offsets = Ledger(), []
    for ledger in ledgers:
        offset = len(together.values)
        offsets.append(offset)
        together.values += ledger.values
        together.is_count += ledger.is_count
        together.depends_on.update({cell + offset: of + offset for cell, of in ledger.depends_on.items()})
        together.equations += [[(cell + offset, coef) for cell, coef in terms] for terms in ledger.equations]
        together.hidden.update({cell + offset: kind for cell, kind in ledger.hidden.items()})
        together.bounds.update({cell + offset: bounds for cell, bounds in ledger.bounds.items()})
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
    together.suppress()
    for ledger, offset in zip(ledgers, offsets, strict=True):
        end = offset + len(ledger.values)
        ledger.hidden = {cell - offset: kind for cell, kind in together.hidden.items() if offset <= cell < end}
