"""The filter sets make their form class once (``workflows.filters.FilterSet``), and each
request still validates its own values: a bad value of one request never sticks to the next."""

import pytest
from django.http import QueryDict

from workflows.filters import CaseFilter, TaskFilter
from workflows.models import Task


def test_one_form_class_per_filter_set_each_form_its_own_values():
    first = TaskFilter(QueryDict("status=nonsense&case=0"), queryset=Task.objects.none())
    second = TaskFilter(QueryDict("status=active&case=7"), queryset=Task.objects.none())
    assert type(first.form) is type(second.form)
    assert type(CaseFilter(QueryDict(""), queryset=None).form) is not type(first.form)
    assert not first.is_valid()
    assert set(first.form.errors) == {"status", "case"}
    assert second.is_valid(), second.form.errors
    assert second.form.cleaned_data["case"] == 7
    assert first.form.fields["case"] is not second.form.fields["case"]  # each form copies the fields


@pytest.mark.django_db
def test_a_bad_filter_value_is_still_refused_by_name_after_good_ones(client_for):
    api = client_for("nils")
    assert api.get("/api/v1/tasks/?status=active").status_code == 200
    answer = api.get("/api/v1/tasks/?status=nonsense")
    assert answer.status_code == 400
    assert "status" in answer.content.decode()
    assert api.get("/api/v1/tasks/?status=open").status_code == 200
