"""The editor shows a refused model's problems in bokmål (issue 13): validating and deploying
answer each problem with its element id and line, worded from its code and params, never
the engine's English; an admin who chose English reads it in English."""

import pytest
from django.urls import reverse

from tests.bpmn.editor.conftest import post_json
from tests.bpmn.refused_models import REFUSED
from tests.english import english_in

pytestmark = pytest.mark.django_db


def _content(bpmn_xml, forms, routing):
    return {"key": "refused_model", "bpmn_xml": bpmn_xml, "forms": forms, "lanes": {}, "routing": routing}


def _about(element, problems):
    """The problems the admin reads about ``element`` (None: about the file)."""
    if element is None:
        return problems
    return [problem for problem in problems if problem.get("element_id") == element]


@pytest.mark.parametrize(
    ("code", "bpmn_xml", "forms", "routing", "element"), REFUSED, ids=[case[0] for case in REFUSED]
)
def test_validating_shows_each_problem_in_bokmal_on_its_element(web, code, bpmn_xml, forms, routing, element):
    response = post_json(web("ada"), reverse("process-validate"), _content(bpmn_xml, forms, routing))
    answer = response.json()
    problems = answer.get("issues") or answer["errors"]  # some inputs are refused before the lint
    assert answer.get("valid") is not True
    assert code in {problem.get("code") for problem in problems}
    about = _about(element, problems)
    assert about, problems
    for problem in about:
        assert english_in(problem["message"]) == [], problem["message"]
        assert element is None or element in problem["message"]
        assert element is None or problem["line"] >= 1
    assert all("params" not in problem and "message_code" not in problem for problem in problems)


def test_a_refused_deploy_is_in_bokmal(web):
    code, bpmn_xml, forms, routing, element = next(case for case in REFUSED if case[0] == "dangling-flow")
    response = post_json(web("ada"), reverse("process-deploy"), _content(bpmn_xml, forms, routing))
    assert response.status_code == 400
    answer = response.json()
    assert answer["detail"] == "BPMN-modellen ble avvist"
    [problem] = answer["errors"]
    assert (problem["code"], problem["element_id"]) == (code, element)
    assert problem["message"] == (
        "sekvensflyten «Flow_no» har targetRef «Task_gone», men det finnes ikke noe element med den id-en i "
        "samme prosess eller underprosess; koble den til et element der"
    )


def test_an_admin_who_chose_english_reads_english(web):
    ada = web("ada")
    ada.post(reverse("set_language"), {"language": "en", "next": "/"})
    _, bpmn_xml, forms, routing, _ = next(case for case in REFUSED if case[0] == "dangling-flow")
    [problem] = post_json(ada, reverse("process-validate"), _content(bpmn_xml, forms, routing)).json()["issues"]
    assert problem["message"] == (
        "the sequence flow “Flow_no” has the targetRef “Task_gone”, but there is no element with that id in its "
        "process or sub-process; connect it to an element there"
    )


def test_the_form_preview_says_why_a_form_is_refused_in_bokmal(web):
    schema = {"type": "object", "properties": {"address": {"$ref": "https://example.org/address.json"}}}
    page = post_json(web("ada"), reverse("process-form-preview"), {"schema": schema}).content.decode()
    assert "skjemaet kan ikke brukes: «address» i skjemaet har en $ref til en annen fil eller adresse" in page
    assert "fetches" not in page and "may refer only" not in page


def test_every_form_problem_has_a_bokmal_text():
    from bpmn.engine.forms_validation import FORM_PROBLEM_CODES
    from core.messages import MESSAGES

    assert {code for code in MESSAGES if code.startswith("form_problem.")} == {
        f"form_problem.{code}" for code in FORM_PROBLEM_CODES
    }


def test_the_sandboxs_refusal_in_a_script_reads_in_bokmal(web):
    """The detail the sandbox gives (where, and what it refuses) in bokmål too, not only the
    sentence around it."""
    _, bpmn_xml, forms, routing, _ = next(case for case in REFUSED if case[0] == "unsafe-expression")
    bpmn_xml = bpmn_xml.replace("__import__('os').system('x')", "open('f') == 1")
    [problem] = post_json(web("ada"), reverse("process-validate"), _content(bpmn_xml, forms, routing)).json()["issues"]
    assert problem["message"].startswith(
        "conditionExpression i «Flow_no» bruker noe det avgrensede kjøremiljøet ikke tillater («linje 1, kolonne 1: "
        "å kalle «open» er ikke tillatt (funksjoner som kan kalles: "
    )
    assert "not allowed" not in problem["message"] and "callable" not in problem["message"]
