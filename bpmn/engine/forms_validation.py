"""JSON-schema forms that cannot attack the server: the one place that builds form validators.

Deploy (``lint/forms.py``) and run time (``bpmn.registry``) both use this module, so a form
is refused at deploy for exactly what would hurt at run time:

* a ``$ref`` that leaves the form (``http:``, ``file:``, any URI that is not ``#/...``): the
  validator would fetch it on submit (SSRF). Retrieval is also switched off in the
  validator's registry, so a schema that got in some other way still fetches nothing;
* a ``$ref`` that leads back to itself, directly or through other references: validation
  would recurse until the interpreter gives up, and the task could never be completed;
* ``pattern`` and ``patternProperties`` that RE2 cannot compile (backreferences,
  lookaround): RE2 matches in time linear in the input, Python's ``re`` backtracks
  (``^(a+)+$`` takes seconds on thirty characters);
* references that fan out: ``d0`` = ``allOf`` of ``d1`` twice, ``d1`` of ``d2`` twice, ...
  is not recursive, yet forty levels check 2**40 schemas for one value. A form whose
  references, followed, make ``MAX_EXPANDED_SCHEMAS`` schemas more than it has is refused.

Three keywords are jsonschema's own made safe: ``uniqueItems`` compares each item with every
other one (quadratic: 3,000 small objects took 6 s), here it is one pass with a set;
``enum`` compares the value with each allowed one (a 5,000-code list on a list field of
10,000 items took 3.7 s), here it is a set lookup; and ``multipleOf`` raised
``OverflowError`` (a 500) for an integer too large for a float.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import functools
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NoReturn, cast
from urllib.parse import unquote

import re2
import referencing
import referencing.exceptions
import rfc3339_validator  # noqa: F401  jsonschema checks ``date-time`` and ``time`` only when it is installed
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, _keywords, validators
from jsonschema.exceptions import _WrappedReferencingError
from jsonschema.protocols import Validator

from .date_range import DATE_FORMATS, date_of, date_range
from .graphs import strongly_connected

# A JSON pointer into a form, as its parts.
Pointer = tuple[str, ...]
Schema = dict[str, Any]

# Keywords of draft 2020-12 whose values are schemas, lists of schemas or maps of schemas.
_ONE_SCHEMA = (
    "additionalProperties",
    "contains",
    "contentSchema",
    "else",
    "if",
    "items",
    "not",
    "propertyNames",
    "then",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAPS = ("$defs", "definitions", "dependentSchemas", "patternProperties", "properties")
_REFERENCES = ("$ref", "$dynamicRef")

UNUSABLE_FORM_KEYWORD = "x-brobygger-unusable-form"
UNUSABLE_FORM_MESSAGE = (
    "this form cannot be used: it fails the checks every form must pass; a process admin must "
    "deploy a corrected version"
)


# Every code a ``FormProblem`` can have: the editor's preview words each in the user's
# language (core.messages "form_problem.*"), and a new one must be listed here first.
FORM_PROBLEM_CODES = (
    "remote-ref",
    "invalid-ref",
    "embedded-id",
    "invalid-pattern",
    "unresolvable-ref",
    "recursive-ref",
    "ref-fanout",
    "schema-too-deep",
)

# The most schemas the references of a form may add to its own when each is followed every
# time it is used: a large case form has a few hundred; exponential fan-out passes it at once.
MAX_EXPANDED_SCHEMAS = 10_000

# The most schemas deep a validation may go, references followed: jsonschema recurses a few
# frames a level, and a chain of 500 references was a RecursionError (a 500) on every submit.
MAX_SCHEMA_DEPTH = 100


@dataclass(frozen=True)
class FormProblem:
    code: str  # "remote-ref", "recursive-ref", "unresolvable-ref", "invalid-pattern", ...
    field: str | None  # the form field (dotted for nested ones), None when outside any field
    where: str  # JSON pointer of the schema that has the problem, "" for the form itself
    what: str  # "has the pattern '(a)\\1'"
    why: str  # what is wrong with it and what to do instead

    def __post_init__(self) -> None:
        if self.code not in FORM_PROBLEM_CODES:
            raise ValueError(f"unknown form problem code {self.code!r}: list it in FORM_PROBLEM_CODES")

    def place(self) -> str:
        """The field, or the JSON pointer outside the fields ("#" for the form itself)."""
        return self.field or self.where or "#"

    def describe(self) -> str:
        """'has X in the field 'f': why' (or 'at '/$defs/a'' outside the fields)."""
        if self.field:
            place = f" in the field '{self.field}'"
        elif self.where:
            place = f" at '{self.where}'"
        else:
            place = ""
        return f"{self.what}{place}: {self.why}"


# --------------------------------------------------------------------------- patterns


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is reported to the caller, not to stderr
    return options


_OPTIONS = _re2_options()


@functools.lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Any:
    """``pattern`` compiled by RE2; raises ``re2.error`` when RE2 cannot compile it."""
    return re2.compile(pattern, _OPTIONS)


def pattern_error(pattern: object) -> str | None:
    """Why RE2 cannot use ``pattern``, or None when it can."""
    if not isinstance(pattern, str):
        return None  # the meta-schema check reports the type
    try:
        compile_pattern(pattern)
    except re2.error as exc:
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return detail or "not a regular expression"
    return None


# --------------------------------------------------------------------------- pattern work
#
# RE2 matches in time linear in the text, but the factor is the number of places in the
# pattern a match can be at once: when its DFA runs out of memory (a counted repetition such
# as ``[^.]{1000}\.`` searched in non-ASCII text) RE2 steps every one of them for every byte.
# 100,000 emoji against ``.{1000}x`` took 4.3 s, a list of 160 texts of 1,500 emoji 9.8 s.
# So each validation has a budget: a match costs its text's bytes times the pattern's width
# (at most 50 ns each, measured), and a value past the budget is refused (400 naming the
# field) instead of matched.

# Work units of one validation (one form, one payload): about 0.4 s of the slowest matching.
PATTERN_WORK_LIMIT = 10_000_000
# A text checked as ``format: regex``: at most this long, compiled in this much memory.
REGEX_FORMAT_MAX_CHARS = 1_000
_REGEX_FORMAT_MAX_MEM = 256 << 10
# What compiling one costs at most, in the same units: 2.5 ms and 30 µs a character (a
# ``\pL`` takes RE2 that long to parse), measured.
_REGEX_COMPILE_WORK = 75_000
_REGEX_COMPILE_WORK_PER_CHAR = 1_000
TOO_COSTLY_KEYWORD = "x-brobygger-too-costly"
# CPU time one validation may take: a form of 10,000 rows of five fields (1 MB) takes 0.3 s.
VALIDATION_CPU_SECONDS = 1.0
_REGEX_FORMAT_OPTIONS = _re2_options()
_REGEX_FORMAT_OPTIONS.max_mem = _REGEX_FORMAT_MAX_MEM


class _TooCostly(Exception):
    """The validation's budget is spent; ``path`` is where, filled in as it propagates."""

    def __init__(self) -> None:
        super().__init__()
        self.path: collections.deque[str | int] = collections.deque()


