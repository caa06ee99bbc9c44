"""``workflows.filters.FilterSet``: the valid values of a list's filters are cleaned without
copying the filter set's filters or the form's fields (about 2,000 function calls of every
API inbox read), and are exactly what django-filter's form makes of the same data; a value
that is not valid still goes through the form, which names it."""

import copy
from unittest import mock

import pytest
from django.http import QueryDict

from workflows.filters import CaseFilter, IncidentFilter, TaskFilter
from workflows.models import Case, Incident, Task

QUERIES = [
    "",
    "assigned=agency&status=active",
    "assigned=me&status=active&case=12",
    "assigned=agency&status=active&case=7&overdue=true",
    "overdue=false&status=open",
    "overdue=yes&responsible=me",
    "status=&assigned=&case=",
    "assigned=agency&assigned=me",  # the last of a repeated parameter, as the form reads it
    "unknown=1&status=completed",
    "resolved=true",
    "resolved=0",
    "q=Li&status=open&agency=3&process_key=prison_release&responsible=4",
    "q=17.09.1920",
    # not valid: the form names the parameter
    "assigned=everyone",
    "status=lost",
    "case=0",
    "case=x",
    "overdue=maybe",
    "agency=-1",
    "resolved=sometimes",
    "process_key=" + "k" * 201,
]
FILTER_SETS = [(TaskFilter, Task), (CaseFilter, Case), (IncidentFilter, Incident)]


def _as_form_cleans(filterset_class, model, data, prefix=None):
    """django-filter's own way: the form built (its fields copied) and cleaned."""
    filterset = filterset_class(data, queryset=model.objects.none(), prefix=prefix)
    form = filterset.form
    valid = form.is_valid()
    return valid, (form.cleaned_data if valid else form.errors.get_json_data())


@pytest.mark.parametrize(("filterset_class", "model"), FILTER_SETS)
@pytest.mark.parametrize("query", QUERIES)
def test_values_are_the_forms(filterset_class, model, query):
    for data in (QueryDict(query), dict(QueryDict(query).items())):
        filterset = filterset_class(data, queryset=model.objects.none())
        valid = filterset.is_valid()
        expected_valid, expected = _as_form_cleans(filterset_class, model, data)
        assert valid == expected_valid
        if valid:
            assert filterset.cleaned_data == expected
            assert filterset.form.cleaned_data == expected  # the form, asked for afterwards, agrees
        else:
            assert filterset.errors.get_json_data() == expected


@pytest.mark.parametrize("query", ["f-assigned=me&f-status=active&assigned=nonsense", "f-case=x"])
def test_a_prefix_is_read_as_the_form_reads_it(query):
    filterset = TaskFilter(QueryDict(query), queryset=Task.objects.none(), prefix="f")
    expected_valid, expected = _as_form_cleans(TaskFilter, Task, QueryDict(query), prefix="f")
    assert filterset.is_valid() == expected_valid
    assert (filterset.cleaned_data if expected_valid else filterset.errors.get_json_data()) == expected


def test_unbound_is_not_valid():
    assert not TaskFilter(queryset=Task.objects.none()).is_valid()


def test_valid_values_copy_no_filter_and_no_field():
    TaskFilter(QueryDict(""), queryset=Task.objects.none()).is_valid()  # the form class, made once
    with mock.patch.object(copy, "deepcopy", wraps=copy.deepcopy) as deepcopy:
        filterset = TaskFilter(QueryDict("assigned=agency&status=active"), queryset=Task.objects.none())
        assert filterset.is_valid()
        assert filterset.cleaned_data["status"] == "active"
    assert deepcopy.call_count == 0
    # The filters (a filter's own method, ``.qs``) are the filter set's own copies, made on first use.
    assert filterset.filters["status"] is not TaskFilter.base_filters["status"]
    assert filterset.filters["status"].parent is filterset
    assert filterset.filters["status"].model is Task


def test_the_fields_are_not_changed_by_cleaning():
    form_class = TaskFilter(QueryDict(""), queryset=Task.objects.none()).get_form_class()
    before = {name: copy.deepcopy(vars(field)) for name, field in form_class.base_fields.items()}
    for query in QUERIES:
        TaskFilter(QueryDict(query), queryset=Task.objects.none()).is_valid()
    after = {name: vars(field) for name, field in form_class.base_fields.items()}
    assert {name: sorted(attributes) for name, attributes in after.items()} == {
        name: sorted(attributes) for name, attributes in before.items()
    }
    for name, attributes in after.items():
        for key, value in attributes.items():
            if key not in {"widget", "validators"}:  # objects without equality of their own
                assert value == before[name][key], (name, key)


def test_qs_after_valid_values_filters_as_before():
    filterset = IncidentFilter(QueryDict("resolved=false"), queryset=Incident.objects.all())
    assert filterset.is_valid()
    expected = IncidentFilter(QueryDict("resolved=false"), queryset=Incident.objects.all())
    expected.form.is_valid()
    assert str(filterset.qs.query) == str(expected.filter_queryset(Incident.objects.all()).query)
