"""A message sent into a case whose catch event waits on a branch hidden from the sender
(`POST /api/v1/messages/`, README "Messages between cases"). The gateway reads a health
field; the catch of "housing_offer" lies on the branch taken when the person needs
treatment. NAV may send the message but does not see health: the answer was 202 where the
catch waited and 404 where the case took the other branch, so a message told NAV the
branch, and so the health value. A catch on a branch the sender's path view hides now
counts as nothing waiting for them, as another agency's hidden task answers 404
(`selectors.path_hides_task`); the health service, which sees the branch, delivers it."""

import pytest

from tests.api.health_branch import HOUSING, deploy_health_branch
from tests.bpmn.engine.bpmn_snippets import properties
from tests.clients import api
from tests.request_ids import without_request_id
from tests.workflows.helpers import PERSON
from workflows import selectors, services
from workflows.models import Event, EventKind, Task

pytestmark = pytest.mark.django_db

CATCH = "Catch_offer"
MESSAGE = f"""<bpmn:message id="Message_offer" name="housing_offer">
          {properties(senders="nav,health")}
        </bpmn:message>"""
ELEMENT_XML = f"""<bpmn:intermediateCatchEvent id="{CATCH}" name="Offer of a supported home">
            <bpmn:messageEventDefinition id="Def_offer" messageRef="Message_offer"/>
          </bpmn:intermediateCatchEvent>"""


@pytest.fixture
def assessed(users, agencies):
    """``assessed(needs_treatment)``: a case the health service assessed, past the gateway."""
    deploy_health_branch(
        process_id="Proc_offer",
        name="Offer on a health branch",
        message=MESSAGE,
        element=CATCH,
        element_xml=ELEMENT_XML,
        lane="Boligkontakt",
    )

    def make(needs_treatment: bool):
        case = services.start_case(
            actor=users["helga"],
            process_key="Proc_offer",
            person=PERSON,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        task = Task.objects.get(case=case, element_id="Task_assess")
        services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
        return case

    return make


def send(user, case):
    return api(user).post(
        "/api/v1/messages/", {"name": "housing_offer", "case_reference": case.reference}, format="json"
    )


def waiting_on(case, user) -> set[str]:
    return {event.element_id for event in selectors.case_diagram_for(case, user).waiting}


def test_nav_is_answered_the_same_whichever_branch_the_health_value_chose(assessed, users):
    treated, ordinary = assessed(True), assessed(False)
    assert waiting_on(treated, users["helga"]) == {CATCH}  # the catch waits, on the hidden branch

    on_hidden, on_other = send(users["nils"], treated), send(users["nils"], ordinary)
    assert (on_hidden.status_code, on_other.status_code) == (404, 404)
    hidden_body, other_body = without_request_id(on_hidden), without_request_id(on_other)
    assert hidden_body["code"] == other_body["code"] == "message.nothing_waits"
    # The text names the case NAV gave and the message's name, nothing of the branch.
    assert hidden_body["detail"].replace(treated.reference, "REF") == other_body["detail"].replace(
        ordinary.reference, "REF"
    )
    # And nothing was caught: the hidden catch still waits, for a sender who sees the branch.
    assert waiting_on(treated, users["helga"]) == {CATCH}
    assert not Event.objects.filter(case=treated, kind=EventKind.MESSAGE_RECEIVED).exists()


def test_the_health_service_which_sees_the_branch_delivers_the_message(assessed, users):
    treated = assessed(True)
    answer = send(users["helga"], treated)
    assert answer.status_code == 202, answer.json()
    assert answer.json()["element_ids"] == [CATCH]
    assert set(Task.objects.filter(case=treated, status="open").values_list("element_id", flat=True)) == {"Task_settle"}


SUPPORTED = "Task_supported"


def _boundary_case(users, agencies, *, needs_treatment: bool, interrupting: bool, senders: str):
    """The message caught by a boundary event on the housing office's task of the treatment
    branch (not a catch on the flow, as above): the path view must hide the boundary too."""
    cancel = "true" if interrupting else "false"
    deploy_health_branch(
        process_id="Proc_offer_boundary",
        name="Offer on a task of a health branch",
        message=f'<bpmn:message id="Message_offer" name="housing_offer">{properties(senders=senders)}</bpmn:message>',
        element=SUPPORTED,
        element_xml=f"""<bpmn:userTask id="{SUPPORTED}" name="Supported home">{HOUSING}</bpmn:userTask>
          <bpmn:boundaryEvent id="Boundary_offer" attachedToRef="{SUPPORTED}" cancelActivity="{cancel}">
            <bpmn:messageEventDefinition id="Def_offer" messageRef="Message_offer"/>
          </bpmn:boundaryEvent>""",
        lane="Boligkontakt",
    )
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_offer_boundary",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
    return case


def _answer(response, case) -> tuple[int, dict]:
    body = without_request_id(response)
    return response.status_code, {**body, "detail": body.get("detail", "").replace(case.reference, "REF")}


@pytest.mark.parametrize("interrupting", [False, True])
@pytest.mark.parametrize("senders", ["nav,health", "health"])
def test_a_boundary_on_a_hidden_task_answers_nav_as_the_other_branch(users, agencies, interrupting, senders):
    """Found sound by h-attack16 (a guard): NAV is answered the same (404 where it may send,
    403 where the model names only the health service) whether or not the boundary waits."""
    treated = _boundary_case(users, agencies, needs_treatment=True, interrupting=interrupting, senders=senders)
    ordinary = _boundary_case(users, agencies, needs_treatment=False, interrupting=interrupting, senders=senders)
    on_hidden, on_other = send(users["nils"], treated), send(users["nils"], ordinary)
    assert _answer(on_hidden, treated) == _answer(on_other, ordinary)
    assert on_hidden.status_code == (404 if "nav" in senders else 403)
    assert not Event.objects.filter(case=treated, kind=EventKind.MESSAGE_RECEIVED).exists()
    assert set(Task.objects.filter(case=treated, status="open").values_list("element_id", flat=True)) == {SUPPORTED}
