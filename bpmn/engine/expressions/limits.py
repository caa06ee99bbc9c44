"""Limits and fixed settings of the expression sandbox.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Europe/Oslo")
MAX_SOURCE_CHARS = 100_000  # longest expression or script accepted
MAX_INT_BITS = 4096  # largest integer an operation may produce
MAX_SEQUENCE_LEN = 1_000_000  # longest str/list/tuple an operation may produce
MAX_TEXT_ITEMS = 100_000  # largest container str()/f-string/% may turn into text
MAX_FORMAT_WIDTH = 10_000  # largest width/precision in a format spec or %-format
MAX_ROUND_DIGITS = 1_000
MAX_ITERATIONS = 100_000  # loop and comprehension iterations per execution, in total
MAX_ALLOCATED_ITEMS = 10_000_000  # items created by guarded operations per execution
MAX_SAVED_DEPTH = 100  # nesting of the data a script leaves (JSON encoding recurses)
TIME_LIMIT_SECONDS = 0.5  # wall clock per execution, checked in loops and guards
# The thread's CPU time for one engine step, its every execution together (one request,
# one job; CPU, so that a step kept waiting on a loaded machine is not failed): a
# parallel multi-instance script runs up to 500 times, each within TIME_LIMIT_SECONDS.
STEP_TIME_LIMIT_SECONDS = 2.0
CACHE_SIZE = 2048  # compiled (source, mode) entries kept
