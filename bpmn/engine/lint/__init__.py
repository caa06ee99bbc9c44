"""Deploy-time lint of BPMN models: the checks SpiffWorkflow does not make.

Runs over the raw lxml tree returned by ``xml.parse_bpmn_xml``. Every issue names the
element and the reason in plain English and carries the element's source line.

Which processes are checked: SpiffWorkflow treats a process as executable unless it says
``isExecutable="false"`` (the attribute defaults to true), so the same rule is used here.
Non-executable processes are descriptive models: only the file-wide checks (duplicate
ids) apply to them. The lane map itself is checked by ``lanes.validate_lane_map`` and
timer expressions are checked by ``timers.normalize_timer_expressions``,
which the caller runs too (it rewrites the tree).

Modules: ``model`` (namespaces, element kinds, tree helpers), ``structure`` (ids,
executable processes, dangling and default flows), ``gateways``, ``loops`` (cycles,
standard loops, recursive call activities), ``routing`` (lanes), ``forms`` (forms, data
categories, dueIn), ``tasks`` (task metadata) and ``linter`` (runs the checks in order).
"""

from .forms import DATA_CATEGORIES, lint_other_forms
from .linter import lint_definitions
from .model import (
    BPMN_MODEL_NS,
    CONDITIONAL_GATEWAYS,
    DUE_IN_PROPERTY,
    FLOW_CONTAINERS,
    FLOW_NODES,
    FORM_PROPERTY,
    HUMAN_TASKS,
    NSMAP,
    SPIFF_NS,
    SUBPROCESSES,
    WAIT_STATES,
)
from .structure import RESERVED_IDS, RESERVED_SUFFIXES
from .tasks import extract_user_tasks

__all__ = [
    "BPMN_MODEL_NS",
    "CONDITIONAL_GATEWAYS",
    "DATA_CATEGORIES",
    "DUE_IN_PROPERTY",
    "FLOW_CONTAINERS",
    "FLOW_NODES",
    "FORM_PROPERTY",
    "HUMAN_TASKS",
    "NSMAP",
    "RESERVED_IDS",
    "RESERVED_SUFFIXES",
    "SPIFF_NS",
    "SUBPROCESSES",
    "WAIT_STATES",
    "extract_user_tasks",
    "lint_definitions",
    "lint_other_forms",
]
