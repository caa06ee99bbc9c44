"""Exception texts without the values of case data (issue 11: errors carry no values).

A failing script or condition raises with the value it choked on in the text:
``int(health_note)`` gives "invalid literal for int() with base 10: 'Schizofreni'". That
text becomes an incident and a timeline event, read by people who may not see health
data. ``scrub`` removes from it

1. every literal value of the workflow's data (texts of three characters or more, numbers
   of two digits or more, as whole tokens), wherever it stands, as written and as another
   system prints it (``_Spelling``: in any case and spacing, a number with its thousands
   grouped, a date in another format), and
2. what Python's own messages quote or append (the known forms below, and any quoted
   literal that is not a name: names of variables and fields stay, they say what failed),
3. any e-mail address (a mail server's refusal names the agency's or the recipient's).

What is left names the element, the error class and what went wrong, not the value.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator
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
    # A quoted value whole (a point and a space inside it end no sentence), else up to the end.
    r"(?P<value>'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|.*?)"
    r"(?P<tail> does not match format .*|\.?$|\.?\s*\(|\.\s)",
    re.MULTILINE,
)
# An e-mail address as a mail server or a library writes it ("<post@fengsel.example>",
# "kari.hansen@nav.example", "brobygger@localhost", "o'brien@nav.example"): its local part of
# RFC 5322's atext characters, of which ' ` { | } only after its first one, so that a quoted
# address ("{'a@b.example': ...}") stays a quoted text with its mask inside, while a name's
# apostrophe ("o'brien") goes with the rest of the address.
_EMAIL = re.compile(r"[\w.!#$%&*+/=?^~-][\w.!#$%&*+/=?^~'`{|}-]*@[\w-]+(?:\.[\w-]+)*")
# A quoted list of names ("Did you mean one of '['health_note', 'score']'"): kept.
_NAME_LIST = r"'\[(?:'[A-Za-z_]\w*'(?:, )?)*\]'"
_QUOTED = re.compile(rf"{_NAME_LIST}|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
# What SpiffWorkflow quotes from the model itself: "Error evaluating expression '...'",
# "Python script error on line 2: '...'". Kept, so the admin sees what failed.
_MODEL_TEXT = re.compile(r"(?:evaluating expression |script error on line \d+: )$")


def literals(*values: Any) -> list[str]:
    """The texts a value of case data can appear as in an exception text, longest first."""
    return _literals_of(_leaves(values))


def _literals_of(leaves: Iterable[Any]) -> list[str]:
    """``literals`` of the values ``_leaves`` gave (in its order: ``MAX_LITERALS`` stops it)."""
    found: set[str] = set()
    for value in leaves:
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
    if "@" in text:  # any e-mail address, ours or not (a mail server's refusal names them)
        text = _EMAIL.sub(MASK, text)
    views = _Views(text)
    for literal in known:
        spelling = _spelling(literal, isinstance(literal, Word))
        if spelling.plain:
            text = text.replace(literal, MASK)
        for found in spelling.finds:
            if found.anchored_in(views):
                text = found.pattern.sub(found.mask, text)
    text = _TRAILING_VALUE.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    if model is not None:
        text = _NUMBER.sub(lambda match: _mask_number(match, text, model), text)
    return _QUOTED.sub(lambda match: _mask_quoted(match, text, model), text)


class _Views:
    """The text as the anchors are looked for in it, made once per scrub: in lower case, and
    (only if a number asks) with the separators of digit groups and date parts gone."""

    def __init__(self, text: str):
        self.folded = text.lower()
        self._squeezed: str | None = None

    @property
    def squeezed(self) -> str:
        if self._squeezed is None:
            self._squeezed = _SEPARATORS.sub("", self.folded)
        return self._squeezed


class _Find:
    r"""One pattern of a literal's spellings. It is tried only when all texts of one of its
    ``anchors`` stand in the text (in lower case; ``squeezed``: with digit separators gone),
    which most literals' do not: the scrub runs on every error stored or shown. A match
    whose previous character ``refused`` refuses (a letter before a word, a digit before a
    number) stays, so that a pattern need not start with a lookbehind (which makes ``re`` try
    it at every position)."""

    __slots__ = ("anchors", "pattern", "refused", "squeezed")

    def __init__(
        self,
        pattern: str,
        anchors: tuple[tuple[str, ...], ...],
        *,
        refused: Callable[[str], bool] | None = None,
        squeezed: bool = False,
    ):
        self.pattern = re.compile(pattern)
        self.anchors, self.refused, self.squeezed = anchors, refused, squeezed

    def anchored_in(self, views: _Views) -> bool:
        text = views.squeezed if self.squeezed else views.folded
        return any(all(part in text for part in group) for group in self.anchors)

    def mask(self, match: re.Match[str]) -> str:
        start = match.start()
        if start and self.refused is not None and self.refused(match.string[start - 1]):
            return match.group(0)
        return MASK


def _in_word(char: str) -> bool:  # ``re``'s ``\w``
    return char.isalnum() or char == "_"


def _in_number(char: str) -> bool:  # 19,999,999 holds no 9,999,999; 1.12500 no 12500
    return _in_word(char) or char == "."


def _in_date(char: str) -> bool:
    return char.isdigit() or char == "."


class _Spelling:
    """How a literal is found in a text: ``plain``, as written anywhere (``str.replace``), and
    ``finds``, as another system prints it."""

    __slots__ = ("finds", "plain")

    def __init__(self, plain: bool, *finds: _Find):
        self.plain, self.finds = plain, finds


SHORT_TEXT = 6  # a shorter text ("nei", "Oslo") is masked in another case only as a whole word
# What a system prints between groups of thousands (12 500, 12.500, 12,500, 12'500; the
# no-break spaces of a Norwegian locale) and between a date's parts.
_GROUP = "[ .,'\u00a0\u202f]?"
_SEPARATORS = re.compile("[- .,'/\u00a0\u202f]")
_DATE_SEP = "[-./ \u00a0]"
_NUMBER_LITERAL = re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?")
# A number a form kept as text, grouped the Norwegian way: "12 500", "12.500", "12 500,50".
_GROUPED_LITERAL = re.compile(r"(?P<int>\d{1,3}(?:([ .\u00a0\u202f])\d{3})(?:\2\d{3})*)(?:,(?P<dec>\d+))?")
_ISO_DATE = re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?:$|[T ])")
_LOCAL_DATE = re.compile(r"(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})$")
_MONTHS = (
    ("januar", "january", "jan"),
    ("februar", "february", "feb"),
    ("mars", "march", "mar"),
    ("april", "apr"),
    ("mai", "may"),
    ("juni", "june", "jun"),
    ("juli", "july", "jul"),
    ("august", "aug"),
    ("september", "sept", "sep"),
    ("oktober", "october", "okt", "oct"),
    ("november", "nov"),
    ("desember", "december", "des", "dec"),
)
_WORDS = re.compile(r"\w+")


@functools.lru_cache(maxsize=8_192)  # about 1.4 kB each
def _spelling(literal: str, word: bool) -> _Spelling:
    """The spellings of ``literal`` (``word``: a ``Word``) a text is scrubbed of. Cached: the
    same case's literals come back each time its errors are shown."""
    if word:
        return _Spelling(False, _Find(_caseless(literal), ((literal.lower(),),), refused=_in_word))
    stripped = literal.strip()
    unsigned = stripped.lstrip("-")
    # "12.500" is twelve and a half or twelve thousand five hundred: a text says which no
    # more than the number does, so both go.
    numbers = [found for found in (_NUMBER_LITERAL.fullmatch(unsigned), _GROUPED_LITERAL.fullmatch(unsigned)) if found]
    if numbers:
        finds = [_number_find(_SEPARATORS.sub("", found["int"]), found["dec"] or "") for found in numbers]
        return _Spelling(False, *finds)
    date = _ISO_DATE.match(stripped) or _LOCAL_DATE.fullmatch(stripped)
    if date is not None and 1 <= int(date["m"]) <= 12 and 1 <= int(date["d"]) <= 31:
        # A date alone is masked only whole (not 2026-03-01 within 2026-03-011); a moment
        # (2026-03-01T10:00) as written too.
        return _date_spelling(int(date["y"]), int(date["m"]), int(date["d"]), plain=len(stripped) > 10)
    if literal.replace(".", "").replace("-", "").isdigit():  # digits and dashes (a number 6-5)
        found = _Find(rf"{re.escape(literal)}(?![\w.])", ((literal.lower(),),), refused=_in_number)
        return _Spelling(False, found)
    return _text_spelling(stripped)