_REPEAT = re.compile(r"\{(\d+)(?:(,)(\d*))?\}")
_GROUP_START = re.compile(r"\(\?(?:P?<[^>]*>|([a-zA-Z-]*)[:)])")


@dataclass(frozen=True)
class PatternCost:
    """What matching a pattern can cost: ``width`` is how many places of the pattern (its
    counted repetitions written out) a match can be at at once; ``longest`` the most
    characters a match anchored at the start can span (None: unbounded, or not anchored)."""

    width: int
    longest: int | None

    def work(self, text: str) -> int:
        size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if self.longest is not None:  # every thread has died after that many characters
            size = min(size, 4 * self.longest + 4)
        return (size + 1) * (self.width + 1)


def _atom_end(pattern: str, index: int) -> int:
    """Where the one-character item starting at ``index`` (not a ``(``) ends."""
    char = pattern[index]
    if char == "[":
        end = index + 1
        if pattern.startswith("^", end):
            end += 1
        if pattern.startswith("]", end):
            end += 1
        while end < len(pattern) and pattern[end] != "]":
            if pattern[end] == "\\":
                end += 2
            elif pattern.startswith("[:", end) and (close := pattern.find(":]", end + 2)) >= 0:
                end = close + 2
            else:
                end += 1
        return end + 1
    if char != "\\":
        return index + 1
    kind = pattern[index + 1 : index + 2]
    if kind in ("p", "P", "x") and pattern.startswith("{", index + 2):
        close = pattern.find("}", index + 3)
        return close + 1 if close >= 0 else len(pattern)
    if kind in ("p", "P"):
        return index + 3
    if kind == "x":
        return index + 4
    end = index + 2
    while kind in "01234567" and end < min(len(pattern), index + 4) and pattern[end] in "01234567":
        end += 1
    return end


