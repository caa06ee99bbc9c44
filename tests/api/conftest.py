"""API fixtures: clients for the demo cast, the shipped processes and three cases.

- ``prison_case``: prison, NAV, health, housing (started by kari over the services);
- ``discharge_case``: hospital, health, NAV, housing (prison does not take part);
- ``small_case``: a two-lane test model, prison and hospital only (NAV, health and
  housing do not take part).
"""

import pytest
from rest_framework.test import APIClient

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties

# tove: NAV's access administrator, who gives roles and sees no case data.
CAST = ("kari", "nils", "nora", "helga", "bjorn", "siri", "ada", "aud", "oscar", "tove")
PERSON = {"name": "Ola Nordmann", "national_id": "17912099997"}
OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
THIRD_PERSON = {"name": "Per Hansen", "national_id": "05840399895"}
PRISON_KINDS = ("prison", "nav", "health", "housing")
DISCHARGE_KINDS = ("hospital", "health", "nav", "housing")
SMALL_KINDS = ("prison", "hospital")

SMALL_FORM = {
    "type": "object",
    "properties": {"ready": {"type": "boolean", "x-category": "coordination"}},
    "required": ["ready"],
    "additionalProperties": False,
}


FORM = properties(formJsonSchemaFilename="small.schema.json")


def small_model(process_id="Proc_small"):
    """Start -> prison task -> hospital task -> end."""
    return definitions(
        f"""
        <bpmn:process id="{process_id}" name="Small two-lane process" isExecutable="true">
          {lane_set({"Kriminalomsorgen": ["StartEvent_1", "Task_prison", "EndEvent_1"], "Sykehus": ["Task_hospital"]})}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_prison"/>
          <bpmn:userTask id="Task_prison" name="Prison step">{FORM}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_prison" targetRef="Task_hospital"/>
          <bpmn:userTask id="Task_hospital" name="Hospital step">{FORM}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_hospital" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """
    )


@pytest.fixture
def client_for(users):
    """``client_for("nils")``: an APIClient authenticated with nils's token."""
    from accounts.tokens import issue

    def make(username):
        client = APIClient()
        if username is not None:
            token, _expiry = issue(users[username])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


def start(actor, process_key, person, agencies, kinds):
    from workflows.services import start_case

    return start_case(
        actor=actor, process_key=process_key, person=person, participants={kind: agencies[kind].pk for kind in kinds}
    )


@pytest.fixture
def prison_case(users, agencies, shipped):
    return start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)


@pytest.fixture
def discharge_case(users, agencies, shipped):
    return start(users["siri"], "institution_discharge_to_housing", OTHER_PERSON, agencies, DISCHARGE_KINDS)


@pytest.fixture
def small_definition(db):
    from bpmn.services import deploy_definition

    return deploy_definition(
        actor=None, bpmn_xml=small_model(), forms={"small.schema.json": SMALL_FORM}, check_permission=False
    ).definition


@pytest.fixture
def small_case(users, agencies, small_definition):
    return start(users["kari"], small_definition.key, THIRD_PERSON, agencies, SMALL_KINDS)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The cast's passwords hashed with PBKDF2 cost seconds per test; MD5 is enough here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
