"""Text that ``str.isdigit`` calls digits but ``int`` cannot read ("²", or 5,000 digits, past
Python's limit on reading a number from text) is refused naming its place, never a 500 and
never an engine error (h-attack28: a legal basis's position and a deploy were 500s, a computed
cycle from a form's text stopped the case on an engine error instead of its limit)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from bpmn.services import InvalidModel, deploy_definition
from permissions.models import LegalBasis, Membership, Role
from tests.bpmn.engine.bpmn_snippets import definitions
from tests.workflows.test_timer_cycle_limit import KEY, _model
from workflows.models import Incident

pytestmark = pytest.mark.django_db

NOT_NUMBERS = ["²", "9" * 5000]
TEXT_FORM = {"type": "object", "properties": {"count": {"type": "string", "x-category": "coordination"}}}


def client_of(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
    return client


def member(agencies, kind, role, username):
    user = get_user_model().objects.create_user(username)
    Membership.objects.create(user=user, agency=agencies[kind], role=role)
    return user


@pytest.mark.parametrize("position", NOT_NUMBERS)
def test_a_legal_basis_position_that_is_no_number_is_400_naming_it(agencies, legal_bases, position):
    admin = client_of(member(agencies, "housing", Role.PROCESS_ADMIN, "prosessadmin-posisjon"))
    before = LegalBasis.objects.count()
    body = {
        "law": "sosialtjenesteloven",
        "paragraph": "§ 45 (prøve)",
        "title": "Opplysninger til NAV",
        "categories": ["economy"],
        "agency_kinds": ["nav"],
        "position": position,
    }
    answer = admin.post(reverse("api-legal-bases"), body, format="json")
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == ["position"]
    assert position not in answer.content.decode()
    assert LegalBasis.objects.count() == before
    assert admin.post(reverse("api-legal-bases"), {**body, "position": "7"}, format="json").status_code == 201


def test_a_literal_cycle_of_too_many_digits_is_refused_at_deploy(db):
    with pytest.raises(InvalidModel) as refused:
        deploy_definition(
            actor=None,
            bpmn_xml=_model("R" + "9" * 5000 + "/P1D"),
            forms={"start.schema.json": TEXT_FORM},
            check_permission=False,
        )
    assert {issue.code for issue in refused.value.issues} & {"long-timer-cycle", "invalid-timer"}


@pytest.mark.parametrize("maximum", NOT_NUMBERS)
def test_a_loop_maximum_that_is_no_number_is_a_lint_issue(db, maximum):
    xml = definitions(
        f"""
        <bpmn:process id="Proc_loop" isExecutable="true">
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T"/>
          <bpmn:scriptTask id="T"><bpmn:standardLoopCharacteristics loopMaximum="{maximum}"/>
            <bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
          <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
        """
    )
    with pytest.raises(InvalidModel) as refused:
        deploy_definition(actor=None, bpmn_xml=xml, forms={}, check_permission=False)
    assert "unbounded-loop" in {issue.code for issue in refused.value.issues}


@pytest.mark.parametrize("count", NOT_NUMBERS)
def test_a_computed_cycle_from_text_that_is_no_number_is_the_cycle_limit_incident(agencies, count):
    deploy_definition(
        actor=None,
        bpmn_xml=_model("'R' + count + '/P1D'"),
        forms={"start.schema.json": TEXT_FORM},
        check_permission=False,
    )
    nav = client_of(member(agencies, "nav", Role.MEMBER, "nav-syklus"))
    answer = nav.post(
        reverse("api-cases"),
        {
            "process_key": KEY,
            "person": {"name": "Test Testesen", "national_id": "29822099635"},
            "participants": {"nav": agencies["nav"].pk},
            "data": {"count": count},
        },
        format="json",
    )
    assert answer.status_code == 201
    incident = Incident.objects.get(case_id=answer.json()["id"])
    assert (incident.element_id, incident.kind) == ("Timer_remind", "expression-error")
    assert count not in incident.error
