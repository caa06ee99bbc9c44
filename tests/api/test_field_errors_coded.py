"""Every 400 names the field and carries a code for each error, in the language the client
asks for (bokmål with ``Accept-Language: nb``), never a value sent. DRF's own field errors
had no code ("Dette feltet er påkrevd." beside our "field.unknown_allowed"), were English or
DRF's clumsy bokmål ("Sikre denne verdien er større enn eller lik 1."), and some repeated the
value ('"bogus" er ikke et gyldig valg.'); the fetch's topics limit, the list's page size and
cursor, a body that is not JSON and a refused sign-in had no code either."""

import pytest
from rest_framework import serializers

from api.field_errors import recode
from api.serializers import InputSerializer
from core.messages import MESSAGES
from tests.english import english_in

from .test_external_tasks import FETCH, TOPIC

pytestmark = pytest.mark.django_db

SECRET = "Ola-hemmelig-verdi"  # a value that must never come back in a text
CASES = "/api/v1/cases/"
PERSON = {"name": "Ola Nordmann", "national_id": "17912099997"}


def _errors(answer, status=400) -> dict[str, dict]:
    assert answer.status_code == status, answer.content
    body = answer.json()
    assert SECRET not in answer.content.decode()
    for error in body["errors"]:
        assert error["code"] in MESSAGES, error
    return {error["field"]: error for error in body["errors"]}


def _case(client, language, **changes):
    body = {"process_key": "prison_release_to_housing", "person": PERSON, "participants": {"prison": 1}} | changes
    return client.post(CASES, body, format="json", HTTP_ACCEPT_LANGUAGE=language)


@pytest.mark.parametrize(
    ("changes", "field", "code", "english", "bokmal"),
    [
        ({"process_key": None}, "process_key", "field.null", "this field may not be null", None),
        ({"process_key": ""}, "process_key", "field.blank", "this field may not be empty", "feltet kan ikke være tomt"),
        ({"process_key": SECRET * 20}, "process_key", "field.too_long", "at most 200 characters", "høyst 200 tegn"),
        ({"process_key": ["x"]}, "process_key", "field.expected_text", "expected text", "forventet tekst"),
        ({"person": SECRET}, "person", "field.expected_object", "expected an object", "forventet et objekt"),
        ({"person": {"name": SECRET}}, "person.national_id", "field.required", "this field is required", None),
        ({"participants": {"prison": SECRET}}, "participants.prison", "field.expected_integer", None, None),
        ({"participants": {"prison": 0}}, "participants.prison", "field.min_value", "must be at least 1", None),
        ({"participants": [SECRET]}, "participants", "field.expected_object", None, None),
        ({"responsible": True}, "responsible", "field.expected_integer", "expected a whole number", None),
    ],
)
def test_each_kind_of_field_error_has_its_code_and_our_words(client_for, changes, field, code, english, bokmal):
    client = client_for("kari")
    in_english = _errors(_case(client, "en", **changes))[field]
    assert in_english["code"] == code
    assert in_english["message"] == (english or MESSAGES[code] % {"limit": 1})
    in_bokmal = _errors(_case(client, "nb", **changes))[field]
    assert in_bokmal["code"] == code
    assert in_bokmal["message"] != in_english["message"] and english_in(in_bokmal["message"]) == []
    if bokmal:
        assert in_bokmal["message"] == bokmal


def test_a_missing_field_is_required_in_english_by_default_and_in_bokmal_on_request(client_for):
    client = client_for("kari")
    english = client.post(CASES, {"person": PERSON, "participants": {}}, format="json")
    assert _errors(english)["process_key"] == {
        "field": "process_key",
        "code": "field.required",
        "message": "this field is required",
    }
    assert english.json()["detail"] == "process_key: this field is required"
    bokmal = client.post(CASES, {"person": PERSON, "participants": {}}, format="json", HTTP_ACCEPT_LANGUAGE="nb")
    assert _errors(bokmal)["process_key"]["message"] == "feltet må fylles ut"


