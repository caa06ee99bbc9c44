"""Restricted evaluation of BPMN conditions and scripts for SpiffWorkflow.

SpiffWorkflow's default ``TaskDataEnvironment`` runs every gateway condition, timer
expression, message correlation and script task with plain ``eval``/``exec`` and the
real builtins. This module replaces it with a small sandbox:

1. the source is parsed with :mod:`ast` and checked against a whitelist of node types,
   names, called functions and attribute names (``validate_expression``);
2. the tree is rewritten so that every operation that can grow memory or run long
   (``*``, ``**``, ``<<``, ``+``, ``%``, slices, f-strings, method calls, loops and
   comprehensions) goes through a guard that checks the size of the result *before*
   computing it, and charges an iteration, allocation and wall-clock budget;
3. the rewritten tree is compiled once (bounded LRU cache per ``(source, mode)``) and
   run with empty ``__builtins__`` and a fixed dictionary of safe functions.

The plug point is the *environment*, not the engine, because message correlation and
ad-hoc subprocess conditions call ``script_engine.environment.evaluate`` directly.

Modules: ``validate`` (the AST whitelist), ``rewrite`` (the guard rewrite), ``guards``
and ``methods`` (run-time checks), ``functions`` (safe functions), ``compiler``
(parse, check, rewrite, cached compile), ``environment`` (the SpiffWorkflow plug),
``limits`` and ``exceptions``.

Plain Python: this package must never import Django.
"""

from .compiler import validate_expression
from .environment import SCRIPT_ENGINE, RestrictedEnvironment, RestrictedScriptEngine
from .exceptions import ExpressionNameError, ExpressionSyntaxError, expression_error_of
from .functions import SAFE_FUNCTION_NAMES
from .functions import now as now
from .functions import parse_date as parse_date
from .functions import parse_datetime as parse_datetime
from .functions import today as today
from .guards import step_time_limit
from .limits import CACHE_SIZE as CACHE_SIZE
from .limits import (
    MAX_ALLOCATED_ITEMS,
    MAX_INT_BITS,
    MAX_ITERATIONS,
    MAX_SEQUENCE_LEN,
    STEP_TIME_LIMIT_SECONDS,
    TIME_LIMIT_SECONDS,
    TIMEZONE,
)
from .limits import MAX_FORMAT_WIDTH as MAX_FORMAT_WIDTH
from .limits import MAX_ROUND_DIGITS as MAX_ROUND_DIGITS
from .limits import MAX_SOURCE_CHARS as MAX_SOURCE_CHARS
from .limits import MAX_TEXT_ITEMS as MAX_TEXT_ITEMS
from .methods import ALLOWED_ATTRIBUTES, ALLOWED_METHODS
from .methods import DATA_ATTRIBUTES as DATA_ATTRIBUTES

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_METHODS",
    "MAX_ALLOCATED_ITEMS",
    "MAX_INT_BITS",
    "MAX_ITERATIONS",
    "MAX_SEQUENCE_LEN",
    "SAFE_FUNCTION_NAMES",
    "SCRIPT_ENGINE",
    "STEP_TIME_LIMIT_SECONDS",
    "TIMEZONE",
    "TIME_LIMIT_SECONDS",
    "ExpressionNameError",
    "ExpressionSyntaxError",
    "RestrictedEnvironment",
    "RestrictedScriptEngine",
    "expression_error_of",
    "step_time_limit",
    "validate_expression",
]
