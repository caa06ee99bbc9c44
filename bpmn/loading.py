"""Reading process files from disk: a .bpmn file and the forms it names beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FORMS_DIR = "forms"


def bpmn_files(paths: list[str | Path]) -> list[Path]:
    """The .bpmn files among ``paths`` (files, or folders searched non-recursively)."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.glob("*.bpmn")))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


def forms_for(bpmn_path: Path) -> dict[str, dict]:
    """Every JSON schema in the ``forms/`` folder beside the model, or ``*.schema.json`` beside it."""
    forms: dict[str, dict[str, Any]] = {}
    for folder, pattern in ((bpmn_path.parent / FORMS_DIR, "*.json"), (bpmn_path.parent, "*.schema.json")):
        for schema_path in sorted(folder.glob(pattern)):
            forms.setdefault(schema_path.name, json.loads(schema_path.read_text(encoding="utf-8")))
    return forms
