"""Reading process files from disk: a .bpmn file and the forms it names beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bpmn.engine.errors import BpmnValidationError
from bpmn.engine.xml import parse_bpmn_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

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


BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml", ".xml")


def _process_ids(root) -> tuple[set[str], set[str]]:
    """(the ids of the processes a file defines, the processes its call activities call)."""
    defined = {node.get("id") for node in root.iter(f"{{{BPMN_NS}}}process")}
    calls = {node.get("calledElement") for node in root.iter(f"{{{BPMN_NS}}}callActivity")}
    return defined, {call for call in calls if call}


def _parsed(path: Path):
    try:
        return parse_bpmn_xml(path.read_bytes(), filename=path.name)
    except (BpmnValidationError, OSError):
        return None


def called_files(bpmn_path: Path) -> list[dict[str, str]]:
    """The files beside ``bpmn_path`` that define the processes its call activities call
    (and theirs, in turn), as ``deploy_definition``'s ``called``: what a process admin
    deploys with a model whose called processes live in files of their own."""
    siblings = [
        path
        for path in sorted(bpmn_path.parent.iterdir())
        if path != bpmn_path and path.is_file() and path.name.endswith(BPMN_SUFFIXES)
    ]
    root = _parsed(bpmn_path)
    if root is None:
        return []
    defined, wanted = _process_ids(root)
    wanted -= defined
    found: list[dict[str, str]] = []
    by_process: dict[str, tuple[Path, object]] | None = None
    while wanted:
        if by_process is None:
            by_process = {}
            for path in siblings:
                sibling = _parsed(path)
                if sibling is not None:
                    for process_id in _process_ids(sibling)[0]:
                        by_process.setdefault(process_id, (path, sibling))
        process_id = wanted.pop()
        if process_id in defined or process_id not in by_process:
            continue
        path, sibling = by_process[process_id]
        sibling_defined, sibling_calls = _process_ids(sibling)
        defined |= sibling_defined
        wanted |= sibling_calls - defined
        found.append({"filename": path.name, "bpmn_xml": path.read_text(encoding="utf-8")})
    return found
