"""Loop checks: cycles without a wait state, unbounded standard loops, recursive call activities."""

from __future__ import annotations

from lxml import etree

from ..graphs import strongly_connected
from .model import SUBPROCESSES, WAIT_STATES, _container_label, _describe, _local, _q
from .state import LintState


class LoopChecks(LintState):
    """Loop and call-activity checks of ``_Linter`` (see ``linter.py``)."""

    def _waits(self, node: etree._Element, seen: set[str]) -> bool:
        kind = _local(node)
        if kind in WAIT_STATES:
            return True
        if kind in SUBPROCESSES:
            return self._contains_wait(node, seen)
        if kind == "callActivity":
            called = self.find_process(node.get("calledElement"))
            if called is None or called.get("id") in seen:
                return False
            return self._contains_wait(called, seen | {called.get("id")})
        return False

    def _contains_wait(self, scope: etree._Element, seen: set[str]) -> bool:
        """A wait state anywhere inside ``scope``, or inside a process one of its call activities calls."""
        return any(True for _ in scope.iter(*(_q(k) for k in WAIT_STATES))) or any(
            self._waits(call, seen) for call in scope.iter(_q("callActivity"))
        )

    def check_cycles(
        self, container: etree._Element, nodes: dict[str, etree._Element], edges: dict[str, set[str]]
    ) -> None:
        spinning = {node_id for node_id, node in nodes.items() if not self._waits(node, set())}
        graph = {n: {m for m in edges[n] if m in spinning} for n in spinning}
        order = {node_id: index for index, node_id in enumerate(nodes)}
        for component in strongly_connected(graph, lambda node: sorted(graph[node])):
            if len(component) == 1:
                (only,) = component
                if only not in graph[only]:
                    continue
            members = sorted(component, key=order.__getitem__)
            first = nodes[members[0]]
            path = ", ".join(_describe(nodes[m]) for m in members)
            self.add(
                "unbounded-loop",
                f"the sequence flows of {_container_label(container)} loop through {path} "
                "without a wait state (user task, manual task, receive task, catch event or "
                "event-based gateway); it would spin without a person in the loop",
                first,
                variant="cycle",
                path=", ".join(f"'{member}'" for member in members),
            )

    def check_standard_loops(self, process: etree._Element) -> None:
        for loop in process.iter(_q("standardLoopCharacteristics")):
            activity = loop.getparent()
            maximum = (loop.get("loopMaximum") or "").strip()
            if not maximum:
                self.add(
                    "unbounded-loop",
                    f"{_describe(activity)} repeats (standard loop) without loopMaximum; set "
                    "loopMaximum to bound the number of rounds",
                    activity,
                    variant="no-maximum",
                )
            # ASCII digits, and few: "²" is a digit to ``isdigit`` and none to ``int``, and 5,000
            # digits are past what ``int`` reads (each a 500 at deploy until h-attack28).
            elif not (maximum.isascii() and maximum.isdigit()) or len(maximum) > 9 or int(maximum) < 1:
                self.add(
                    "unbounded-loop",
                    f"{_describe(activity)} has loopMaximum '{maximum}', which is not a positive whole number",
                    activity,
                    variant="bad-maximum",
                    maximum=maximum,
                )

    # call activities ---------------------------------------------------------------------

    def find_process(self, called: str | None) -> etree._Element | None:
        # SpiffWorkflow looks a called element up by process id, then by name.
        if not called:
            return None
        called = called.strip()
        for process in self.processes:
            if process.get("id") == called:
                return process
        for process in self.processes:
            if process.get("name") == called:
                return process
        return None

    def check_recursion(self) -> None:
        calls: dict[str, set[str]] = {}
        for process in self.processes:
            targets = set()
            for call in process.iter(_q("callActivity")):
                called = self.find_process(call.get("calledElement"))
                if called is not None:
                    targets.add(called.get("id"))
            calls[process.get("id")] = targets

        def reaches(start: str, goal: str) -> bool:
            stack, seen = [start], set()
            while stack:
                current = stack.pop()
                if current == goal:
                    return True
                if current in seen:
                    continue
                seen.add(current)
                stack.extend(calls.get(current, ()))
            return False

        for process in self.executable:
            pid = process.get("id")
            for call in process.iter(_q("callActivity")):
                called = self.find_process(call.get("calledElement"))
                if called is None:
                    continue
                cid = called.get("id")
                if cid == pid:
                    self.add(
                        "recursive-call-activity",
                        f"{_describe(call)} calls its own process '{pid}', which would start itself again without end; "
                        "call another process, or draw a loop back to an earlier task instead",
                        call,
                        variant="self",
                        process=pid,
                    )
                elif reaches(cid, pid):
                    self.add(
                        "recursive-call-activity",
                        f"{_describe(call)} calls process '{cid}', which calls back into "
                        f"process '{pid}'; recursive calls have no bound: remove one of the calls, "
                        "or draw a loop back to an earlier task instead",
                        call,
                        variant="mutual",
                        process=pid,
                        called=cid,
                    )
