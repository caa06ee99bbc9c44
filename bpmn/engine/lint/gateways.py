"""Gateway checks: default flows and conditions of exclusive and inclusive gateways."""

from __future__ import annotations

import ast

from lxml import etree

from .model import CONDITIONAL_GATEWAYS, _describe, _local, _q
from .state import LintState


class GatewayChecks(LintState):
    """Gateway and condition checks of ``_Linter`` (see ``linter.py``)."""

    def check_gateway(self, gateway: etree._Element, outgoing: list[etree._Element]) -> None:
        if len(outgoing) <= 1:
            return
        default = (gateway.get("default") or "").strip()
        if not default:
            self.add(
                "missing-default-flow",
                f"{_describe(gateway)} has {len(outgoing)} outgoing flows but no default "
                "flow; mark one flow as the default so the case never gets stuck when no "
                "condition holds",
                gateway,
                flows=len(outgoing),
            )
        for flow in outgoing:
            if flow.get("id") == default:
                continue
            condition = flow.find(_q("conditionExpression"))
            if condition is None or not (condition.text or "").strip():
                self.add(
                    "missing-condition",
                    f"{_describe(flow)} leaves {_describe(gateway)} without a condition; give "
                    "it a condition or make it the gateway's default flow",
                    flow,
                    gateway=gateway.get("id") or "",
                )

    def check_condition_syntax(self, flow: etree._Element) -> None:
        condition = flow.find(_q("conditionExpression"))
        if condition is None:
            return
        text = (condition.text or "").strip()
        if not text:
            source = self.ids.get((flow.get("sourceRef") or "").strip())
            if source is not None and _local(source) in CONDITIONAL_GATEWAYS:
                return  # reported as missing-condition (or it is the default flow)
            self.add(
                "invalid-condition",
                f"{_describe(flow)} has an empty condition; write the condition or remove it",
                flow,
                variant="empty",
            )
            return
        try:
            ast.parse(text, mode="eval")
        except SyntaxError as exc:
            shown = " ".join(text.split())
            if len(shown) > 80:
                shown = shown[:77] + "..."
            self.add(
                "invalid-condition",
                f"{_describe(flow)} has the condition {shown!r}, which is not a valid expression: {exc.msg}; "
                "write it as a Python expression over the case's fields, such as approved == True "
                "(Camunda's ${...}, JUEL and FEEL are not understood)",
                flow,
                variant="syntax",
                condition=shown,
                detail=exc.msg,
            )
