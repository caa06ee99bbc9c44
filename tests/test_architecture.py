"""The layers of design §10, kept by a test: imports flow one way.

Lowest first: ``core`` and ``bpmn.engine`` (plain Python) -> ``permissions`` (who may
see what) -> ``accounts`` (sign-in) and ``bpmn`` (definitions, deploy) -> ``workflows``
(use cases, steps, jobs) -> ``web`` and ``api`` (the two interfaces) -> ``config``. ``bench`` sits beside the
interfaces and measures them. A module imports only from its own unit and the units
listed for it in ``ALLOWED``; an import inside a function counts like any other (it
must not dodge a rule), and first-party imports inside functions are refused outright
outside the few places that need them (``LAZY_IMPORTS_ALLOWED``).

Only ``bpmn.engine`` imports SpiffWorkflow, and ``core``/``bpmn.engine`` import no
Django (``tests/bpmn/engine/test_no_django.py`` checks the engine in a subprocess too).

Models may still name a model of a higher unit by its app label (``"workflows.Case"``):
that is a lazy reference Django resolves, not an import; an access fact (a consent, a
participation, an access-log row) is about a case.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# unit -> the units it may import from (besides itself)
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "bpmn.engine": frozenset({"core"}),
    "permissions": frozenset({"core"}),
    "accounts": frozenset({"core", "permissions"}),
    "bpmn": frozenset({"core", "bpmn.engine", "permissions"}),
    "workflows": frozenset({"core", "bpmn.engine", "bpmn", "permissions"}),
    # Retention and erasure of closed cases: reads and rewrites what workflows stored.
    "retention": frozenset({"core", "permissions", "bpmn", "workflows"}),
    # Figures for leaders: summary tables fed by the steps (through core.hooks writers) and
    # read by the pages; above workflows, whose events it counts, below the interfaces.
    "insight": frozenset({"core", "bpmn.engine", "bpmn", "permissions", "workflows"}),
    "web": frozenset({"core", "bpmn", "permissions", "accounts", "workflows", "retention", "insight"}),
    "api": frozenset({"core", "bpmn", "permissions", "accounts", "workflows", "retention", "insight"}),
    "bench": frozenset({"core", "bpmn.engine", "bpmn", "permissions", "workflows", "insight"}),
    # Running it (server, health, metrics, logs): reads the job and incident tables, and
    # tells the state of the reports' read replica (insight.replica).
    "ops": frozenset({"core", "workflows", "insight"}),
    "config": frozenset(
        {
            "core",
            "bpmn.engine",
            "bpmn",
            "permissions",
            "accounts",
            "workflows",
            "retention",
            "insight",
            "web",
            "api",
            "ops",
        }
    ),
}
UNITS = tuple(ALLOWED)
PLAIN_PYTHON = ("core", "bpmn.engine")
SPIFF_UNITS = ("bpmn.engine",)
# Files whose first-party imports may sit inside functions: Django loads apps before models.
LAZY_IMPORTS_ALLOWED = ("apps.py",)


@dataclass(frozen=True)
class Import:
    path: str
    line: int
    module: str
    in_function: bool


def unit_of(module: str) -> str | None:
    """The layer unit of a dotted module name, or None for third-party modules."""
    if module == "bpmn.engine" or module.startswith("bpmn.engine."):
        return "bpmn.engine"
    top = module.split(".")[0]
    return top if top in ALLOWED else None


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, current: str, is_package: bool) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        package = current.split(".") if is_package else current.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, node.module] if node.module else package)
    # ``from bpmn import engine`` imports bpmn.engine: a name that crosses into another unit
    # (a submodule) counts as its own import.
    crossing = [f"{base}.{alias.name}" for alias in node.names if unit_of(f"{base}.{alias.name}") != unit_of(base)]
    return [base, *crossing]


def imports_of(path: Path, root: Path) -> list[Import]:
    current = _module_name(path, root)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                names = _resolve(child, current, is_package)
            else:
                visit(child, nested)
                continue
            rel = str(path.relative_to(root))
            found.extend(Import(rel, child.lineno, name, in_function) for name in names)

    visit(tree, False)
    return found


def _product_files(root: Path) -> list[Path]:
    files = []
    for top in {unit.split(".")[0] for unit in UNITS}:
        folder = root / top
        if folder.is_dir():
            files += [p for p in folder.rglob("*.py") if "__pycache__" not in p.parts]
    return sorted(files)


def violations(root: Path) -> list[str]:
    """Every import that breaks a layer rule, as ``path:line: message``."""
    problems = []
    for path in _product_files(root):
        own = unit_of(_module_name(path, root))
        for imp in imports_of(path, root):
            where = f"{imp.path}:{imp.line}"
            target = unit_of(imp.module)
            top = imp.module.split(".")[0]
            if top == "SpiffWorkflow" and own not in SPIFF_UNITS:
                problems.append(f"{where}: {own} imports SpiffWorkflow; only bpmn/engine may")
            if top == "django" and own in PLAIN_PYTHON:
                problems.append(f"{where}: {own} is plain Python and imports {imp.module}")
            if target is None or target == own:
                continue
            if target not in ALLOWED[own]:
                problems.append(f"{where}: {own} imports {imp.module} ({target} is not below {own})")
            elif imp.in_function and path.name not in LAZY_IMPORTS_ALLOWED:
                problems.append(f"{where}: {own} imports {imp.module} inside a function")
    return sorted(set(problems))


def test_the_layers_hold():
    problems = violations(REPO)
    assert problems == [], "imports that break the layers (see ALLOWED):\n" + "\n".join(problems)


def test_the_allowed_graph_has_no_cycles():
    seen: dict[str, int] = {}

    def depth(unit: str, path: tuple[str, ...] = ()) -> int:
        assert unit not in path, f"cycle: {' -> '.join((*path, unit))}"
        if unit not in seen:
            seen[unit] = 1 + max((depth(lower, (*path, unit)) for lower in ALLOWED[unit]), default=0)
        return seen[unit]

    for unit in UNITS:
        depth(unit)


def test_every_product_package_is_a_unit():
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "locale", "node_modules"}
    assert packages <= {unit.split(".")[0] for unit in UNITS}, packages


# --- the checker itself, on a fixture tree: each rule fails once ---------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {p.parent for p in tmp_path.rglob("*.py")}:
        (folder / "__init__.py").touch()
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"permissions/rules.py": "from workflows.models import Case\n"},
            "permissions/rules.py:1: permissions imports workflows.models (workflows is not below permissions)",
        ),
        (
            {"permissions/rules.py": "def f():\n    from workflows import models\n"},
            "permissions/rules.py:2: permissions imports workflows (workflows is not below permissions)",
        ),
        (
            {"bpmn/views.py": "from ..workflows.selectors import case_for\n"},
            "bpmn/views.py:1: bpmn imports workflows.selectors (workflows is not below bpmn)",
        ),
        (
            {"bpmn/services.py": "from bpmn import engine\nfrom web import pages\n"},
            "bpmn/services.py:2: bpmn imports web (web is not below bpmn)",
        ),
        (
            {"workflows/steps.py": "from SpiffWorkflow.exceptions import WorkflowException\n"},
            "workflows/steps.py:1: workflows imports SpiffWorkflow; only bpmn/engine may",
        ),
        (
            {"core/errors.py": "from django.conf import settings\n"},
            "core/errors.py:1: core is plain Python and imports django.conf",
        ),
        (
            {"workflows/services.py": "def f():\n    from permissions import rules\n"},
            "workflows/services.py:2: workflows imports permissions inside a function",
        ),
        (
            {"config/urls.py": "from api import views\n", "api/views.py": "from web import pages\n"},
            "api/views.py:1: api imports web (web is not below api)",
        ),
    ],
)
def test_the_checker_refuses(tmp_path, files, expected):
    assert expected in violations(_tree(tmp_path, files))


def test_the_checker_allows_downward_and_relative_imports(tmp_path):
    root = _tree(
        tmp_path,
        {
            "workflows/services/tasks.py": (
                "from ..models import Task\nfrom . import steps\nfrom permissions import rules\n"
            ),
            "workflows/models.py": "",
            "workflows/services/steps.py": "",
            "bpmn/engine/runtime.py": "from SpiffWorkflow.bpmn import BpmnWorkflow\nfrom core.errors import X\n",
            "permissions/apps.py": "def ready():\n    from core import ids\n",
        },
    )
    assert violations(root) == []