def _caseless(text: str) -> str:
    """``text`` (escaped) as a pattern in any case: its first letter as a class, so that
    ``re`` looks for it quickly, the rest case-insensitive."""
    first, rest = text[:1], re.escape(text[1:])
    cases = {first, first.lower(), first.upper()}
    head = f"[{''.join(map(re.escape, sorted(cases)))}]" if len(cases) > 1 else re.escape(first)
    return f"{head}(?i:{rest})" if rest else head


def _number_find(digits: str, decimals: str) -> _Find:
    """A number as it is printed: its thousands grouped by any separator or none (12500, 12 500,
    12.500, 12,500), its decimals after a point or a comma, an integer with zero decimals or
    ",-" (kr 12 500,00; 12 500,-). Not within a longer number (19,999,999 for 9,999,999)."""
    head = len(digits) % 3 or 3
    groups = [digits[:head], *(digits[index : index + 3] for index in range(head, len(digits), 3))]
    kept = decimals.rstrip("0")
    tail = rf"[.,]{kept}0*" if kept else r"(?:[.,]0+|,-)?"
    pattern = rf"{_GROUP.join(groups)}{tail}(?!\w)(?![.,]\d)"
    return _Find(pattern, ((digits,),), refused=_in_number, squeezed=True)


def _date_spelling(year: int, month: int, day: int, *, plain: bool) -> _Spelling:
    """A date as systems print it: 2026-03-01, 2026.3.1, 20260301, 01.03.2026, 1/3/26, 03/01/2026
    (month first), 1. mars 2026, March 1st, 2026."""
    y, yy = str(year), f"(?:{year}|{year % 100:02d})"
    m, d = (f"(?:0{part}|{part})" if part < 10 else str(part) for part in (month, day))
    sep = _DATE_SEP
    digits = (f"{y}{sep}{m}{sep}{d}", f"{year}{month:02d}{day:02d}", f"{d}{sep}{m}{sep}{yy}", f"{m}/{d}/{yy}")
    names = "|".join(_MONTHS[month - 1])
    named = (rf"{d}\.?\s*(?i:{names})\.?,?\s*{y}", rf"(?i:{names})\.?\s*{d}(?i:st|nd|rd|th)?,?\s*{y}")
    short = f"{year % 100:02d}"
    return _Spelling(
        plain,
        _Find(rf"(?:{'|'.join(digits)})(?!\d)", ((str(day), str(month), short),), refused=_in_date),
        _Find(
            rf"(?:{'|'.join(named)})(?!\d)",
            tuple((str(day), y, name[:3]) for name in _MONTHS[month - 1]),
            refused=_in_date,
        ),
    )


