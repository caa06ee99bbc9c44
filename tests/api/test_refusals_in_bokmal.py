"""A refused deploy over the API (issue 13): English by default, the contract's words as
the engine gives them; a client that asks for bokmål (Accept-Language) reads every problem
in bokmål, as it does every other error, each still with its code, element id and line."""

import pytest

from tests.bpmn.refused_models import REFUSED
from tests.english import english_in

pytestmark = pytest.mark.django_db

URL = "/api/v1/process-definitions/"


def _deploy(client, case, **headers):
    _, bpmn_xml, forms, routing, _ = case
    body = {"bpmn_xml": bpmn_xml, "forms": forms, **({"routing": routing} if routing else {})}
    return client.post(URL, body, format="json", **headers)


@pytest.mark.parametrize("case", REFUSED, ids=[case[0] for case in REFUSED])
def test_a_client_that_asks_for_bokmal_reads_each_problem_in_bokmal(client_for, case):
    code, _, _, _, element = case
    response = _deploy(client_for("ada"), case, HTTP_ACCEPT_LANGUAGE="nb")
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "process.model_refused" and answer["detail"].startswith("BPMN-modellen ble avvist: ")
    assert english_in(answer["detail"]) == [], answer["detail"]
    assert code in {error["code"] for error in answer["errors"]}
    for error in answer["errors"]:
        assert english_in(error["message"]) == [], error["message"]
        assert error.get("element_id", "") in error["message"] or error["field"] == "bpmn_xml"
        assert "params" not in error and "message_code" not in error
    assert element is None or element in {error.get("element_id") for error in answer["errors"]}


def test_without_accept_language_the_api_keeps_the_engines_english(client_for):
    case = next(case for case in REFUSED if case[0] == "dangling-flow")
    answer = _deploy(client_for("ada"), case).json()
    [error] = answer["errors"]
    assert error["message"].startswith("sequence flow 'Flow_no' has the target 'Task_gone'")
    assert answer["detail"] == f"the BPMN model was refused: Flow_no: {error['message']}"
    assert (error["code"], error["element_id"]) == ("dangling-flow", "Flow_no") and error["line"] > 1


def test_several_problems_are_counted_in_bokmal(client_for):
    case = next(case for case in REFUSED if case[0] == "missing-condition")
    answer = _deploy(client_for("ada"), case, HTTP_ACCEPT_LANGUAGE="nb").json()
    assert answer["detail"] == f"BPMN-modellen ble avvist: forespørselen har {len(answer['errors'])} feil"
    assert _deploy(client_for("ada"), case).json()["detail"].endswith(f"the request has {len(answer['errors'])} errors")


SANDBOX_REFUSAL = {
    "nb": "conditionExpression i «Flow_no» bruker noe det avgrensede kjøremiljøet ikke tillater («linje 1, "
    "kolonne 1: navnet «__import__» er ikke tillatt (navn som begynner med _, er reservert)»); bruk bare sakens "
    "felt, vanlige operatorer og de tillatte funksjonene",
    "en": "line 1, column 1: the name '__import__' is not allowed (names starting with '_' are reserved)",
}


@pytest.mark.parametrize("language", ["nb", "en"])
def test_the_sandboxs_refusal_is_said_in_the_clients_language_too(client_for, language):
    """Before, the sandbox's own words stood in English inside the bokmål sentence."""
    case = next(case for case in REFUSED if case[0] == "unsafe-expression")
    headers = {"HTTP_ACCEPT_LANGUAGE": "nb"} if language == "nb" else {}
    answer = _deploy(client_for("ada"), case, **headers).json()
    [error] = [error for error in answer["errors"] if error["code"] == "unsafe-expression"]
    if language == "nb":
        assert error["message"] == SANDBOX_REFUSAL["nb"]
    else:  # the engine's English message, as before
        assert SANDBOX_REFUSAL["en"] in error["message"]