def test_a_choice_not_allowed_is_coded_and_not_repeated(client_for, prison_case):
    body = {"agency": 2, "categories": [SECRET], "purpose": "x", "legal_basis": 1}
    url = f"/api/v1/cases/{prison_case.pk}/consents/"
    errors = _errors(client_for("bjorn").post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="nb"))
    assert errors["categories.0"]["code"] == "field.invalid_choice"
    assert errors["categories.0"]["message"] == "ikke et av de tillatte valgene"
    # A list that must not be empty, and a time that cannot be read.
    body = {"agency": 2, "categories": [], "purpose": "x", "legal_basis": 1, "expires_at": SECRET}
    errors = _errors(client_for("bjorn").post(url, body, format="json"))
    assert (errors["categories"]["code"], errors["categories"]["message"]) == (
        "field.too_few_items",
        "too few items: at least 1",
    )
    assert errors["expires_at"]["code"] == "field.expected_datetime"


def test_nested_list_errors_name_the_item_and_carry_codes(client_for):
    client = client_for("nils")
    body = {"workerId": "w1", "maxTasks": 500, "topics": [TOPIC, {"topicName": "t"}, SECRET]}
    errors = _errors(client.post(FETCH, body, format="json", HTTP_ACCEPT_LANGUAGE="nb"))
    assert {name: error["code"] for name, error in errors.items()} == {
        "maxTasks": "field.max_value",
        "topics.1.lockDuration": "field.required",
        "topics.2": "field.expected_object",
    }
    assert errors["maxTasks"]["message"] == "må være høyst 100"
    errors = _errors(client.post(FETCH, {"workerId": "w1", "topics": SECRET}, format="json"))
    assert errors["topics"]["code"] == "field.expected_list"


def test_the_fetch_topics_limit_has_a_code(client_for):
    topics = [{"topicName": f"topic-{index}", "lockDuration": 60000} for index in range(51)]
    body = {"workerId": "w1", "topics": topics}
    errors = _errors(client_for("nils").post(FETCH, body, format="json", HTTP_ACCEPT_LANGUAGE="nb"))
    assert errors["topics"] == {
        "field": "topics",
        "code": "external_task.too_many_topics",
        "message": "oppgi høyst 50 emner i én henting",
    }


def test_a_list_filter_page_size_and_cursor_are_coded(client_for):
    client = client_for("kari")
    errors = _errors(client.get(f"/api/v1/tasks/?status={SECRET}", HTTP_ACCEPT_LANGUAGE="nb"))
    assert errors["status"]["code"] == "field.invalid_choice"
    assert english_in(errors["status"]["message"]) == []
    errors = _errors(client.get(f"{CASES}?page_size=0"))
    assert errors["page_size"]["code"] == "query.invalid_page_size"
    errors = _errors(client.get(f"{CASES}?cursor={SECRET}", HTTP_ACCEPT_LANGUAGE="nb"))
    assert errors["cursor"]["code"] == "query.invalid_cursor"
    assert errors["cursor"]["message"].startswith("markøren er ugyldig")


def test_a_body_that_is_not_json_is_coded_without_its_bytes(client_for):
    client = client_for("kari")
    answer = client.post(CASES, '{"process_key": "' + SECRET, content_type="application/json")
    errors = _errors(answer)
    assert errors["body"]["code"] == "body.not_json"
    assert answer.json()["code"] == "body.not_json"
    answer = client.post(CASES, b"\xff\xfe" + SECRET.encode(), content_type="application/json")
    assert _errors(answer)["body"]["code"] == "body.bad_encoding"
    assert "0xff" not in answer.json()["detail"]


