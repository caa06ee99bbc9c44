"""Exception texts without the values of case data (issue 11: errors carry no values).

A failing script or condition raises with the value it choked on in the text:
``int(health_note)`` gives "invalid literal for int() with base 10: 'Schizofreni'". That
text becomes an incident and a timeline event, read by people who may not see health
data. ``scrub`` removes from it

1. every literal value of the workflow's data (texts of three characters or more, numbers
   of two digits or more, as whole tokens), wherever it stands, and
2. what Python's own messages quote or append (the known forms below, and any quoted
   literal that is not a name: names of variables and fields stay, they say what failed).

What is left names the element, the error class and what went wrong, not the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

MASK = "…"
MIN_TEXT = 3  # shorter texts ("ja", "F2") would garble the message, and say little
MAX_LITERALS = 5_000  # a workflow with more values is scrubbed by the generic rules past this

# Python's messages that end in the value itself: the value is cut off.
_TRAILING_VALUE = re.compile(
    r"(?P<head>invalid literal for \w+\(\) with base \d+: |could not convert string to \w+: "
    r"|Invalid isoformat string: |unconverted data remains: |time data |invalid literal for Decimal: "
    r"|Unknown string format: |String does not contain a date: )"
    r"(?P<value>.*?)(?P<tail> does not match format .*|\.?$|\.?\s*\(|\.\s)",
    re.MULTILINE,
)
# A quoted list of names ("Did you mean one of '['health_note', 'score']'"): kept.
_NAME_LIST = r"'\[(?:'[A-Za-z_]\w*'(?:, )?)*\]'"
_QUOTED = re.compile(rf"{_NAME_LIST}|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
# What SpiffWorkflow quotes from the model itself: "Error evaluating expression '...'",
# "Python script error on line 2: '...'". Kept, so the admin sees what failed.
_MODEL_TEXT = re.compile(r"(?:evaluating expression |script error on line \d+: )$")


def literals(*values: Any) -> list[str]:
    """The texts a value of case data can appear as in an exception text, longest first."""
    found: set[str] = set()
    for value in _leaves(values):
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, str):
            if len(value.strip()) >= MIN_TEXT:
                found |= {value, value.strip(), repr(value)[1:-1]}
        elif isinstance(value, int | float) and (abs(value) >= 10 or value != int(value)):
            found |= {str(value), repr(value)}
            if isinstance(value, int) and abs(value) >= 1000:
                found.add(f"{value:,}")  # as the engine's texts wrote a count ("range of 9,999,999 items")
        if len(found) > MAX_LITERALS:
            break
    return sorted((text for text in found if text), key=len, reverse=True)


def _leaves(value: Any, depth: int = 0) -> Iterator[Any]:
    if depth > 50:
        return
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _leaves(item, depth + 1)
    else:
        yield value


def scrub(text: str, known: Iterable[str] = ()) -> str:
    """``text`` without the ``known`` literals (``literals(...)``) and without what Python's
    messages quote or append as a value."""
    for literal in known:
        if "," in literal and literal.replace(",", "").replace("-", "").isdigit():  # 9,999,999: not within 19,999,999
            text = re.sub(rf"(?<![\w.,]){re.escape(literal)}(?![\w.]|,\d)", MASK, text)
        elif literal.replace(".", "").replace("-", "").isdigit():
            text = re.sub(rf"(?<![\w.]){re.escape(literal)}(?![\w.])", MASK, text)
        else:
            text = text.replace(literal, MASK)
    text = _TRAILING_VALUE.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    return _QUOTED.sub(lambda match: _mask_quoted(match, text), text)


def _mask_quoted(match: re.Match[str], text: str) -> str:
    quoted = match.group(0)
    inner = quoted[1:-1]
    if quoted.startswith("'[") or _NAME.fullmatch(inner) or inner == MASK:
        return quoted
    if _MODEL_TEXT.search(text, 0, match.start()):
        return quoted  # the model's own expression or script line (values scrubbed above)
    return f"{quoted[0]}{MASK}{quoted[0]}"


def workflow_literals(workflow: Any) -> list[str]:
    """``literals`` of every value in a SpiffWorkflow workflow's data and its tasks' data."""
    if workflow is None:
        return []
    datas = [getattr(workflow, "data", {})]
    datas += [task.data for task in workflow.get_tasks()]
    return literals(*datas)


# Where a stored workflow state (``runtime.dumps``) keeps values of case data.
_STATE_DATA_KEYS = frozenset({"data", "data_objects", "internal_data", "delta"})


def state_literals(*states: str) -> list[str]:
    """``literals`` of every value in the data of stored workflow states (their JSON text, as
    saved): what ``workflow_literals`` gives for a loaded workflow, read without loading it
    (a migration scrubbing rows written before errors were scrubbed; a state that does not
    parse gives nothing)."""
    found: list[Any] = []
    for state in states:
        try:
            parsed = json.loads(state or "null")
        except ValueError:
            continue
        found += list(_state_data(parsed))
    return literals(*found)


def _state_data(node: Any, depth: int = 0) -> Iterator[Any]:
    if depth > 50:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _STATE_DATA_KEYS and isinstance(value, dict):
                yield value
            else:
                yield from _state_data(value, depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _state_data(item, depth + 1)


def error_class(exc: BaseException) -> str:
    """The class of the exception at the root of ``exc`` (what a script really raised,
    beneath SpiffWorkflow's and the sandbox's wrappers)."""
    seen = {id(exc)}
    while True:
        inner = exc.__cause__ or exc.__context__  # SpiffWorkflow raises its wrapper inside except
        if not isinstance(inner, BaseException) or id(inner) in seen:
            return type(exc).__name__
        seen.add(id(inner))
        exc = inner
