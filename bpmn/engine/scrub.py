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
from collections.abc import Collection, Iterable, Iterator
from typing import Any

MASK = "…"
MIN_TEXT = 3  # shorter texts ("ja", "F2") would garble the message, and say little
MAX_LITERALS = 5_000  # a workflow with more values is scrubbed by the generic rules past this


class Word(str):
    """A literal taken out in any case wherever a word starts with it (a person's name as a
    register spells it, "NORDMANN, OLA", or in the genitive), where the others are taken out
    as written."""


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


def scrub(text: str, known: Iterable[str] = (), model: Collection[str] | None = None) -> str:
    """``text`` without the ``known`` literals (``literals(...)``) and without what Python's
    messages quote or append as a value. With ``model`` (``model_tokens``: the names and
    numbers the model's own texts hold), a quoted name is kept only if the model has it, and
    a number of two digits or more only if the model has it (or it is a line number): a value
    computed from case data (``{}[note.split()[1]]`` quotes a word of the note, a name to the
    rules above; ``timedelta(days=10**9 + len(note))`` writes a number unquoted) is no
    literal of the data, and a model deployed for it read any value into the error."""
    for literal in known:
        if isinstance(literal, Word):
            text = re.sub(rf"(?<!\w){re.escape(literal)}", MASK, text, flags=re.IGNORECASE)
        elif "," in literal and literal.replace(",", "").replace("-", "").isdigit():  # 9,999,999: not within 19,999,999
            text = re.sub(rf"(?<![\w.,]){re.escape(literal)}(?![\w.]|,\d)", MASK, text)
        elif literal.replace(".", "").replace("-", "").isdigit():
            text = re.sub(rf"(?<![\w.]){re.escape(literal)}(?![\w.])", MASK, text)
        else:
            text = text.replace(literal, MASK)
    text = _TRAILING_VALUE.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    if model is not None:
        text = _NUMBER.sub(lambda match: _mask_number(match, text, model), text)
    return _QUOTED.sub(lambda match: _mask_quoted(match, text, model), text)


def _mask_quoted(match: re.Match[str], text: str, model: Collection[str] | None = None) -> str:
    quoted = match.group(0)
    inner = quoted[1:-1]
    if quoted.startswith("'[") or inner == MASK:
        return quoted
    if _NAME.fullmatch(inner) and (model is None or all(part in model for part in inner.split("."))):
        return quoted
    if _MODEL_TEXT.search(text, 0, match.start()):
        return quoted  # the model's own expression or script line (values scrubbed above)
    return f"{quoted[0]}{MASK}{quoted[0]}"


# A number standing alone (not part of a name), with its thousands separators or decimals.
_NUMBER = re.compile(r"(?<![\w.,])\d{2,}(?:[.,]\d+)*(?![\w])")
_LINE = re.compile(r"line $")


def _mask_number(match: re.Match[str], text: str, model: Collection[str]) -> str:
    number = match.group(0)
    if number.replace(",", "") in model or _LINE.search(text, max(0, match.start() - 5), match.start()):
        return number
    return MASK


# The names and numbers of a model's texts (``model_tokens``).
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+")
_MAX_DEPTH = 8


def model_tokens(workflow: Any) -> frozenset[str]:
    """Every name and number the texts of the workflow's model hold: its scripts, conditions
    and other expressions, element ids and names, message and form names, as SpiffWorkflow's
    task specs keep them (the spec is the version's, shared by its cases: no case data), and
    the names of its data. What an error may quote of the model (``scrub``'s ``model``)."""
    texts: list[str] = []
    top = getattr(workflow, "top_workflow", None) or workflow  # a sub-process's: its process's model
    specs = [getattr(top, "spec", None), *(getattr(top, "subprocess_specs", None) or {}).values()]
    roots = [task_spec for spec in specs for task_spec in (getattr(spec, "task_specs", None) or {}).values()]
    # Each task spec is walked from itself: reached from another (its inputs and outputs),
    # it and the process spec holding it are left for their own walk.
    seen: set[int] = {id(value) for value in (*specs, *roots)}

    def walk(value: Any, depth: int) -> None:
        if isinstance(value, str):
            texts.append(value)
            return
        if depth > _MAX_DEPTH or value is None or isinstance(value, int | float) or id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, dict):
            for key, item in value.items():
                walk(key, depth + 1)
                walk(item, depth + 1)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                walk(item, depth + 1)
        elif hasattr(value, "__dict__"):
            for item in vars(value).values():
                walk(item, depth + 1)

    for holder in (*specs, *roots):
        for item in vars(holder).values() if hasattr(holder, "__dict__") else ():
            walk(item, 1)
    # The names of the data (its top level: the fields of the forms, the names scripts set,
    # what "did you mean" suggests), never the values, nor the keys inside a value.
    datas = [getattr(top, "data", None) or {}]
    datas += [task.data for task in top.get_tasks()] if hasattr(top, "get_tasks") else []
    texts += [key for data in datas if isinstance(data, dict) for key in data if str(key).isidentifier()]
    return frozenset(token for text in texts for token in _TOKEN.findall(text))


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