def _text_spelling(stripped: str) -> _Spelling:
    """A text in any case, its words apart by any white space (a line break) or none, and by
    its punctuation there or not ("SCHIZOFRENI PARANOID" for "Schizofreni, paranoid"). A short
    one only as a whole word: "nei" takes no "Neither" with it. Each gap is one character
    class, so a long run of spaces costs one pass, not one per way to split it."""
    words = _WORDS.findall(stripped)
    if not words:
        return _Spelling(True)
    parts = [_caseless(words[0])]
    for gap, word in zip(_WORDS.split(stripped)[1:-1], words[1:], strict=True):
        punctuation = "".join(sorted({char for char in gap if not char.isspace()}))
        parts.append(rf"[\s{re.escape(punctuation)}]*(?i:{re.escape(word)})")
    body = "".join(parts)
    short = len(stripped) < SHORT_TEXT
    found = _Find(rf"{body}(?!\w)" if short else body, ((words[0].lower(),),), refused=_in_word if short else None)
    return _Spelling(True, found)


def _mask_quoted(match: re.Match[str], text: str, model: Collection[str] | None = None) -> str:
    quoted = match.group(0)
    inner = quoted[1:-1]
    if quoted.startswith("'[") or inner == MASK:
        return quoted
    if _NAME.fullmatch(inner) and (model is None or _model_name(inner, model)):
        return quoted
    if _MODEL_TEXT.search(text, 0, match.start()):
        return quoted  # the model's own expression or script line (values scrubbed above)
    return f"{quoted[0]}{MASK}{quoted[0]}"