def test_a_refused_sign_in_is_coded(client_for, users):
    answer = client_for(None).post(
        "/api/v1/auth/token/", {"username": "kari", "password": SECRET}, format="json", HTTP_ACCEPT_LANGUAGE="nb"
    )
    assert _errors(answer)["body"] == {
        "field": "body",
        "code": "sign_in.refused",
        "message": "kan ikke logge inn med dette brukernavnet og passordet",
    }


def test_a_body_too_large_is_413_with_a_code(client_for, settings):
    settings.API_MAX_BODY_BYTES = 100
    answer = client_for("kari").post(CASES, {"process_key": SECRET * 10}, format="json")
    errors = _errors(answer, status=413)
    assert errors["body"] == {"field": "body", "code": "body.too_large", "message": answer.json()["detail"]}
    assert answer.json()["code"] == "body.too_large"


# --- every key DRF's fields raise, recoded beside its field -----------------------------


class Row(InputSerializer):
    name = serializers.CharField()


class Every(InputSerializer):
    text = serializers.CharField(max_length=3, min_length=2, required=False)
    pattern = serializers.RegexField(r"^[0-9]+$", required=False)
    number = serializers.IntegerField(max_value=9, min_value=1, required=False)
    decimal = serializers.DecimalField(max_digits=3, decimal_places=1, required=False)
    flag = serializers.BooleanField(required=False)
    moment = serializers.DateTimeField(required=False)
    day = serializers.DateField(required=False)
    uuid = serializers.UUIDField(required=False)
    choice = serializers.ChoiceField(choices=["a"], required=False)
    items = serializers.ListField(child=serializers.IntegerField(), max_length=1, required=False, allow_empty=False)
    mapping = serializers.DictField(child=serializers.IntegerField(), required=False, allow_empty=False)
    blob = serializers.JSONField(required=False, binary=True)
    rows = Row(many=True, required=False, max_length=1, allow_empty=False)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"text": SECRET}, "field.too_long"),
        ({"text": "a"}, "field.too_short"),
        ({"pattern": SECRET}, "field.pattern"),
        ({"number": SECRET}, "field.expected_integer"),
        ({"number": 10}, "field.max_value"),
        ({"decimal": SECRET}, "field.expected_number"),
        ({"decimal": "123.4"}, "field.invalid"),
        ({"flag": SECRET}, "field.expected_boolean"),
        ({"moment": SECRET}, "field.expected_datetime"),
        ({"day": SECRET}, "field.expected_date"),
        ({"uuid": SECRET}, "field.expected_uuid"),
        ({"choice": SECRET}, "field.invalid_choice"),
        ({"items": [1, 2]}, "field.too_many_items"),
        ({"items": []}, "field.empty_list"),
        ({"items": SECRET}, "field.expected_list"),
        ({"mapping": {}}, "field.expected_nonempty_object"),
        ({"blob": SECRET}, "field.expected_json"),
        ({"rows": [{"name": "a"}, {"name": "b"}]}, "field.too_many_items"),
        ({"rows": []}, "field.empty_list"),
        ({"rows": SECRET}, "field.expected_list"),
    ],
)
def test_every_key_drf_raises_becomes_one_of_our_codes(data, code):
    serializer = Every(data=data)
    assert not serializer.is_valid()
    [(field, errors)] = serializer.errors.items()
    [error] = errors if isinstance(errors, list) else errors["non_field_errors"]
    assert error.code == code and field == next(iter(data))
    assert SECRET not in error and str(error) != ""


def test_an_error_already_coded_is_left_as_it_is():
    detail = {"x": [serializers.ErrorDetail("own words", code="field.unknown_none")]}
    assert recode(detail, Every()) == detail


@pytest.mark.parametrize("body", ["null", "[1, 2]", '"x"'])
def test_a_body_that_is_no_object_is_400_naming_the_body(client_for, body):
    answer = client_for("kari").post(CASES, body, content_type="application/json")
    (error,) = _errors(answer).values()
    assert error["field"] == "body" and error["code"] in ("field.null", "field.expected_object")
