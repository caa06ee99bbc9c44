"""An object of any values (``api.serializers.DictField`` without a ``child``) reads and
writes exactly as DRF's ``DictField`` does, without a field call for each value: a
completion's form data in, an opened task's category values out."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from api import serializers as s

SAMPLES = [
    {},
    {"name": "Kari", "count": 3, "ok": True, "none": None, "list": [1, "a", None], "nested": {"a": {"b": 1.5}}},
    {1: "one", 2.5: None},  # keys made text, as DRF does
]


@pytest.mark.parametrize("value", SAMPLES)
def test_the_same_as_drf_both_ways(value):
    ours, drf = s.DictField(), serializers.DictField()
    assert ours.to_representation(value) == drf.to_representation(value)
    assert ours.run_validation(value) == drf.run_validation(value)


def test_not_an_object_refused_as_drf_does():
    for bad in ([1, 2], "text", 7):
        with pytest.raises(serializers.ValidationError) as ours:
            s.DictField().run_validation(bad)
        with pytest.raises(serializers.ValidationError) as drf:
            serializers.DictField().run_validation(bad)
        assert ours.value.detail == drf.value.detail


def test_a_child_still_validates_each_value():
    field = s.DictField(child=serializers.IntegerField(min_value=1))
    assert field.run_validation({"nav": "3"}) == {"nav": 3}
    with pytest.raises(serializers.ValidationError):
        field.run_validation({"nav": 0})


def test_no_field_call_per_value(monkeypatch):
    """The completion's input reads its form data without running the child for each value."""
    calls = []
    child_type = type(serializers.DictField.child)
    original = child_type.run_validation

    def counted(self, data=serializers.empty):
        calls.append(data)
        return original(self, data)

    monkeypatch.setattr(child_type, "run_validation", counted)
    data = {f"field_{n}": n for n in range(20)}
    answer = s.CompleteInput(data={"data": data})
    assert answer.is_valid(), answer.errors
    assert answer.validated_data["data"] == data
    assert calls == []


def test_the_input_serializers_use_it():
    assert isinstance(s.CompleteInput().fields["data"], s.DictField)
    assert isinstance(s.CategoryViewSerializer().fields["values"], s.DictField)


def test_the_schema_calls_them_objects():
    """The schema describes such a field as DRF's (an object), never as another field's type:
    a decorator once slid onto ``DictField`` and the schema called the start data an integer."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    case_input = schema["components"]["schemas"]["CaseInputRequest"]["properties"]
    assert case_input["data"]["type"] == "object" and "x-opaque" not in case_input["data"]
    assert case_input["participants"]["type"] == "object"
    assert case_input["participants"]["additionalProperties"]["type"] == "integer"
