"""A list's choice filters (``assigned``, ``status``, ``responsible``): a valid choice is
checked against the choices once, not on every list read (``valid_value`` normalised every
choice again, some 60 calls a task list; README "Performance", h-perf16). What a read
cleans, and what it refuses, stays the form's."""

from django import forms
from django.http import QueryDict

from workflows.filters import CaseFilter, TaskFilter
from workflows.models import Case, Task


def _read(filterset_class, model, query):
    filterset = filterset_class(QueryDict(query), queryset=model.objects.none())
    valid = filterset.is_valid()
    return valid, (filterset.cleaned_data if valid else filterset.errors.get_json_data())


def _checks(monkeypatch) -> list:
    checked = []
    valid_value = forms.ChoiceField.valid_value

    def counted(self, value):
        checked.append(value)
        return valid_value(self, value)

    monkeypatch.setattr(forms.ChoiceField, "valid_value", counted)
    return checked


def test_a_valid_choice_is_checked_once_then_known(monkeypatch):
    checked = _checks(monkeypatch)
    query = "assigned=agency&status=active&responsible=me"
    first = _read(TaskFilter, Task, query)
    checked.clear()
    for _ in range(3):
        assert _read(TaskFilter, Task, query) == first
    assert checked == []
    cleaned = {"assigned": "agency", "status": "active", "overdue": None, "case": None, "responsible": "me"}
    assert first == (True, cleaned)


def test_a_choice_not_valid_is_refused_every_time_and_never_kept(monkeypatch):
    _read(TaskFilter, Task, "status=active")
    _fixed, known = TaskFilter._fixed_choices(TaskFilter(None).get_form_class())
    size = len(known)
    for attempt in range(50):
        valid, errors = _read(TaskFilter, Task, f"status=lost{attempt}&assigned=agency")
        assert not valid and list(errors) == ["status"]
    valid, errors = _read(TaskFilter, Task, "assigned=everyone")
    assert not valid and list(errors) == ["assigned"]
    assert len(known) == size
    statuses = len(TaskFilter.base_filters["status"].extra["choices"])
    assert sum(1 for name, _value in known if name == "status") <= statuses + 2  # the choices, "" and absent


def test_each_filter_set_keeps_its_own_choices():
    """A case's status and a task's share a name, not their choices."""
    for _ in range(2):
        assert _read(TaskFilter, Task, "status=active")[0] and _read(TaskFilter, Task, "status=claimed")[0]
        assert not _read(CaseFilter, Case, "status=active")[0] and not _read(CaseFilter, Case, "status=claimed")[0]
        assert _read(CaseFilter, Case, "status=open")[0]
