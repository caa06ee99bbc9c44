"""The filters of the case, task and incident lists: one definition for the API and the web.

Each list's queryset comes from a ``workflows.selectors`` function that already holds only
what the user may see; these filters only narrow it. Empty values (``?status=``) filter nothing.

A bad value: the API answers 400 naming the parameter (``DjangoFilterBackend`` raises a DRF
``ValidationError``, which ``api.exceptions`` turns into the error shape); the web pages read
``.qs``, which narrows by the valid values only, so a bad one is ignored.
``TaskFilter``'s ``assigned`` needs the ``request`` (its user).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import CharField, Exists, Lookup, OuterRef, Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django_filters.fields import ChoiceField as FilterChoiceField
from drf_spectacular.utils import extend_schema_field
from rest_framework.fields import BooleanField as DRFBooleanField

from core.national_id import birth_date_prefixes
from permissions import rules
from permissions.models import CaseParticipant
from permissions.prepared import TakesValues
from workflows import selectors
from workflows.models import ACTIVE_TASK_STATUSES, Case, CaseStatus, Incident, Task, TaskStatus, active_claimant

TASK_STATUS_ACTIVE = "active"  # the task filter's status for "open or claimed"
LIST_CLAIMANT = "list_claimant"  # "mine" among active tasks: ``models.active_claimant``

# --- strict filter fields: a value that cannot be read is invalid, never read as "all" ---


class StrictBooleanField(forms.Field):
    """``true``/``false`` (and DRF's other spellings: ``1``, ``yes``, ``on`` ...); anything
    else is refused. django-filter's own boolean widget silently ignores unknown values."""

    widget = forms.TextInput
    default_error_messages = {"invalid": "Must be a valid boolean (true or false)."}

    def to_python(self, value):
        if value in self.empty_values or value in DRFBooleanField.NULL_VALUES:
            return None
        if value in DRFBooleanField.TRUE_VALUES:
            return True
        if value in DRFBooleanField.FALSE_VALUES:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class IdFilter(django_filters.Filter):
    """A positive integer id, documented as such (with its ``help_text``) in the schema."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)
        schema = {"type": "integer", "minimum": 1}
        if kwargs.get("help_text"):
            schema["description"] = kwargs["help_text"]  # an override replaces the filter's own text
        extend_schema_field(schema)(self)


def _active_overdue(now=None) -> Q:
    return Q(status__in=ACTIVE_TASK_STATUSES, due_at__lt=now or timezone.now())


def _active(queryset, now=None, *, overdue: bool = False) -> Q:
    """Active tasks (``overdue``: and past their deadline at ``now``). For a list read from
    the task-reader index (``selectors.task_inbox_for``), from its own columns, which equal
    the task's (kept in the same transaction): PostgreSQL then walks the index of the active
    rows alone and stops after a page. Written on the task's columns as well, it would
    estimate the two conditions as independent (a tenth of a tenth) and sort every active
    row of the agency's instead. Status and deadline narrow the list; they decide no access."""
    if selectors.LIST_ACTIVE not in queryset.query.annotations:
        return _active_overdue(now) if overdue else Q(status__in=ACTIVE_TASK_STATUSES)
    active = Q(**{selectors.LIST_ACTIVE: True})
    return active & Q(**{f"{selectors.LIST_DUE_AT}__lt": now or timezone.now()}) if overdue else active


# --- the lists -----------------------------------------------------------------------------


class FilterSet(django_filters.FilterSet):
    """django-filter's, with its form class made once per filter set class: the library
    builds a new class (and a form field for each filter) for every request, which was
    7 % of an API inbox read. The filters here have no field that depends on the request
    (no querysets, fixed choices), and each form still copies the class's fields for itself
    (Django's forms do), so one class serves every request and thread.

    ``is_valid`` and ``cleaned_data`` (what the lists read) need no copy at all: django-filter
    deep-copies every filter of the class for each filter set and Django's form every field
    for each form (about 2,000 function calls, 40 % of an API inbox read). Here the filters
    are copied when first used (``filters``: ``.qs``, a filter's own method) and valid values
    are cleaned by the form class's own fields, read only (``clean`` changes no field), as
    the form would clean them. A value that is not valid, and ``errors``, ``form`` and
    ``.qs``, go through the form as before (``tests/workflows/test_filter_values.py``)."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # django-filter's ``BaseFilterSet.__init__`` less its copy of the class's filters.
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self._valid_values: dict[str, Any] | None = None

    @cached_property
    def filters(self) -> dict[str, django_filters.Filter]:
        filters = copy.deepcopy(self.base_filters)
        for filter_ in filters.values():  # as django-filter propagates them
            filter_.model = self.queryset.model
            filter_.parent = self
        return filters

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            cls._form_class = form_class  # two threads making it at once make equal ones
        return form_class

    def is_valid(self) -> bool:
        if not self.is_bound:
            return False
        if not hasattr(self, "_form"):
            self._valid_values = self._values_if_valid()
            if self._valid_values is not None:
                return True
        return self.form.is_valid()  # a value not valid: the form names it (``errors``)

    @property
    def form(self):
        form = django_filters.FilterSet.form.fget(self)
        if self._valid_values is not None:
            form.errors  # noqa: B018 (validated already: its ``cleaned_data`` as after ``is_valid``)
        return form

    def filter_queryset(self, queryset):
        return self.narrowed(queryset, self.form.cleaned_data.items())

    def narrowed(self, queryset, values) -> Any:
        """``queryset`` narrowed by each filter's value in ``values`` ((name, value) pairs, in
        the filter set's order): ``.qs`` with the form's values, the lists read by prepared
        statements (``permissions.prepared.ShapedListing``) with theirs."""
        for name, value in values:
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    @property
    def cleaned_data(self) -> dict[str, Any]:
        """The form's ``cleaned_data`` (``is_valid`` called first, as for the form's)."""
        if self._valid_values is not None:
            return self._valid_values
        return self.form.cleaned_data

    def _values_if_valid(self) -> dict[str, Any] | None:
        """What the form's ``cleaned_data`` would hold if every value is valid, else None:
        each field of the form class cleans what its widget reads of the data (Django's
        ``Form._clean_fields``); a form with cleaning of its own is left to the form."""
        form_class = self.get_form_class()
        if form_class.clean is not forms.Form.clean:
            return None
        fixed, known = self._fixed_choices(form_class)
        values = {}
        for name, form_field in form_class.base_fields.items():
            if form_field.disabled or hasattr(form_class, f"clean_{name}"):
                return None
            html_name = f"{self.form_prefix}-{name}" if self.form_prefix else name
            try:
                data = form_field.widget.value_from_datadict(self.data, _NO_FILES, html_name)
                if (name, data) in known:
                    values[name] = known[name, data]
                    continue
                values[name] = form_field.clean(data)
            except ValidationError:
                return None
            if name in fixed and (data is None or type(data) is str):
                known[name, data] = values[name]
        return values

    @classmethod
    def _fixed_choices(cls, form_class) -> tuple[frozenset[str], dict[tuple[str, str | None], Any]]:
        """The fields of fixed choices (django-filter's choice field over a list) and the
        values they cleaned, by their text: a valid choice cleans to the same value each time,
        while ``clean`` walks and normalises every choice again (some 60 calls a task list).
        Only valid values are kept: no more than the choices and the empty value."""
        made = cls.__dict__.get("_known_choices")
        if made is None or made[0] is not form_class:
            fixed = frozenset(
                name
                for name, form_field in form_class.base_fields.items()
                if type(form_field) is FilterChoiceField and isinstance(form_field.choices.choices, list | tuple)
            )
            made = (form_class, fixed, {})
            cls._known_choices = made
        return made[1], made[2]


_NO_FILES: MultiValueDict = MultiValueDict()  # a bound filter form's files (none), read only


# A search shorter than this matches at the start of a word (``search_terms``).
SEARCH_ANYWHERE_FROM = 3
WORD_STARTS_AFTER = (" ", "-")


class Like(Lookup):
    """``field__like=pattern``: SQL's ``LIKE`` with the pattern as given (``%`` and ``_`` its
    wildcards, a backslash their escape), a parameter of its own. Django's ``icontains`` sends
    ``%value%``, a parameter made from the value, which a list compiled once per shape
    (``workflows.case_lists``) cannot take as a stand-in."""

    lookup_name = "like"
    upper = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if self.upper:  # the expression the search indexes hold (workflows 0044)
            lhs, rhs = f"UPPER({lhs})", f"UPPER({rhs})"
        escape = " ESCAPE '\\'" if connection.vendor == "sqlite" else ""  # PostgreSQL's default
        return f"{lhs} LIKE {rhs}{escape}", [*lhs_params, *rhs_params]


class UpperLike(Like):
    """``field__upper_like=pattern``: ``Like`` without regard to case."""

    lookup_name = "upper_like"
    upper = True


CharField.register_lookup(Like)
CharField.register_lookup(UpperLike)


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class SearchShape(TakesValues):
    """The conditions a case search asks for (field path and lookup each), without their
    patterns: the shape of a compiled list's statement; ``taking(patterns)`` makes it whole."""

    columns: tuple[tuple[str, str], ...]
    count: int = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "count", len(self.columns))

    def taking(self, patterns) -> Q:
        match = Q()
        for (path, lookup), pattern in zip(self.columns, patterns, strict=True):
            match |= Q(**{f"{path}__{lookup}": pattern})
        return match


