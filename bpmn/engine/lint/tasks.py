"""Task metadata for the deployment: every user and manual task with its lane, form and dueIn."""

from __future__ import annotations

from typing import Any

from lxml import etree

from .model import (
    DUE_IN_PROPERTY,
    FORM_PROPERTY,
    _human_tasks,
    _is_executable,
    _local,
    _processes,
    _property_value,
)
from .routing import _document_lanes, _effective_lane


def extract_user_tasks(root: etree._Element) -> dict[str, dict[str, Any]]:
    """Every user and manual task of the executable processes, by element id.

    Each value: ``name`` (or None), ``lane`` (lane name as SpiffWorkflow sees it, or
    None), ``form`` (form file name or None), ``due_in`` (ISO duration text or None),
    ``line``, plus ``process`` (process id) and ``type`` (userTask / manualTask).
    """
    doc_lanes = _document_lanes(root)
    tasks: dict[str, dict[str, Any]] = {}
    for process in _processes(root):
        if not _is_executable(process):
            continue
        for el in _human_tasks(process):
            task_id = el.get("id")
            if not task_id or task_id in tasks:
                continue
            tasks[task_id] = {
                "name": el.get("name"),
                "lane": _effective_lane(el, doc_lanes),
                "form": _property_value(el, FORM_PROPERTY) or None,
                "due_in": _property_value(el, DUE_IN_PROPERTY) or None,
                "line": el.sourceline,
                "process": process.get("id"),
                "type": _local(el),
            }
    return tasks
