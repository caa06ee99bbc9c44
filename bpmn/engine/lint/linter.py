"""The linter: shared state and issue collection, plus the order in which the checks run."""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..errors import ValidationIssue
from ..routing import RoutingMap
from .forms import FormChecks
from .gateways import GatewayChecks
from .loops import LoopChecks
from .model import _is_executable, _processes
from .routing import RoutingChecks, _document_lanes
from .structure import StructureChecks


class _Linter(StructureChecks, GatewayChecks, LoopChecks, RoutingChecks, FormChecks):
    """One lint run over one file. The checks live in the mixins, one module per concern;
    they share the state set up here and report through ``add``."""

    def __init__(
        self,
        root: etree._Element,
        filename: str,
        forms: dict[str, dict[str, Any]] | None,
        lane_map: dict[str, str] | None,
        routing: RoutingMap | None = None,
    ) -> None:
        self.root = root
        self.filename = filename
        self.forms = forms or {}
        self.lane_map = lane_map
        self.routing = routing if routing is not None else RoutingMap.from_parts(None, lane_map)
        self.issues = []
        self.processes = _processes(root)
        self.executable = [p for p in self.processes if _is_executable(p)]
        self.doc_lanes = _document_lanes(root)
        self.ids = {}
        for el in root.iter(etree.Element):
            el_id = el.get("id")
            if el_id is not None and el_id not in self.ids:
                self.ids[el_id] = el
        self._form_problems: dict[str, list[tuple[Any, ...]]] = {}

    def run(self) -> list[ValidationIssue]:
        self.check_duplicate_ids()
        if self.check_executable():
            self.check_reserved_ids()
            for container in self.containers():
                self.check_container(container)
            for process in self.executable:
                self.check_standard_loops(process)
                self.check_lanes(process)
                self.check_task_properties(process)
            self.check_recursion()
        return sorted(self.issues, key=lambda issue: (issue.line is None, issue.line or 0))


def lint_definitions(
    root: etree._Element,
    *,
    filename: str,
    forms: dict[str, dict[str, Any]],
    lane_map: dict[str, str] | None,
    routing: RoutingMap | None = None,
    checked_forms: set[str] | None = None,
) -> list[ValidationIssue]:
    """Deploy-time checks beyond SpiffWorkflow's own; returns every issue found.

    ``forms`` maps form file names to JSON schemas; ``lane_map`` maps lane names to
    agency kinds (it takes precedence over the default aliases); ``routing`` is the whole
    routing map (``routing.RoutingMap``), which includes the lane map when given.
    ``checked_forms``, when given, gets the names of the forms checked here (those the
    model's elements name): ``forms.lint_other_forms`` checks the rest.
    """
    linter = _Linter(root, filename, forms, lane_map, routing)
    issues = linter.run()
    if checked_forms is not None:
        checked_forms.update(linter._form_problems)
    return issues
