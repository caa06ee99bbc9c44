"""Run-time guards the rewritten code calls: budget accounting and size checks.

Every operation that can grow memory or run long is routed here by the rewriter
(:mod:`.rewrite`); each guard checks the size of the result *before* computing it and
charges the per-execution iteration, allocation and wall-clock budget.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any, cast

from ..errors import ExpressionError
from .limits import (
    MAX_FORMAT_WIDTH,
    MAX_INT_BITS,
    MAX_SEQUENCE_LEN,
    MAX_TEXT_ITEMS,
)
from .saved_size import expanded_size

# --------------------------------------------------------------------------- budget


# (deadline in the thread's CPU time, seconds) of the engine step running, if any: see
# ``step_time_limit``.
_STEP: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "brobygger_expression_step", default=None
)
# The step's CPU time is read every so many checks (a system call; a check is a loop turn).
_STEP_CHECK_EVERY = 32


@contextlib.contextmanager
def step_time_limit(seconds: float) -> Iterator[None]:
    """Every execution in the block shares ``seconds`` of the thread's CPU time (the step's,
    from its start) as well as having its own limit: one engine step (a request) runs many (a
    parallel multi-instance script up to 500 times, each within its own limit: 100 instances
    over a 100,000-character note took 3.7 s of CPU). CPU, not wall clock: a step kept waiting
    on the loaded machine (descheduled, the database) failed its next harmless script on an
    incident. A step inside a step keeps the outer deadline."""
    if _STEP.get() is not None:
        yield
        return
    token = _STEP.set((time.thread_time() + seconds, seconds))
    try:
        yield
    finally:
        _STEP.reset(token)


class _Budget:
    __slots__ = (
        "allocated",
        "checks",
        "deadline",
        "iterations",
        "max_allocated",
        "max_iterations",
        "step",
        "time_limit",
    )

    def __init__(self, time_limit: float, max_iterations: int, max_allocated: int):
        self.time_limit = time_limit
        self.deadline = time.monotonic() + time_limit
        self.step = _STEP.get()  # (CPU deadline, seconds) of the step, if any
        self.checks = _STEP_CHECK_EVERY - 1  # the first check reads the step's clock
        self.iterations = 0
        self.max_iterations = max_iterations
        self.allocated = 0
        self.max_allocated = max_allocated

    def _check_step(self) -> None:
        deadline, seconds = self.step  # type: ignore[misc]
        if time.thread_time() > deadline:
            raise ExpressionError(
                f"the scripts and conditions of one step run longer than the limit of {seconds} s",
                code="step-time-limit",
                milliseconds=round(seconds * 1000),
            )

    def check_time(self) -> None:
        if self.step is not None:
            self.checks += 1
            if not self.checks % _STEP_CHECK_EVERY:
                self._check_step()
        if time.monotonic() > self.deadline:
            raise ExpressionError(
                f"run time exceeds the limit of {self.time_limit} s",
                code="time-limit",
                milliseconds=round(self.time_limit * 1000),
            )

    def tick(self) -> None:
        self.iterations += 1
        if self.iterations > self.max_iterations:
            raise ExpressionError(
                f"loop iterations exceed the limit of {self.max_iterations:,} per execution",
                code="iteration-limit",
                limit_items=self.max_iterations,
            )
        self.check_time()

    def charge(self, items: int) -> None:
        self.allocated += items
        if self.allocated > self.max_allocated:
            raise ExpressionError(
                f"data created exceeds the limit of {self.max_allocated:,} items per execution",
                code="allocation-limit",
                limit_items=self.max_allocated,
            )
        self.check_time()


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("brobygger_expression_budget", default=None)


def _charge(items: int) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.charge(items)


def _check_len(length: int, what: str) -> None:
    if length > MAX_SEQUENCE_LEN:
        # Not the length: it is measured from case data (a count typed into a form).
        raise ExpressionError(
            f"{what} of more than {MAX_SEQUENCE_LEN:,} items exceeds the limit",
            code="sequence-limit",
            limit_items=MAX_SEQUENCE_LEN,
        )


def _check_int(value: Any, what: str) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError(
            f"{what} exceeds the limit of {MAX_INT_BITS} bits", code="integer-limit", limit=MAX_INT_BITS
        )
    return value


_SEQUENCES = (str, list, tuple)
_SCALARS = frozenset({str, int, float, bool, type(None), date, datetime, timedelta})


def _check_text_size(value: Any) -> None:
    """Refuse to turn a container into text when the text would be huge.

    Shared references make ``[[0] * 10**5] * 10**5`` cheap to build and 10**10
    characters long as text, so walk it (bounded) before ``str``/``repr``/format.
    """
    if type(value) in _SCALARS:
        return
    count = chars = 0
    stack = [value]
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_TEXT_ITEMS:
            raise ExpressionError(
                f"converting a structure of more than {MAX_TEXT_ITEMS:,} items to text exceeds the limit",
                code="text-conversion-limit",
                limit_items=MAX_TEXT_ITEMS,
            )
        if isinstance(item, str):
            chars += len(item)
            if chars > MAX_SEQUENCE_LEN:
                _check_len(chars, "text")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)


_ATOMS = frozenset({str, int, float, bool, type(None), date, datetime, timedelta})


def _check_walked(value: Any, what: str = "a value compared or looked up") -> None:
    """Refuse a value that a comparison, a hash or ``repr`` would walk too long.

    Those walk every reference in C, out of reach of the clock: ``[[[[7]*1000]*1000]*1000]*1000``
    costs 4,000 items to make and 10**12 steps to compare, ``((((7,)*1000,)*1000,)*1000,)*1000``
    as much to hash (a dict or set lookup). Measured as saved data is, each reference each
    time, in time proportional to its memory, and charged to the budget as the work it lets
    happen. A text is compared, hashed and quoted in time linear in its own length.
    """
    if type(value) in _ATOMS:
        return
    size = expanded_size(value, what)
    if size > MAX_SEQUENCE_LEN:
        raise ExpressionError(
            f"{what} holds more than {MAX_SEQUENCE_LEN:,} items (a value that appears several times counts "
            "each time), more than the limit",
            code="walked-limit",
            limit_items=MAX_SEQUENCE_LEN,
        )
    _charge(size)


def _g_bounded(value: Any) -> Any:
    """An operand of a comparison, a dict key or set member, a subscript: checked, unchanged."""
    _check_walked(value)
    return value


# --------------------------------------------------------------------------- operator guards


def _int_too_big(operator: str) -> ExpressionError:
    return ExpressionError(
        f"integer result of '{operator}' exceeds the limit of {MAX_INT_BITS} bits",
        code="integer-limit",
        limit=MAX_INT_BITS,
    )


def _g_add(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        return _check_int(a + b, "integer result of '+'")
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _check_len(len(a) + len(b), "result of '+'")
        result: Any = cast(Any, a) + b  # same kind of sequence: Python refuses the rest
        _charge(len(result))
        return result
    return _check_int(a + b, "integer result of '+'")


def _repeat_len(seq: Any, times: int) -> int:
    return len(seq) * max(times, 0)


def _g_mul(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        if a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
            raise _int_too_big("*")
        return _check_int(a * b, "integer result of '*'")
    if isinstance(a, _SEQUENCES) and isinstance(b, int):
        _check_len(_repeat_len(a, b), "result of '*'")
    elif isinstance(b, _SEQUENCES) and isinstance(a, int):
        _check_len(_repeat_len(b, a), "result of '*'")
    else:
        return a * b
    result = a * b
    _charge(len(result))
    return result


def _g_pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        if b > 0 and abs(a) > 1 and (a.bit_length() - 1) * b + 1 > MAX_INT_BITS:
            raise _int_too_big("**")
        return _check_int(a**b, "integer result of '**'")
    return a**b


def _g_lshift(a: Any, b: Any) -> Any:
    ints = isinstance(a, int) and isinstance(b, int)
    if ints and a and b > 0 and a.bit_length() + b > MAX_INT_BITS:
        raise _int_too_big("<<")
    return a << b


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.|$)", re.S)


def _check_width(text: str | None, what: str) -> None:
    if text == "*":
        raise ExpressionError(f"'*' width or precision in {what} is not supported", code="format-star")
    if text and int(text) > MAX_FORMAT_WIDTH:
        # Not the width: a format text can come from case data.
        raise ExpressionError(
            f"a width or precision in {what} exceeds the limit of {MAX_FORMAT_WIDTH:,}",
            code="format-width-limit",
            limit_items=MAX_FORMAT_WIDTH,
        )


def _g_mod(a: Any, b: Any) -> Any:
    if not isinstance(a, str):
        return a % b
    for match in _PERCENT_SPEC.finditer(a):
        _check_width(match.group(1), "a %-format")
        _check_width(match.group(2), "a %-format")
    if isinstance(b, tuple):
        for item in b:
            _check_text_size(item)
    elif isinstance(b, Mapping):
        for item in b.values():
            _check_text_size(item)
    else:
        _check_text_size(b)
    result = a % b
    _charge(len(result))
    return result


def _inplace(guard: Callable[[Any, Any], Any], op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Checked in-place operator: refuse like ``guard`` would, then keep list identity."""

    def run(a: Any, b: Any) -> Any:
        if isinstance(a, list):
            # In place (other references to the list see the change), sized first.
            if isinstance(b, int):  # list *= n
                _check_len(_repeat_len(a, b), "result of '*='")
            elif isinstance(b, _SEQUENCES):
                _check_len(len(a) + len(b), "result of '+='")
            result = op(a, b)
            _charge(len(result))
            return result
        return guard(a, b)

    return run


