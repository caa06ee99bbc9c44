"""The size of the data a script leaves behind, counted as it will be saved.

The guards charge what an operation allocates, and shared references allocate almost
nothing: ``a = [0]*1000; b = [a]*1000; c = [b]*10`` builds 2,010 items, yet saved as JSON
it is ten million numbers (22 MB of state, each later read of the case seconds long).
So the values a script writes back are measured once more after it ran, every reference
counted each time it occurs, and refused over the bound that holds for everything an
operation may produce (``MAX_SEQUENCE_LEN``). The walk memoizes each container's size by
identity, so it costs what the data takes in memory, not what it expands to.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import ExpressionError
from .limits import MAX_SAVED_DEPTH, MAX_SEQUENCE_LEN

_CONTAINERS = (dict, list, tuple, set, frozenset)
_CONTAINER_TYPES = frozenset(_CONTAINERS)


def _scalar_size(value: Any) -> int:
    if type(value) is str:
        return len(value) or 1
    if type(value) is int:
        return value.bit_length() * 3 // 10 or 1  # about its decimal digits
    return 1


# Sizes stop growing here: enough to tell how far over the limit, never a huge integer.
_CEILING = 10**12


_SMALL = 16


def _small_flat_size(container: Any) -> int | None:
    """The size of a small container of scalars (most rows of data are), without the memo:
    walking it again where it is shared costs at most ``_SMALL`` steps. None: it holds
    containers."""
    total = 1
    for child in (*container.keys(), *container.values()) if type(container) is dict else container:
        kind = type(child)
        if kind is str:
            total += len(child) or 1
        elif kind is int:
            total += child.bit_length() * 3 // 10 or 1
        elif kind in _CONTAINER_TYPES or isinstance(child, _CONTAINERS):
            return None
        else:
            total += 1
    return total


_SAVED = "the data the script leaves"


def _size(node: Any, sizes: dict[int, int], path: set[int], what: str = _SAVED) -> int:
    """Items ``node`` holds when written out. ``sizes`` keeps each finished container by id,
    so a shared one is walked once however often it occurs; ``path`` holds the containers
    being walked (a cycle, and the depth, show there). Recursion is bounded by
    ``MAX_SAVED_DEPTH``; a flat container (the usual case) costs one call."""
    key = id(node)
    known = sizes.get(key)
    if known is not None:
        return known
    if key in path:
        raise ExpressionError(
            f"{what} contains itself" + (", which cannot be saved" if what == _SAVED else ""),
            code="saved-itself" if what == _SAVED else "walked-itself",
        )
    if len(path) >= MAX_SAVED_DEPTH:
        raise ExpressionError(
            f"{what} is nested more than {MAX_SAVED_DEPTH} levels deep, "
            + ("more than can be saved" if what == _SAVED else "more than the limit"),
            code="saved-depth" if what == _SAVED else "walked-depth",
            limit=MAX_SAVED_DEPTH,
        )
    path.add(key)
    total = 1
    for child in (*node.keys(), *node.values()) if type(node) is dict else node:
        kind = type(child)
        if kind is str:
            total += len(child) or 1
        elif kind in _CONTAINER_TYPES or isinstance(child, _CONTAINERS):
            flat = _small_flat_size(child) if len(child) <= _SMALL else None
            total += flat if flat is not None else _size(child, sizes, path, what)
        elif kind is int:
            total += child.bit_length() * 3 // 10 or 1
        else:
            total += 1
    path.discard(key)
    total = min(total, _CEILING)
    sizes[key] = total
    return total


def check_saved_size(values: Iterable[Any], limit: int = MAX_SEQUENCE_LEN) -> None:
    """Raise ``ExpressionError`` when ``values`` hold more than ``limit`` items as saved."""
    sizes: dict[int, int] = {}
    total = 0
    for value in values:
        kind = type(value)
        if kind not in _CONTAINER_TYPES and not isinstance(value, _CONTAINERS):
            total += _scalar_size(value)
        elif len(value) > _SMALL or (flat := _small_flat_size(value)) is None:
            total += _size(value, sizes, set())
        else:
            total += flat
    if total > limit:
        # Not the amount: it is measured from case data (a count typed into a form).
        raise ExpressionError(
            f"the data the script leaves would be more than {limit:,} items when saved (a value that appears "
            "several times counts each time), more than the limit",
            code="saved-limit",
            limit_items=limit,
        )


def expanded_size(value: Any, what: str) -> int:
    """Items ``value`` holds with every reference counted each time it occurs (what a
    comparison, a hash or ``repr`` walks in C), in time proportional to its memory."""
    kind = type(value)
    if kind not in _CONTAINER_TYPES and not isinstance(value, _CONTAINERS):
        return _scalar_size(value)
    if len(value) <= _SMALL and (flat := _small_flat_size(value)) is not None:
        return flat
    return _size(value, {}, set(), what)
