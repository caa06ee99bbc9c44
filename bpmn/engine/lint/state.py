"""What every lint check shares: the file's tree and the issues found so far.

The checks are mixins of ``linter._Linter`` (one module per concern); they inherit this
so that each module says what state it reads, and mypy can check it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lxml import etree

from ..errors import ValidationIssue
from ..routing import RoutingMap


class LintState:
    root: etree._Element
    filename: str
    forms: dict[str, dict[str, Any]]
    lane_map: dict[str, str] | None
    routing: RoutingMap
    issues: list[ValidationIssue]
    processes: list[etree._Element]
    executable: list[etree._Element]
    doc_lanes: dict[str, str | None]
    ids: dict[str, etree._Element]
    _form_problems: dict[str, list[tuple[Any, ...]]]

    def add(self, code: str, message: str, el: etree._Element | None = None, **params: Any) -> None:
        """``params``: what ``message`` is built from, to say it in the user's language."""
        self.issues.append(
            ValidationIssue(
                code,
                message,
                element_id=el.get("id") if el is not None else None,
                line=el.sourceline if el is not None else None,
                file=self.filename,
                params=params,
            )
        )

    if TYPE_CHECKING:
        # Checks that call a check of another mixin (all are defined on _Linter).
        def check_gateway(self, gateway: etree._Element, outgoing: list[etree._Element]) -> None: ...
        def check_condition_syntax(self, flow: etree._Element) -> None: ...
        def check_cycles(
            self, container: etree._Element, nodes: dict[str, etree._Element], edges: dict[str, set[str]]
        ) -> None: ...