def search_terms(text: str) -> tuple[SearchShape, tuple[str, ...]] | None:
    """A search's conditions and their patterns: part of the name or the reference (one or
    two characters: where a word of either starts, the search index could not find them
    inside one: "Li" finds "Li Hansen" and "Anne-Lise"), or a date of birth. Name and date of
    birth are identity, open to every participant of the cases searched
    (``rules.OPEN_CATEGORIES``); never the whole national id, only its birth-date part, which
    the masked number shows anyway. None for a blank search."""
    value = text.strip()
    if not value:
        return None
    escaped = _like_escaped(value)
    if len(value) < SEARCH_ANYWHERE_FROM:
        terms = [("reference", "upper_like", f"{escaped}%"), ("person_name", "upper_like", f"{escaped}%")]
        terms += [("person_name", "upper_like", f"%{before}{escaped}%") for before in WORD_STARTS_AFTER]
    else:
        terms = [("person_name", "upper_like", f"%{escaped}%"), ("reference", "upper_like", f"%{escaped}%")]
    terms += [("person__national_id", "like", f"{prefix}%") for prefix in birth_date_prefixes(value)]
    return SearchShape(tuple((field, lookup) for field, lookup, _ in terms)), tuple(term[2] for term in terms)


class CaseFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices, help_text="the case's status")
    process_key = django_filters.CharFilter(max_length=200, help_text="the key of the case's process")
    agency = IdFilter(method="filter_agency", help_text="a participating agency's id")
    overdue = StrictBooleanFilter(method="filter_overdue", help_text="has an open task past its due date")
    responsible = IdFilter(field_name="responsible_id", help_text="the responsible housing contact's user id")
    q = django_filters.CharFilter(
        max_length=200,
        method="filter_search",
        help_text="search: part of the person's name or of the case reference (one or two characters: the start "
        "of a word of either), or the person's date of birth (`17.09.1920`, `170920`, `1920-09-17`)",
    )

    class Meta:
        model = Case
        fields = ["status", "process_key", "agency", "overdue", "q", "responsible"]

    # The filters whose condition reads the clock (``now``: a value of a statement compiled
    # once per shape, ``workflows.case_lists``, never a moment frozen into it).
    READ_NOW = frozenset({"overdue"})

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now

    def filter_search(self, queryset, name, value):
        """``value``: the text searched (``search_terms``), or the condition a compiled list
        made of its shape and patterns (``SearchShape.taking``)."""
        if isinstance(value, Q):
            return queryset.filter(value)
        terms = search_terms(value)
        if terms is None:
            return queryset
        shape, patterns = terms
        return queryset.filter(shape.taking(patterns))

    def filter_agency(self, queryset, name, value):
        return queryset.filter(Exists(CaseParticipant.objects.filter(case_id=OuterRef("pk"), agency_id=value)))

    def filter_overdue(self, queryset, name, value):
        # Only the tasks the reader's lists show: a hidden branch's late task tells its path.
        now = self.now or timezone.now()
        overdue_task = rules.has_listed_task(
            self.request.user, Task.objects.filter(_active_overdue(now), case_id=OuterRef("pk"))
        )
        if not value:
            return queryset.exclude(overdue_task)
        # A case with a task past its deadline has its earliest deadline past (the converse
        # need not hold: that task may be one the reader is not shown): the index condition
        # that leaves out every case with nothing overdue, before its tasks are looked at.
        return queryset.filter(next_due_at__lt=now).filter(overdue_task)


