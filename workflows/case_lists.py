"""The case lists (the API's ``/cases/``), read by statements compiled once per shape (issue
12; README "Read paths at scale"), as ``workflows.task_lists`` reads the task lists.

A list's rows are exactly those of ``selectors.cases_for(user)`` narrowed by ``CaseFilter``:
the same querysets make the statement, built once per shape for a reader made of stand-in
ids (``rules.reader_for``) and compiled (``permissions.prepared``); each request sends it
with its own ids, filter values, clock and cursor. Building and compiling them cost about
4.5 ms of Python a request.

The shape: the reader's memberships (``rules.reader_shape``), the filters asked for with
their choices (an agency's or a contact's id, a process key and the clock are values), and
the page's (its cursor's keys, its slice). A search (``q``) shapes the statement by the
conditions it asks for (``filters.search_terms``: the name and reference, by the start of a
word when short, a date of birth's two prefixes), whose patterns are values.

A reader with one case agency reads the list from that agency's participations
(``rules.listed_cases``); a later page's cursor bounds that walk too (``narrow_page``), so it
starts at the cursor in ``participant_agency_case`` instead of walking down to it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from permissions import rules
from permissions.prepared import PreparedShapes, ShapedListing
from workflows import selectors
from workflows.filters import CaseFilter, search_terms
from workflows.models import Case
from workflows.task_lists import shown_only

# What the API's case answer shows (``api.serializers.CaseSummarySerializer``, beside the
# list's own figures): read nothing else, so no person is joined, no case data decoded and no
# password hash of the responsible contact sent over (``task_lists.shown_only``).
CASE_ANSWER_FIELDS = (
    "reference",
    "process_key",
    "status",
    "opened_at",
    "closed_at",
    "coordinator_agency__name",
    "coordinator_agency__kind",
    "responsible__username",
    "responsible__first_name",
    "responsible__last_name",
)

# A shape per reader kind, filter set and page size or page asked for: a few dozen in use; a
# client asking for every page size in turn only pushes the oldest out.
_STATEMENTS = PreparedShapes(most=512)


class CaseListing(ShapedListing):
    """The cases ``user`` sees, narrowed by the valid filters of ``filterset`` (a bound
    ``CaseFilter``), in ``selectors.CASE_LIST_ORDER``; ``fields``: read only these (the
    case's own and, through ``__``, its related rows'). Read a page at a time: ``read`` (the
    API's keyset pages, ``api.pagination.read_listing_after``), ``rows[bottom:top]`` and
    ``count_upto(n)``."""

    model = Case
    statements = _STATEMENTS

    def __init__(self, user, filterset: CaseFilter, *, fields: tuple[str, ...] = ()):
        self.empty = not rules.case_agency_ids(user)
        if self.empty:
            return
        self.walks = rules.walks_participations(user)
        given = {name: value for name, value in filterset.cleaned_data.items() if value not in (None, "")}
        reader, ids = rules.reader_shape(user, reach=not self.walks)
        filters: list[tuple[str, Any]] = []
        values: list[Any] = list(ids)
        for name in filterset.base_filters:  # in the filter set's order, as ``.qs`` applies them
            if name not in given:
                continue
            value = given[name]
            if name == "q":  # its conditions the statement's text, their patterns values
                if (terms := search_terms(value)) is None:
                    continue
                shape, patterns = terms
                filters.append((name, shape))
                values.extend(patterns)
            elif isinstance(value, bool) or name == "status":  # a choice or a yes/no: the statement's text
                filters.append((name, value))
            else:  # an id or a process key: a value
                filters.append((name, type(value)))
                values.append(value)
        reads_now = any(name in CaseFilter.READ_NOW for name, _value in filters)
        if reads_now:
            values.append(timezone.now())
        # A search reads its cases from the search index, each checked per case found: no walk
        # of the participations to bound (``rules.listed_cases``).
        self.walks = self.walks and not _searches(filters)
        self._shape: tuple = (reader, len(ids), tuple(filters), reads_now, fields)
        self._values = tuple(values)

    def in_order(self) -> QuerySet:
        """A queryset in the list's order (for its keys; never read)."""
        return Case.objects.order_by(*selectors.CASE_LIST_ORDER)

    def narrow_page(self, queryset: QuerySet, keys, values) -> QuerySet:
        """``queryset`` bounded by a page's cursor (``values`` after ``keys``) where the cursor's
        own condition cannot reach: the walk of the reader's participations (its case id is the
        case's, but PostgreSQL carries only equalities from one side of a join to the other)."""
        if values is None or not self.walks:
            return queryset
        (key,) = keys  # the order is the case's id alone
        return queryset.filter(**{f"{rules.WALK_CASE}__{'lt' if key.descending else 'gt'}": values[0]})

    def _queryset(self, standins) -> QuerySet:
        reader_shape, id_count, filters, reads_now, fields = self._shape
        reader = rules.reader_for(reader_shape, standins[:id_count])
        queryset = selectors.cases_for(reader, walk=not _searches(filters))
        queryset = self._filtered(CaseFilter, queryset, reader, standins, id_count, filters, reads_now)
        return shown_only(queryset, fields) if fields else queryset

    def _counted(self, queryset: QuerySet) -> QuerySet:
        # The keys only: a case's per-row figures would otherwise be computed for every row counted.
        return queryset.values("pk")


def _searches(filters) -> bool:
    return any(name == "q" for name, _value in filters)
