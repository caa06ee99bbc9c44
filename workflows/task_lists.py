"""The task lists (the API's ``/tasks/``, the inbox page's tabs), read by statements compiled
once per shape (issue 12; README "Read paths at scale").

A list's rows are exactly those of ``selectors.task_inbox_for(user)`` narrowed by
``TaskFilter``: the same querysets make the statement. Building and compiling them (the
visibility conditions, four joins, the filters, the page's cursor) cost more Python than
everything else in a list request, yet for a given shape the statement's text is always the
same; only the ids, the clock and the cursor change. So the querysets are built once per
shape for a reader made of stand-in ids (``rules.reader_for``) and compiled
(``permissions.prepared``); each request sends that statement with its own values.

The shape: the reader's memberships as ``rules.reader_shape`` describes them (roles, agency
kinds, the visibility's form), the filters asked for with their choices (a case's id and the
clock are values), the order, and the page's (its cursor's keys, its slice).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from permissions import rules
from permissions.prepared import PreparedShapes, ShapedListing
from workflows import selectors
from workflows.filters import TASK_STATUS_ACTIVE, TaskFilter
from workflows.models import Task

# A shape per reader kind, filter set, order and page size or page asked for: a few dozen in
# use; a client asking for every page size in turn only pushes the oldest out.
_STATEMENTS = PreparedShapes(most=512)


class TaskListing(ShapedListing):
    """The tasks ``user`` sees, narrowed by the valid filters of ``filterset`` (a bound
    ``TaskFilter``), in the selector's order or ``descending``; ``fields``: read only these
    (the task's own and, through ``__``, its related rows' fields: what the answer or the page
    shows), instead of every column of the task, its case, the case's person, its agency and
    its assignee. Read a page at a time:
    ``rows[bottom:top]`` and ``count_upto(n)`` (the inbox page), ``read`` (the API's keyset
    pages, ``api.pagination``)."""

    model = Task
    statements = _STATEMENTS

    def __init__(
        self,
        user,
        filterset: TaskFilter,
        *,
        descending: bool = False,
        fields: tuple[str, ...] = (),
    ):
        self.empty = not rules.case_agency_ids(user)
        self.descending = descending
        self._keys_of = user
        if self.empty:
            return
        given = {name: value for name, value in filterset.cleaned_data.items() if value not in (None, "")}
        # A case's tasks are a handful: each checked as it comes, from the case's index, whatever
        # the reader's reach; so the reach is not probed for (a statement less).
        reader, ids = rules.reader_shape(user, widely=True if "case" in given else None)
        filters: list[tuple[str, Any]] = []
        values: list[Any] = list(ids)
        for name in filterset.base_filters:  # in the filter set's order, as ``.qs`` applies them
            if name not in given:
                continue
            value = given[name]
            if isinstance(value, int) and not isinstance(value, bool):  # an id: a value
                filters.append((name, int))
                values.append(value)
            else:  # a choice or a yes/no: part of the statement's text
                filters.append((name, value))
        reads_now = any(name in TaskFilter.READ_NOW for name, _value in filters)
        if reads_now:
            values.append(timezone.now())
        self._own = "assigned" in given  # the user's own or their agency's tasks: their own indexes
        self._shape: tuple = (reader, len(ids), tuple(filters), reads_now, descending, fields)
        self._values = tuple(values)

    # The lists run with PostgreSQL's one plan for any value (``ShapedListing._generic``):
    # an agency's active tasks, and a case's among them, for a reader of one agency, as an
    # API page read from the start. Each was planned on every read, and planning was most of
    # what it cost PostgreSQL (0.4-0.6 of 0.6-0.9 ms: README "Production server"); the one
    # plan walks ``task_agency_active`` (``task_case_active`` for a case) in the list's order
    # for a busy agency and a quiet one alike (``tests/workflows/test_task_list_generic_plan.py``).
    # Not the other lists: "mine" and "overdue" at a million tasks took seconds with it.
    _GENERIC_FILTERS = (
        frozenset({("assigned", "agency"), ("status", TASK_STATUS_ACTIVE)}),
        frozenset({("assigned", "agency"), ("status", TASK_STATUS_ACTIVE), ("case", int)}),
    )

    def _generic(self, shape) -> bool:
        if self.empty or self.descending or not isinstance(shape, tuple) or shape[:1] != ("page",):
            return False
        _page, _keys, nulls, segment, _wanted = shape
        reader_shape, _id_count, filters, reads_now, _descending, _fields = self._shape
        memberships, _widely = reader_shape
        return (
            nulls is None  # the first page: no cursor's condition
            and segment == 0
            and not reads_now
            and len({agency for agency, _role, _group, _kind in memberships}) == 1
            and frozenset(filters) in self._GENERIC_FILTERS
        )

    def in_order(self) -> QuerySet:
        """A queryset in the list's order (for its keys; never read)."""
        return selectors.task_list_keys(self._keys_of, descending=self.descending, own=self._own)

    def _queryset(self, standins) -> QuerySet:
        reader_shape, id_count, filters, reads_now, descending, fields = self._shape
        reader = rules.reader_for(reader_shape, standins[:id_count])
        own = any(name == "assigned" for name, _value in filters)
        own_agencies = ("assigned", "agency") in filters
        queryset = selectors.task_inbox_for(reader, descending=descending, own=own, own_agencies=own_agencies)
        queryset = self._filtered(TaskFilter, queryset, reader, standins, id_count, filters, reads_now)
        return shown_only(queryset, fields) if fields else queryset


def shown_only(queryset: QuerySet, fields: tuple[str, ...]) -> QuerySet:
    """``queryset`` reading only ``fields`` and joining only the related rows they name. Read
    whole, each row joined the case's person for the API, which shows none of it (at a million
    tasks a fifth of the overdue page's buffers, and a relation more for the planner: 2.4 ms of
    planning, 1.7 without it), decoded each case's form data and sources from JSON, and sent
    the assignee's password hash and the agency's webhook secret over. The rules' joins (a
    condition on the case's coordinator) stay: they are the filter's, not the row's."""
    relations = sorted({name.rsplit("__", 1)[0] for name in fields if "__" in name})
    return queryset.select_related(None).select_related(*relations).only(*fields)


# What the API's task answer shows (``api.serializers.TaskSerializer``): read nothing else.
TASK_ANSWER_FIELDS = (
    "name",
    "element_id",
    "lane",
    "status",
    "form",
    "due_at",
    "created_at",
    "claimed_at",
    "completed_at",
    "agency__name",
    "agency__kind",
    "case__reference",
    "assignee__username",
)