class TaskFilter(FilterSet):
    assigned = django_filters.ChoiceFilter(
        choices=[("me", "me"), ("agency", "agency")],
        method="filter_assigned",
        help_text="`me`: claimed or completed by you; `agency`: landed on one of your agencies",
    )
    status = django_filters.ChoiceFilter(
        choices=[*TaskStatus.choices, (TASK_STATUS_ACTIVE, "Open or claimed")],
        method="filter_status",
        help_text="a task status, or `active` (open or claimed)",
    )
    overdue = StrictBooleanFilter(method="filter_overdue", help_text="active and past its due date")
    case = IdFilter(field_name="case_id", help_text="a case's id")
    responsible = django_filters.ChoiceFilter(
        choices=[("me", "me")],
        method="filter_responsible",
        help_text="`me`: tasks of the cases you are the responsible housing contact for",
    )

    class Meta:
        model = Task
        fields = ["assigned", "status", "overdue", "case", "responsible"]

    # The filters whose condition reads the clock (``now``: a value of a statement compiled
    # once per shape, ``workflows.task_lists``, never a moment frozen into it).
    READ_NOW = frozenset({"overdue"})

    # The statuses of active tasks, as the status filter names them: "mine" among these is the
    # claimant's alone (``filter_assigned``).
    ACTIVE_CHOICES = frozenset({TASK_STATUS_ACTIVE, *ACTIVE_TASK_STATUSES})

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now
        self._values: dict[str, Any] = {}

    def narrowed(self, queryset, values) -> Any:
        values = list(values)
        self._values = dict(values)  # what the other filters ask, for ``filter_assigned``
        return super().narrowed(queryset, values)

    def _active_only(self) -> bool:
        """Whether the other filters asked for active tasks only (a status of an active task,
        or past its deadline)."""
        return self._values.get("status") in self.ACTIVE_CHOICES or self._values.get("overdue") is True

    def filter_responsible(self, queryset, name, value):
        return queryset.filter(case__responsible_id=self.request.user.pk)

    def filter_assigned(self, queryset, name, value):
        user = self.request.user
        if value == "me":
            if self._active_only():
                # An active task has no completer (the check ``task_active_has_no_completer``):
                # among active tasks, "claimed or completed by me" is claimed by me, which the
                # claimants' index holds in the list's order (``task_claimant_active``), so a
                # page is read from it and stops there, however many tasks the user holds. The
                # OR over two indexes made PostgreSQL read all of them and sort, or walk every
                # active task of the table for theirs.
                return queryset.alias(**{LIST_CLAIMANT: active_claimant()}).filter(**{LIST_CLAIMANT: user.pk})
            return queryset.filter(Q(assignee_id=user.pk) | Q(completed_by_id=user.pk))
        return queryset.filter(agency_id__in=rules.case_agency_ids(user))

    def filter_status(self, queryset, name, value):
        if value == TASK_STATUS_ACTIVE and LIST_CLAIMANT in queryset.query.annotations:
            # The user's own active tasks (``filter_assigned``): the claimant is only an
            # active task's. Said again, PostgreSQL would count it as a second, independent
            # condition and expect a tenth of the desk (then read all of it and sort).
            return queryset
        if value == TASK_STATUS_ACTIVE:
            return queryset.filter(_active(queryset))
        return queryset.filter(status=value)

    def filter_overdue(self, queryset, name, value):
        if value:
            return queryset.filter(_active(queryset, self.now, overdue=True))
        return queryset.exclude(_active_overdue(self.now))


class IncidentFilter(FilterSet):
    resolved = StrictBooleanFilter(method="filter_resolved", help_text="resolved (true) or still open (false)")

    class Meta:
        model = Incident
        fields = ["resolved"]

    def filter_resolved(self, queryset, name, value):
        return queryset.filter(resolved_at__isnull=not value)