@functools.lru_cache(maxsize=4096)
def pattern_cost(pattern: str) -> PatternCost:
    """The cost of a pattern RE2 compiles, read from its text: every one-character item
    (a letter, ``.``, a class, an escape) is a place, a counted repetition repeats its places."""
    # One entry per open group: [width so far, longest so far, longest of the branch, flags].
    groups: list[list[Any]] = [[0, 0, 0, ""]]
    last = (0, 0)  # width and longest of the item a quantifier applies to
    unbounded = 0
    anchored = pattern.startswith("^") or pattern.startswith("\\A")
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "(":
            match = _GROUP_START.match(pattern, index)
            flags = (match.group(1) or "") if match else ""
            if match and pattern[match.end() - 1] == ")":  # (?i): flags for the rest
                if "m" in flags.split("-")[0]:
                    anchored = False
                if index == 0 and pattern.startswith("^", match.end()):
                    anchored = "m" not in flags.split("-")[0]
                index, last = match.end(), (0, 0)
                continue
            groups.append([0, 0, 0, flags])
            index = match.end() if match else index + 1
            continue
        if char == ")" and len(groups) > 1:
            width, longest, branch, _ = groups.pop()
            last = (width, max(longest, branch))
            groups[-1][0] += last[0]
            groups[-1][2] += last[1]
            index += 1
            continue
        if char == "|":
            group = groups[-1]
            group[1], group[2] = max(group[1], group[2]), 0
            if len(groups) == 1:
                anchored = False  # another branch of the whole pattern
            index, last = index + 1, (0, 0)
            continue
        if char in "*+":
            if last[1]:
                unbounded += 1
            index += 1
            continue
        if char == "?":
            index += 1
            continue
        if char == "{" and (repeat := _REPEAT.match(pattern, index)):
            low = int(repeat.group(1))
            high = low if not repeat.group(2) else (int(repeat.group(3)) if repeat.group(3) else None)
            times = max(low, 1) if high is None else max(high, 1)
            if high is None and last[1]:
                unbounded += 1
            groups[-1][0] += last[0] * (times - 1) + (last[0] if high is None else 0)
            groups[-1][2] += last[1] * (times - 1)
            last = (last[0] * (times + (high is None)), last[1] * times)
            index = repeat.end()
            continue
        if char in "^$" or (char == "\\" and pattern[index + 1 : index + 2] in ("b", "B", "A", "z")):
            index, last = index + (1 if char in "^$" else 2), (0, 0)
            continue
        if char == "\\" and pattern.startswith("Q", index + 1):
            close = pattern.find("\\E", index + 2)
            literal = (close if close >= 0 else len(pattern)) - index - 2
            groups[-1][0] += literal
            groups[-1][2] += literal
            index, last = (close + 2 if close >= 0 else len(pattern)), (1, 1)
            continue
        index = _atom_end(pattern, index)
        groups[-1][0] += 1
        groups[-1][2] += 1
        last = (1, 1)
    while len(groups) > 1:  # RE2 compiled it, so this is only a guard
        width, longest, branch, _ = groups.pop()
        groups[-1][0] += width
        groups[-1][2] += max(longest, branch)
    width, longest, branch, _ = groups[0]
    longest = max(longest, branch)
    return PatternCost(width=width, longest=longest if anchored and not unbounded else None)


class _Work:
    """The budget of one validation: pattern work, and CPU time for everything else
    (``unevaluatedProperties`` under ``anyOf`` validates each level twice: nineteen levels
    of data took 15 s)."""

    __slots__ = ("checks", "deadline", "left")

    def __init__(self) -> None:
        self.left = PATTERN_WORK_LIMIT
        self.deadline = time.thread_time() + VALIDATION_CPU_SECONDS
        self.checks = 0

    def take(self, units: int) -> bool:
        """Whether ``units`` more fit in the budget (taken if they do)."""
        if units > self.left:
            self.left = -1  # spent: what follows is refused too, not matched
            return False
        self.left -= units
        return True

    def check(self) -> None:
        """Raise ``_TooCostly`` once the budget is spent or the time is up."""
        self.checks += 1
        if self.left < 0 or (not self.checks % 32 and time.thread_time() > self.deadline):
            self.left = -1
            raise _TooCostly


_WORK: contextvars.ContextVar[_Work | None] = contextvars.ContextVar("brobygger_form_work", default=None)
# Whether a validation is running (the ones nested in it share its budget and check it).
_RUNNING: contextvars.ContextVar[bool] = contextvars.ContextVar("brobygger_form_validating", default=False)


@contextlib.contextmanager
def work_budget() -> Iterator[None]:
    """One pattern budget for every validation in the block (a payload validated field by
    field); a validation outside any block has its own."""
    if _WORK.get() is not None:
        yield
        return
    token = _WORK.set(_Work())
    try:
        yield
    finally:
        _WORK.reset(token)


def _affordable(units: int) -> bool:
    work = _WORK.get()
    return units <= PATTERN_WORK_LIMIT if work is None else work.take(units)


def _too_costly(path: Iterable[str | int] = ()) -> ValidationError:
    return ValidationError("too long or too many to check in the time allowed", validator=TOO_COSTLY_KEYWORD, path=path)


def _spent() -> None:
    """Mark the budget spent (a RecursionError: what follows would only hit it again)."""
    work = _WORK.get()
    if work is not None:
        work.left = -1