def _iadd(a: Any, b: Any) -> Any:
    a += b
    return a


def _imul(a: Any, b: Any) -> Any:
    a *= b
    return a


_g_iadd = _inplace(_g_add, _iadd)
_g_imul = _inplace(_g_mul, _imul)


def _g_slice(obj: Any, lower: Any, upper: Any, step: Any) -> Any:
    result = obj[lower:upper:step]
    if isinstance(result, _SEQUENCES):
        _charge(len(result))
    return result


def _g_format(value: Any, conversion: int, spec: str) -> str:
    _check_text_size(value)
    if conversion == 115:  # !s
        value = str(value)
    elif conversion == 114:  # !r
        value = repr(value)
    elif conversion == 97:  # !a
        value = ascii(value)
    if spec:
        if len(spec) > 200:
            raise ExpressionError(
                "format spec longer than 200 characters exceeds the limit", code="format-spec-limit", limit=200
            )
        for digits in re.findall(r"\d+", spec):
            _check_width(digits, "a format spec")
    result = format(value, spec)
    _charge(len(result))
    return result


def _guard_iter(iterable: Any) -> Iterator[Any]:
    budget = _BUDGET.get()
    if budget is None:  # only reachable if a generator outlives its execution
        raise ExpressionError(
            "a generator cannot be used outside the expression that made it", code="generator-outside"
        )
    for item in iterable:
        budget.tick()
        yield item