# The dotted names Python's messages give of the values the sandbox hands out ("'<' not
# supported between instances of 'datetime.date' and 'str'").
_TYPE_NAMES = frozenset({"datetime.date", "datetime.datetime", "datetime.timedelta"})


def _model_name(name: str, model: Collection[str]) -> bool:
    """Whether the quoted ``name`` is one the model has. A dotted name only as the model writes
    it whole, not part by part: a model whose names hold every letter made a value spelt
    "P.a.r.a.n.o.i.d" (a format specifier or a key a script computed) a name of its own."""
    if "." in name:
        return name in model or name in _TYPE_NAMES
    return name in model


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
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
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
    tokens = {token for text in texts for token in _TOKEN.findall(text)}
    return frozenset(tokens | {name for text in texts if "." in text for name in _DOTTED.findall(text)})


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
    leaves: list[Any] = []
    for state in states:
        leaves += _state_leaves(state or "null")
    return _literals_of(leaves)


# The values of each state, by a digest of its text: the same text gives the same values, so
# a page of incidents read again (their instances halted, their states unchanged) parses and
# walks none of them again (50 states of 5 KB: 3.6 ms of Python a page at a million tasks,
# a quarter of the incident list's). A state with more text in its values than
# ``_STATE_LEAVES_CACHED_TEXT`` is not kept (the cache holds at most ``_STATE_LEAVES_MOST``).
_STATE_LEAVES: OrderedDict[bytes, tuple[Any, ...]] = OrderedDict()
_STATE_LEAVES_MOST = 512
_STATE_LEAVES_CACHED_TEXT = 32_000
_STATE_LEAVES_LOCK = threading.Lock()


def _state_leaves(state: str) -> tuple[Any, ...]:
    """The values ``_leaves`` gives of the data of ``state`` (``_state_data_into``), in its order,
    each kept once (a value seen again adds no literal, and so never reaches the limit)."""
    key = hashlib.blake2b(state.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    with _STATE_LEAVES_LOCK:
        known = _STATE_LEAVES.get(key)
        if known is not None:
            _STATE_LEAVES.move_to_end(key)
            return known
    try:
        parsed = json.loads(state)
    except ValueError:
        return ()
    found: list[Any] = []
    _state_data_into(parsed, 0, found)
    leaves: list[Any] = []
    for value in found:  # as ``literals(*found)`` walks them: each one level below its tuple
        _leaves_into(value, 1, leaves)
    seen: set[tuple[type, Any]] = set()
    kept = []
    for leaf in leaves:
        mark = (type(leaf), leaf)
        if mark not in seen:
            seen.add(mark)
            kept.append(leaf)
    values = tuple(kept)
    if sum(len(leaf) for leaf in values if isinstance(leaf, str)) <= _STATE_LEAVES_CACHED_TEXT:
        with _STATE_LEAVES_LOCK:
            _STATE_LEAVES[key] = values
            if len(_STATE_LEAVES) > _STATE_LEAVES_MOST:
                _STATE_LEAVES.popitem(last=False)
    return values


def _state_data_into(node: Any, depth: int, found: list[Any]) -> None:
    """The data parts of a parsed state, into ``found``: each ``data``, ``data_objects`` and
    ``internal_data`` (not walked further here), and a ``delta``'s ``updates``."""
    if depth > 50:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "delta" and isinstance(value, dict):
                # Its "updates" are values; its "deletions" the names of fields a task left
                # out, which an error names ("Did you mean 'note'?").
                found.append(value.get("updates"))
            elif key in _STATE_DATA_KEYS and isinstance(value, dict):
                found.append(value)
            elif isinstance(value, dict | list):  # (a text, a number: no data part in it)
                _state_data_into(value, depth + 1, found)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _state_data_into(item, depth + 1, found)


def _leaves_into(value: Any, depth: int, leaves: list[Any]) -> None:
    """``_leaves(value, depth)`` into ``leaves``, without a generator at each level."""
    if depth > 50:
        return
    if isinstance(value, dict):
        for item in value.values():
            _leaves_into(item, depth + 1, leaves)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _leaves_into(item, depth + 1, leaves)
    else:
        leaves.append(value)


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
