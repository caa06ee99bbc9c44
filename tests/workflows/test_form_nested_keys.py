"""Only the form's own properties may be written, inside an object field too.

A field whose object the form closes (``"additionalProperties": false``) took any other key:
the check skipped every ``additionalProperties`` error, the nested ones with the top level's
(which are reported as unknown fields). A writer could put under a housing field's object a
key of their choosing, carried with the housing category to everyone who sees housing data.
No database."""

from jsonschema import Draft202012Validator

from workflows.forms import form_errors

SCHEMA = {
    "type": "object",
    "properties": {
        "address": {
            "type": "object",
            "properties": {"street": {"type": "string"}},
            "additionalProperties": False,
            "x-category": "housing",
        }
    },
    "additionalProperties": False,
}


def errors(data):
    return form_errors(SCHEMA, Draft202012Validator(SCHEMA), data)


def test_a_key_the_fields_object_does_not_have_is_refused_naming_the_field():
    found = errors({"address": {"street": "Storgata 1", "diagnosis": "F20.0"}})
    assert [error["field"] for error in found] == ["address"]
    assert "F20.0" not in str(found)


def test_the_fields_own_keys_pass_and_an_unknown_field_is_reported_once():
    assert errors({"address": {"street": "Storgata 1"}}) == []
    assert [error["field"] for error in errors({"other": 1})] == ["other"]
