"""The API's own input checks answer like every other error: each unknown field with the
code ``field.unknown_allowed`` and a text in the language the client asks for (bokmål with
``Accept-Language: nb``), and DRF's 405 and 406 with a code and our words. They were English
whatever the client asked ("unknown field; allowed: ..."), or DRF's clumsy bokmål
("Metoden «DELETE» ikke gyldig", "Kunne ikke tilfredsstille request Accept header") without a
code, the 405 repeating the method sent."""

import pytest

from tests.english import english_in

pytestmark = pytest.mark.django_db

UNKNOWN = {
    "name": "release_date_changed",
    "case_reference": "BK-2026-000001",
    "bogus": 1,
    "start": {"person": {"name": "Ola", "national_id": "17912099997", "shoe_size": 44}, "participants": {}, "y": 2},
}


def _refused_fields(answer) -> dict[str, dict]:
    assert answer.status_code == 400
    return {error["field"]: error for error in answer.json()["errors"]}


def test_unknown_fields_are_refused_with_a_code_in_english_by_default(client_for):
    errors = _refused_fields(client_for("kari").post("/api/v1/messages/", UNKNOWN, format="json"))
    assert {name: errors[name]["code"] for name in ("bogus", "start.y", "start.person.shoe_size")} == dict.fromkeys(
        ("bogus", "start.y", "start.person.shoe_size"), "field.unknown_allowed"
    )
    assert errors["start.y"]["message"] == "unknown field; allowed: person, participants"


def test_unknown_fields_are_refused_in_bokmal_when_the_client_asks_for_it(client_for):
    answer = client_for("kari").post("/api/v1/messages/", UNKNOWN, format="json", HTTP_ACCEPT_LANGUAGE="nb")
    errors = _refused_fields(answer)
    for name in ("bogus", "start.y", "start.person.shoe_size"):
        assert errors[name]["code"] == "field.unknown_allowed"
        assert errors[name]["message"].startswith("ukjent felt; tillatt: "), errors[name]
        assert english_in(errors[name]["message"].split(":")[0]) == []
    assert errors["start.person.shoe_size"]["message"] == "ukjent felt; tillatt: name, national_id"
    # The message's own checks of its fields are coded and said in bokmål too.
    both = {"name": "x", "case_reference": "a", "correlation_key": "b"}
    (error,) = (
        client_for("kari").post("/api/v1/messages/", both, format="json", HTTP_ACCEPT_LANGUAGE="nb").json()["errors"]
    )
    assert error == {
        "field": "case_reference",
        "code": "message.reference_or_key",
        "message": "oppgi enten case_reference eller correlation_key",
    }


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "this route does not take the request's method; it takes GET, HEAD"),
        ("nb", "denne adressen tar ikke imot metoden i forespørselen; den tar imot GET, HEAD"),
    ],
)
def test_a_method_the_route_does_not_take_is_405_with_a_code(client_for, language, said):
    client = client_for("kari")
    for method in ("DELETE", "FROBNICATE"):
        answer = client.generic(method, "/api/v1/agencies/", HTTP_ACCEPT_LANGUAGE=language)
        assert answer.status_code == 405
        body = answer.json()
        assert (body["code"], body["detail"], body["errors"]) == ("request.method_not_allowed", said, [])
        assert method not in body["detail"]  # the method sent is not repeated
        assert answer["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "cannot answer in the format the Accept header asks for; this route answers in application/json"),
        ("nb", "kan ikke svare i formatet Accept-hodet ber om; denne adressen svarer i application/json"),
    ],
)
def test_an_answer_format_the_route_cannot_give_is_406_with_a_code(client_for, language, said):
    answer = client_for("kari").get("/api/v1/agencies/", HTTP_ACCEPT="text/csv", HTTP_ACCEPT_LANGUAGE=language)
    assert answer.status_code == 406
    body = answer.json()
    assert (body["code"], body["detail"], body["errors"]) == ("request.not_acceptable", said, [])