def _matches(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches in ``text``; ``_TooCostly`` when the budget cannot pay for
    finding out (raised, not an error: ``not`` or ``anyOf`` must not take it for an answer)."""
    if not _affordable(pattern_cost(pattern).work(text)):
        raise _TooCostly
    return compile_pattern(pattern).search(text) is not None


# --------------------------------------------------------------------------- static checks


def _subschemas(node: dict[str, Any], pointer: Pointer) -> Iterator[tuple[Pointer, object]]:
    for keyword in _ONE_SCHEMA:
        if keyword in node:
            yield (*pointer, keyword), node[keyword]
    for keyword in _SCHEMA_LISTS:
        value = node.get(keyword)
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield (*pointer, keyword, str(index)), item
    for keyword in _SCHEMA_MAPS:
        value = node.get(keyword)
        if isinstance(value, dict):
            for name, item in value.items():
                yield (*pointer, keyword, name), item


def _walk(root: object, start: Pointer) -> Iterator[tuple[Pointer, dict[str, Any]]]:
    """Every schema object below ``start`` (itself included), with its pointer; iterative, so
    a deeply nested form cannot exhaust the stack."""
    stack = [(start, root)]
    while stack:
        pointer, node = stack.pop()
        if not isinstance(node, dict):
            continue
        yield pointer, node
        stack.extend(reversed(list(_subschemas(node, pointer))))


def _pointer_text(pointer: Pointer) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in pointer)


def _field_of(pointer: Pointer) -> str | None:
    names = []
    index = 0
    while index + 1 < len(pointer) and pointer[index] == "properties":
        names.append(pointer[index + 1])
        index += 2
        if index < len(pointer) and pointer[index] == "items":
            index += 1  # a list field's items belong to the field
    return ".".join(names) or None


def _resolve(schema: object, fragment: str) -> tuple[Pointer, object] | None:
    """The node a local JSON pointer fragment names (``""`` or ``"/a/b"``), or None."""
    if fragment == "":
        return (), schema
    node = schema
    pointer: list[str] = []
    for raw in fragment[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
        pointer.append(part)
    return tuple(pointer), node


def child_schemas(node: dict[str, Any]) -> Iterator[object]:
    """The schemas written directly inside ``node`` (its keywords' values), as the checks here
    walk a form."""
    return (child for _pointer, child in _subschemas(node, ()))


def child_schemas_at(node: dict[str, Any], pointer: Pointer) -> Iterator[tuple[Pointer, object]]:
    """``child_schemas`` with each one's JSON pointer (parts) below ``pointer``."""
    return _subschemas(node, pointer)


def local_targets(schema: object, node: dict[str, Any]) -> Iterator[object]:
    """The parts of the form ``schema`` that ``node``'s references (``$ref``, ``$dynamicRef``)
    name, read as validation reads them (a percent-encoded JSON pointer); a reference that is
    not local, or names nothing, is none (``schema_problems`` refuses it)."""
    for keyword in _REFERENCES:
        ref = node.get(keyword)
        if isinstance(ref, str) and _reference_problem(ref) is None:
            target = _resolve(schema, unquote(ref[1:]))
            if target is not None:
                yield target[1]


def _reference_problem(ref: str) -> tuple[str, str, str] | None:
    """(code, what, why) when a reference is not a local JSON pointer."""
    if not ref.startswith("#"):
        return (
            "remote-ref",
            f"has a $ref to {ref!r}",
            "a form may refer only to its own parts (such as '#/$defs/address'); the server never fetches schemas",
        )
    fragment = unquote(ref[1:])
    if fragment and not fragment.startswith("/"):
        return (
            "invalid-ref",
            f"has a $ref to the anchor {ref!r}",
            "refer to a part of the form by its JSON pointer (such as '#/$defs/address')",
        )
    return None


def schema_problems(schema: object) -> list[FormProblem]:
    """What would let this form attack the server; empty when it is safe to run."""
    if not isinstance(schema, dict):
        return []
    problems: list[FormProblem] = []
    references: dict[Pointer, Pointer] = {}  # pointer of a schema with $ref -> pointer it refers to
    walked: set[Pointer] = set()
    queue: list[tuple[Pointer, object]] = [((), schema)]
    has_pattern_properties = has_unevaluated_properties = False

    def problem(code: str, pointer: Pointer, what: str, why: str) -> None:
        problems.append(FormProblem(code, _field_of(pointer), _pointer_text(pointer), what, why))

    no_backtracking = "patterns are matched in linear time, without backreferences or lookaround"

    while queue:
        start, root = queue.pop()
        for pointer, node in _walk(root, start):
            if pointer in walked:
                continue
            walked.add(pointer)
            if pointer and "$id" in node:
                problem("embedded-id", pointer, 'has "$id"', "only the form itself may have one")
            if isinstance(node.get("patternProperties"), dict):
                has_pattern_properties = True
                for key in node["patternProperties"]:
                    if (error := pattern_error(key)) is not None:
                        problem(
                            "invalid-pattern",
                            pointer,
                            f"has the patternProperties key {key!r}",
                            f"{error}; {no_backtracking}",
                        )
            if "unevaluatedProperties" in node:
                has_unevaluated_properties = True
            if (error := pattern_error(node.get("pattern"))) is not None:
                problem(
                    "invalid-pattern", pointer, f"has the pattern {node['pattern']!r}", f"{error}; {no_backtracking}"
                )
            for keyword in _REFERENCES:
                ref = node.get(keyword)
                if not isinstance(ref, str):
                    continue
                if (refused := _reference_problem(ref)) is not None:
                    problem(refused[0], pointer, *refused[1:])
                    continue
                target = _resolve(schema, unquote(ref[1:]))
                if target is None:
                    problem("unresolvable-ref", pointer, f"has a $ref to {ref!r}", "it points at nothing in the form")
                    continue
                references[pointer] = target[0]
                if target[0] not in walked:
                    queue.append(target)
    if has_pattern_properties and has_unevaluated_properties:
        problem(
            "invalid-pattern",
            (),
            'uses "unevaluatedProperties" together with "patternProperties"',
            "the two cannot be checked in linear time; use additionalProperties instead",
        )
    recursive = _recursive_references(references)
    for pointer in recursive:
        problem(
            "recursive-ref",
            pointer,
            f"has a $ref to '#{_pointer_text(references[pointer])}'",
            "it leads back to itself, directly or through other references; a form may not refer to "
            "itself or to a part that contains the reference",
        )
    if not recursive and not problems:
        deepest, place = _deepest(schema, references)
        if deepest > MAX_SCHEMA_DEPTH:
            problem(
                "schema-too-deep",
                place,
                f"applies {deepest} schemas one inside the other to one value, references followed",
                f"validation would go deeper than the {MAX_SCHEMA_DEPTH} levels a form may have; refer to the "
                "part you mean directly instead of through a chain of references, and nest less",
            )
    if not recursive and not problems and (fanning := _fanning_reference(schema, references)) is not None:
        problem(
            "ref-fanout",
            fanning,
            f"has a $ref to '#{_pointer_text(references[fanning])}'",
            f"followed through the references below it, it makes more than {MAX_EXPANDED_SCHEMAS:,} schemas "
            "beyond the form's own to check for one value; refer to each part directly instead of through "
            "parts that repeat it",
        )
    return problems


def _fanning_reference(schema: dict[str, Any], references: dict[Pointer, Pointer]) -> Pointer | None:
    """The reference (the one making most, the first of those) when following every reference
    of the form makes ``MAX_EXPANDED_SCHEMAS`` schemas more than the form has; None when not.

    Each schema counts once per way it is reached: the schemas below a target, plus what each
    reference below the target makes in turn; the form's own definitions count only where
    they are referred to. The references must not be recursive."""
    # What the references add to the form's own schemas: a large flat form is not fan-out.
    cap = MAX_EXPANDED_SCHEMAS + sum(1 for _ in _walk(schema, ())) + 1
    below = _references_below(references, {(), *references.values()})
    below[()] = [source for source in below[()] if not _in_definitions(source)]
    made: dict[Pointer, int] = {}
    stack: list[Pointer] = [()]
    while stack:  # post-order over the (acyclic) targets, without recursion
        target = stack[-1]
        if target in made:
            stack.pop()
            continue
        pending = [references[source] for source in below[target] if references[source] not in made]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        resolved = _resolve(schema, _pointer_text(target))
        nodes = _walk(resolved[1], target) if resolved is not None else iter(())
        own = sum(1 for pointer, _ in nodes if target or not _in_definitions(pointer))
        made[target] = min(cap, own + sum(made[references[source]] for source in below[target]))
    if made[()] < cap:
        return None
    return min(references, key=lambda source: (-made[references[source]], len(source), source))


def _in_definitions(pointer: Pointer) -> bool:
    return bool(pointer) and pointer[0] in ("$defs", "definitions")


_HERE = object()  # marks a wanted pointer in the trie of ``_references_below``


def _references_below(references: dict[Pointer, Pointer], wanted: set[Pointer]) -> dict[Pointer, list[Pointer]]:
    """Each ``wanted`` pointer -> the references below it (itself included), in the form's
    order: each reference walks down a trie of the wanted pointers, one step a part. Not every
    reference compared with every target (3,000 references took a second, 30,000 minutes),
    nor each prefix of each reference made and hashed (20,000 references 200 levels down,
    a 650 kB form, took 30 s: quadratic in the depth)."""
    trie: dict[Any, Any] = {}
    for pointer in wanted:
        node = trie
        for part in pointer:
            node = node.setdefault(part, {})
        node[_HERE] = pointer
    found: dict[Pointer, list[Pointer]] = {pointer: [] for pointer in wanted}
    for source in references:
        node = trie
        if _HERE in node:
            found[node[_HERE]].append(source)
        for part in source:
            child = node.get(part)
            if child is None:
                break
            node = child
            if _HERE in node:
                found[node[_HERE]].append(source)
    return found


def _prefixes(references: dict[Pointer, Pointer]) -> set[Pointer]:
    """Every prefix of every reference (the empty one too): each reference stops climbing at
    the first prefix already there, so a deep path shared by many is made once."""
    prefixes: set[Pointer] = set()
    for source in references:
        for cut in range(len(source), -1, -1):
            prefix = source[:cut]
            if prefix in prefixes:
                break
            prefixes.add(prefix)
    return prefixes


def _recursive_references(references: dict[Pointer, Pointer]) -> list[Pointer]:
    """The schemas whose $ref leads back to themselves: following a reference from ``p`` to
    ``t`` evaluates every schema below ``t``, so ``p`` reaches each reference below ``t``.

    One pass (Tarjan's strongly connected components, without recursion) over the prefixes
    of the references: a prefix leads to each longer one, a reference to its target; ``p``
    is recursive when its target is in ``p``'s component. Following each reference along
    the rest (as before) was quadratic: a chain of 16,000 references took 24 s."""
    nodes = _prefixes(references)
    children: dict[Pointer, list[Pointer]] = {}
    for node in nodes:
        if node:
            children.setdefault(node[:-1], []).append(node)

    def edges(node: Pointer) -> list[Pointer]:
        found = list(children.get(node, ()))
        target = references.get(node)
        if target is not None and target in nodes:
            found.append(target)
        return found

    component = {
        member: number for number, members in enumerate(strongly_connected(nodes, edges)) for member in members
    }
    return sorted(
        source
        for source, target in references.items()
        if target in component and component[target] == component[source]
    )


# Keywords that apply their schemas to the same value: only these nest validation without
# going one level into the data (whose depth ``SUBMITTED_DATA_MAX_DEPTH`` bounds).
_IN_PLACE = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas"})


def _deepest(schema: dict[str, Any], references: dict[Pointer, Pointer]) -> tuple[int, Pointer]:
    """The longest chain of schemas applied to one value (``allOf``, ``not``, ``$ref``, ...),
    each a few frames of jsonschema's recursion, and the place to name: the first reference
    on it, else where it ends. The references must not be recursive."""

    def below(pointer: Pointer, node: Any) -> list[tuple[Pointer, Any, bool]]:
        """(pointer, schema, applied to the same value) of each schema below ``pointer``."""
        found = []
        if isinstance(node, dict):
            for child, value in _subschemas(node, pointer):
                if child[len(pointer)] not in ("$defs", "definitions"):  # never applied themselves
                    found.append((child, value, child[len(pointer)] in _IN_PLACE))
        target = references.get(pointer)
        if target is not None and (resolved := _resolve(schema, _pointer_text(target))) is not None:
            found.append((*resolved, True))
        return found

    depth: dict[Pointer, int] = {}
    stack: list[tuple[Pointer, Any, bool]] = [((), schema, False)]
    for target in set(references.values()):
        if (resolved := _resolve(schema, _pointer_text(target))) is not None:
            stack.append((*resolved, False))
    while stack:  # post-order over schemas and reference targets, without recursion
        pointer, node, expanded = stack.pop()
        if expanded:
            depth[pointer] = 1 + max((depth[child] for child, _, same in below(pointer, node) if same), default=0)
        elif pointer not in depth:
            depth[pointer] = 0  # seen; set when its children are done
            stack.append((pointer, node, True))
            stack.extend((child, value, False) for child, value, _ in below(pointer, node) if child not in depth)
    top = pointer = max(depth, key=lambda place: (depth[place], -len(place)))
    resolved_node = _resolve(schema, _pointer_text(pointer))
    node = resolved_node[1] if resolved_node is not None else None
    while True:
        applied = [(child, value) for child, value, same in below(pointer, node) if same]
        if not applied:
            return depth[top], top
        child, value = max(applied, key=lambda item: depth[item[0]])
        if child == references.get(pointer):
            return depth[top], pointer
        pointer, node = child, value


# --------------------------------------------------------------------------- run time


def _refuse_retrieval(uri: str) -> NoReturn:
    raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs alias


# Schemas are never fetched: every reference must resolve inside the form.
REGISTRY: referencing.Registry[Any] = referencing.Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]


def _pattern(validator: Validator, pattern: str, instance: object, schema: Schema) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not _matches(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Validator, pattern_properties: dict[str, Any], instance: Any, schema: Schema
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for key, value in instance.items():
            if _matches(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Validator, additional: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """jsonschema's own, with the patternProperties keys matched by RE2."""
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = {
        key for key in instance if key not in properties and not any(_matches(pattern, key) for pattern in patterns)
    }
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        listed = ", ".join(repr(extra) for extra in sorted(extras, key=str))
        yield ValidationError(f"Additional properties are not allowed ({listed} unexpected)")


def _reference(validator: Any, ref: str, instance: object, schema: Schema) -> Iterator[ValidationError]:
    try:
        errors = validator._validate_reference(ref=ref, instance=instance)
    except (_WrappedReferencingError, referencing.exceptions.Unresolvable):
        yield ValidationError(UNUSABLE_FORM_MESSAGE)
        return
    yield from errors


def _json_key(value: object) -> object:
    """A hashable key equal for exactly the values JSON Schema calls equal: 1 and 1.0 are,
    true and 1 are not, objects are equal whatever the order of their keys."""
    if isinstance(value, bool) or value is None:
        return ("c", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list | tuple):
        return ("a", tuple(_json_key(item) for item in value))
    if isinstance(value, dict):
        return ("o", frozenset((key, _json_key(item)) for key, item in value.items()))
    return ("?", id(value))


def _unique_items(validator: Validator, unique: object, instance: object, schema: Schema) -> Iterator[ValidationError]:
    """jsonschema's uniqueItems in one pass (its own compares every pair of objects)."""
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[object] = set()
    for item in cast(list[object], instance):
        key = _json_key(item)
        if key in seen:
            yield ValidationError("has non-unique elements")
            return
        seen.add(key)


_ENUM_KEYS: dict[int, tuple[list[object], frozenset[object]]] = {}  # id(enum) -> (enum, its keys)
_MAX_ENUM_KEYS = 4096


def _enum_keys(enum: list[object]) -> frozenset[object]:
    """The keys of an enum's values, made once per enum (a form's schema does not change; the
    entry keeps the list alive, so its id is not reused while cached)."""
    cached = _ENUM_KEYS.get(id(enum))
    if cached is not None and cached[0] is enum:
        return cached[1]
    keys = frozenset(_json_key(value) for value in enum)
    if len(_ENUM_KEYS) >= _MAX_ENUM_KEYS:
        _ENUM_KEYS.clear()
    _ENUM_KEYS[id(enum)] = (enum, keys)
    return keys


def _enum(validator: Validator, enum: Any, instance: object, schema: Schema) -> Iterator[ValidationError]:
    """jsonschema's enum as a set lookup (its own compares the value with each allowed one)."""
    if not isinstance(enum, list):
        yield from _keywords.enum(validator, enum, instance, schema)
        return
    if _json_key(instance) not in _enum_keys(enum):
        yield ValidationError("is not one of the allowed values")


def _multiple_of(validator: Validator, divisor: Any, instance: Any, schema: Schema) -> Iterator[ValidationError]:
    """jsonschema's multipleOf; an integer too large for a float is checked exactly, against
    the divisor as written."""
    if not validator.is_type(instance, "number"):
        return
    if isinstance(divisor, float):
        try:
            quotient = instance / divisor
            failed = int(quotient) != quotient
        except OverflowError:  # the decimal the form says (0.01), not the float's binary value
            failed = (Fraction(instance) / Fraction(repr(divisor))).denominator != 1
    else:
        failed = bool(instance % divisor)
    if failed:
        yield ValidationError(f"is not a multiple of {divisor}")


DATE_RANGE_KEYWORD = "x-brobygger-date-range"


def _format(validator: Validator, form_format: Any, instance: object, schema: Schema) -> Iterator[ValidationError]:
    """jsonschema's format, and a date or date-time in the field's range: ``date_range``'s
    default unless the schema sets its own (``formatMinimum``/``formatMaximum``). A text the
    format passes but no date can be read from (RFC 3339 lets a trailing newline through) is
    the format's error: what the engine cannot read must not reach a timer."""
    errors = list(_keywords.format(validator, form_format, instance, schema))
    yield from errors
    if errors or form_format not in DATE_FORMATS or not isinstance(instance, str):
        return
    day = date_of(instance, form_format)
    if day is None:
        yield ValidationError(f"is not a {form_format}")  # the keyword and format are set by jsonschema
        return
    minimum, maximum = date_range(schema)
    if not minimum <= day <= maximum:
        yield ValidationError(
            "is outside the dates the field accepts",
            validator=DATE_RANGE_KEYWORD,
            validator_value={"minimum": minimum.isoformat(), "maximum": maximum.isoformat()},
        )


def _unusable(validator: Validator, reason: object, instance: object, schema: Schema) -> Iterator[ValidationError]:
    yield ValidationError(UNUSABLE_FORM_MESSAGE)


FormValidator: type[Validator] = validators.extend(
    Draft202012Validator,
    validators={
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "$ref": _reference,
        "$dynamicRef": _reference,
        "uniqueItems": _unique_items,
        "enum": _enum,
        "multipleOf": _multiple_of,
        "format": _format,
        UNUSABLE_FORM_KEYWORD: _unusable,
    },
)  # no ``version``: that would register this class for the draft 2020-12 meta-schema globally


_iter_errors = FormValidator.iter_errors


def _budgeted_iter_errors(self: Validator, instance: object) -> Iterator[ValidationError]:
    """``iter_errors`` with one pattern budget for the whole validation, also through the
    validations nested in it (``anyOf``, ``if``, ``contains``). The budget is set only while
    the validation runs, never while the caller holds an error, so an abandoned iterator
    leaves nothing behind."""
    if _RUNNING.get():
        work = _WORK.get()
        if work is not None:
            work.check()  # nested (anyOf, not, if, unevaluated*): where blow-ups recur
        yield from _iter_errors(self, instance)
        return
    work = _WORK.get() or _Work()  # a ``work_budget`` block's, or its own
    errors = _iter_errors(self, instance)
    while True:
        token, running = _WORK.set(work), _RUNNING.set(True)
        try:
            error = next(errors)
        except StopIteration:
            return
        except _TooCostly as exc:  # the whole validation stops: one error, where it ran out
            error, errors = _too_costly(exc.path), iter(())
        except RecursionError:  # only a guard: descend turns it into _TooCostly with its place
            error, errors = _too_costly(), iter(())
        finally:
            _RUNNING.reset(running)
            _WORK.reset(token)
        yield error


FormValidator.iter_errors = _budgeted_iter_errors

_descend = FormValidator.descend


def _budgeted_descend(
    self: Validator,
    instance: object,
    schema: object,
    path: str | int | None = None,
    schema_path: str | int | None = None,
    resolver: Any = None,
) -> Iterator[ValidationError]:
    """``descend`` (every value and subschema goes through it) checking the budget, and
    naming its place in the data when the budget runs out below it. Running out of stack is
    running out of budget: nothing after it can be trusted to finish."""
    work = _WORK.get()
    if work is not None:
        work.check()
    try:
        yield from _descend(self, instance, schema, path, schema_path, resolver)
    except _TooCostly as exc:
        if path is not None:
            exc.path.appendleft(path)
        raise
    except RecursionError:
        _spent()
        raise _TooCostly from None


FormValidator.descend = _budgeted_descend


# An e-mail address as forms take it: one ``@`` with text on both sides, a domain of dotted
# labels, no white space (jsonschema's own check is only that the text has an ``@``).
_EMAIL = re.compile(r"[^@\s]{1,64}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}")
EMAIL_MAX_CHARS = 254


def _format_checker() -> FormatChecker:
    """Draft 2020-12's format checks (``FormatChecker()`` alone has every draft's, and draft 3's
    ``time``, ``HH:MM:SS`` without an offset, won over RFC 3339's), a stricter ``email`` and
    ``regex`` compiled as RE2 does."""
    checker = FormatChecker(formats=())
    checker.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)
    missing = {"date", "date-time", "time", "email"} - set(checker.checkers)
    if missing:  # jsonschema registers some only when their package is there
        raise ImportError(f"jsonschema cannot check the formats {sorted(missing)}: install rfc3339-validator")

    @checker.checks("email")  # type: ignore[untyped-decorator]
    @checker.checks("idn-email")  # type: ignore[untyped-decorator]
    def is_email(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        return len(instance) <= EMAIL_MAX_CHARS and _EMAIL.fullmatch(instance) is not None

    @checker.checks("regex", raises=re2.error)  # type: ignore[untyped-decorator]
    def is_regex(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        # Compiling costs far more than the text's length says (``\\pL{1000}``, nine
        # characters, took 44 ms to be found too large): long ones are refused, and every
        # one is paid for from the validation's budget.
        if len(instance) > REGEX_FORMAT_MAX_CHARS:
            return False
        if not _affordable(_REGEX_COMPILE_WORK + _REGEX_COMPILE_WORK_PER_CHAR * len(instance)):
            raise _TooCostly
        return bool(re2.compile(instance, _REGEX_FORMAT_OPTIONS))

    return checker


FORMAT_CHECKER = _format_checker()


def form_validator(schema: object) -> Validator:
    """The validator of one form. A form that fails ``schema_problems`` (deployed before these
    checks existed) gets a validator that refuses every submission instead of one that could
    fetch, recurse or backtrack."""
    if schema_problems(schema):
        schema = {UNUSABLE_FORM_KEYWORD: True}
    return FormValidator(schema, registry=REGISTRY, format_checker=FORMAT_CHECKER)


def field_validator(form: Validator, field_schema: object) -> Validator:
    """A validator for one field's schema that resolves references against its whole form
    (an unusable form's fields are unusable too)."""
    if UNUSABLE_FORM_KEYWORD in form.schema:
        return form
    return form.evolve(schema=field_schema)
