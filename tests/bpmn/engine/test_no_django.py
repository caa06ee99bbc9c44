"""bpmn/engine/ is plain Python: it must never import Django (design §1)."""

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ENGINE = REPO / "bpmn" / "engine"


def _engine_files() -> list[Path]:
    return sorted(path for path in ENGINE.rglob("*.py") if "__pycache__" not in path.parts)


def _django_imports(path: Path, base: Path = REPO) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else []
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("__import__", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        else:
            continue
        for name in names:
            if name == "django" or name.startswith("django."):
                found.append(f"{path.relative_to(base)}:{node.lineno}: {name}")
    return found


def test_engine_has_python_files():
    names = {str(path.relative_to(ENGINE)) for path in _engine_files()}
    assert {"errors.py", "xml.py", "lanes.py", "timers.py", "lint/__init__.py", "runtime.py"} <= names


def test_no_engine_module_imports_django():
    offenders = [hit for path in _engine_files() for hit in _django_imports(path)]
    assert offenders == [], "bpmn/engine must not import Django:\n" + "\n".join(offenders)


def test_the_checker_sees_django_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\nimport django.conf\nfrom django.db import models\nfrom .django import x\n__import__('django')\n"
    )
    hits = [hit.split(": ", 1)[1] for hit in _django_imports(sample, tmp_path)]
    assert hits == ["django.conf", "django.db", "django"]


def test_importing_the_engine_loads_no_django():
    modules = sorted(
        "bpmn.engine" + ("." + ".".join(path.relative_to(ENGINE).with_suffix("").parts)) for path in _engine_files()
    )
    modules = [name.removesuffix(".__init__") for name in modules]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print('DJANGO:' + ','.join(loaded))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "DJANGO:\n" in result.stdout or result.stdout.strip() == "DJANGO:", result.stdout
