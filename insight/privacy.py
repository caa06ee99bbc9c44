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

from dataclasses import dataclass, field

SMALL = 5  # counts under this are hidden
UNBOUNDED = 10**12
HIDDEN_MARK = "\u00d7"  # a multiplication sign: hidden so that a small count cannot be worked out

PRIMARY = "primary"
COMPLEMENTARY = "complementary"


@dataclass
class Ledger:
    values: list[int] = field(default_factory=list)
    is_count: list[bool] = field(default_factory=list)
    depends_on: dict[int, int] = field(default_factory=dict)  # measure cell -> its count cell
    equations: list[list[tuple[int, int]]] = field(default_factory=list)  # sum(coef * cell) == 0
    hidden: dict[int, str] = field(default_factory=dict)

    def count(self, value: int) -> int:
        self.values.append(int(value))
        self.is_count.append(True)
        return len(self.values) - 1

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
        for _ in range(len(self.values) + 1):
            exposed = self.exposed()
            if exposed is None:
                return self
            complement, reached = self._complement(exposed)
            if complement is not None:
                self.hidden[complement] = COMPLEMENTARY
                continue
            # Every number tied to it is hidden and the ranges alone still give it away (four
            # "<5" parts of a "<5" total are all 1): say less about the whole group, "\u00d7"
            # instead of "<5", which drops the attacker's lower and upper bounds.
            primaries = [cell for cell in reached if self.hidden.get(cell) == PRIMARY]
            if not primaries:
                raise AssertionError("a hidden number that nothing can protect")
            for cell in primaries:
                self.hidden[cell] = COMPLEMENTARY
        raise AssertionError("suppression did not settle")  # each round hides one more cell

    def ranges(self) -> dict[int, tuple[int, int]]:
        """What an attacker can narrow each hidden cell to, from the shown cells and the sums."""
        bounds = {cell: (1, SMALL - 1) if kind == PRIMARY else (0, UNBOUNDED) for cell, kind in self.hidden.items()}
        for _ in range(50):
            moved = False
            for terms in self.equations:
                for cell, coef in terms:
                    if cell not in bounds:
                        continue
                    low, high = self._implied(terms, cell, coef, bounds)
                    new = (max(bounds[cell][0], low), min(bounds[cell][1], high))
                    if new != bounds[cell]:
                        bounds[cell], moved = new, True
            if not moved:
                break
        return bounds

    def exposed(self) -> int | None:
        """A hidden cell an attacker could pin down; None when every hidden cell is safe."""
        for cell, (low, high) in sorted(self.ranges().items()):
            if low >= high and (self.hidden[cell] == PRIMARY or 0 < low < SMALL or cell in self.depends_on):
                return cell
        return None

    def _implied(self, terms, cell, coef, bounds) -> tuple[int, int]:
        """The range of ``cell`` that ``sum(terms) == 0`` allows, given the others' ranges."""
        low = high = 0  # of the sum of the other terms
        for other, other_coef in terms:
            if other == cell:
                continue
            lo, hi = bounds.get(other, (self.values[other], self.values[other]))
            low += min(other_coef * lo, other_coef * hi)
            high += max(other_coef * lo, other_coef * hi)
        # coef * cell == -others  =>  cell in [-high, -low] / coef
        if coef > 0:
            return -high // coef, -low // coef
        return low // -coef, high // -coef

    def _complement(self, exposed_cell: int) -> tuple[int | None, set[int]]:
        """The smallest shown number (a count before a measure) in a sum with the exposed
        cell; when those sums are all hidden, in a sum with one of their hidden cells, and so on."""
        reached, frontier = {exposed_cell}, [exposed_cell]
        while frontier:
            touching = [terms for terms in self.equations if any(c in frontier for c, _ in terms)]
            candidates = {c for terms in touching for c, _ in terms if c not in self.hidden}
            if candidates:
                best = min(candidates, key=lambda cell: (not self.is_count[cell], self.values[cell], cell))
                return best, reached
            frontier = [c for terms in touching for c, _ in terms if c not in reached]
            reached.update(frontier)
        return None, reached
