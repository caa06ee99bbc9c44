"""A model whose call activity calls a process of another file: deployed with that file
(API ``called``, ``deploy_bpmn`` finds it beside the model), checked like the model, and
the case runs through the called process."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.tokens import issue
from bpmn.loading import called_files
from bpmn.models import ProcessDefinition
from bpmn.services import InvalidModel, deploy_definition
from tests.workflows.helpers import PERSON, open_tasks
from workflows import services

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_{pid}">"""


def main_model():
    return (
        HEADER.format(pid="main")
        + """
  <bpmn:process id="main_process" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L" name="NAV"><bpmn:flowNodeRef>S</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Call_1</bpmn:flowNodeRef><bpmn:flowNodeRef>E</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="Call_1" calledElement="called_process"><bpmn:incoming>F1</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Call_1"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Call_1" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>"""
    )


def called_model(script="x = 1"):
    return (
        HEADER.format(pid="called")
        + f"""
  <bpmn:process id="called_process" isExecutable="true">
    <bpmn:laneSet id="LS2"><bpmn:lane id="L2" name="NAV"><bpmn:flowNodeRef>S2</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Script_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_1</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>E2</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S2"><bpmn:outgoing>G1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Script_1"><bpmn:incoming>G1</bpmn:incoming><bpmn:outgoing>G2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:manualTask id="Task_1" name="Do it"><bpmn:incoming>G2</bpmn:incoming><bpmn:outgoing>G3</bpmn:outgoing>
    </bpmn:manualTask>
    <bpmn:endEvent id="E2"><bpmn:incoming>G3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="G1" sourceRef="S2" targetRef="Script_1"/>
    <bpmn:sequenceFlow id="G2" sourceRef="Script_1" targetRef="Task_1"/>
    <bpmn:sequenceFlow id="G3" sourceRef="Task_1" targetRef="E2"/>
  </bpmn:process>
</bpmn:definitions>"""
    )


def deploy(called):
    return deploy_definition(actor=None, bpmn_xml=main_model(), called=called, check_permission=False)


def test_without_the_called_file_it_is_refused_naming_the_fix(db):
    with pytest.raises(InvalidModel) as refused:
        deploy(None)
    (issue,) = refused.value.issues
    assert issue.code == "missing-called-process" and issue.element_id == "Call_1"
    assert "called" in issue.message


def test_with_the_called_file_the_case_runs_through_it(db, users, agencies):
    result = deploy([{"filename": "called.bpmn", "bpmn_xml": called_model()}])
    assert ProcessDefinition.objects.get(pk=result.definition.pk).called_json.startswith('[{"filename": "called.bpmn"')
    case = services.start_case(
        actor=users["nils"], process_key="main_process", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (task,) = open_tasks(case)
    assert task.element_id == "Task_1" and task.agency == agencies["nav"]
    services.complete_task(actor=users["nils"], task_id=task.pk, data={})
    case.refresh_from_db()
    assert case.status == "completed"


def test_the_called_file_is_checked_like_the_model(db):
    with pytest.raises(InvalidModel) as refused:
        deploy([{"filename": "called.bpmn", "bpmn_xml": called_model(script="__import__('os')")}])
    assert {(issue.code, issue.file) for issue in refused.value.issues} == {("unsafe-script", "called.bpmn")}


def test_a_changed_called_file_is_a_new_version(db):
    first = deploy([{"filename": "called.bpmn", "bpmn_xml": called_model()}])
    same = deploy([{"filename": "called.bpmn", "bpmn_xml": called_model()}])
    changed = deploy([{"filename": "called.bpmn", "bpmn_xml": called_model(script="x = 2")}])
    assert same.created is False and changed.definition.version == first.definition.version + 1


def test_deploy_bpmn_finds_the_called_file_beside_the_model(db, tmp_path):
    (tmp_path / "main.bpmn").write_text(main_model())
    (tmp_path / "called.bpmn").write_text(called_model())
    (tmp_path / "unrelated.bpmn").write_text("<not-xml")
    assert [entry["filename"] for entry in called_files(tmp_path / "main.bpmn")] == ["called.bpmn"]
    call_command("deploy_bpmn", str(tmp_path / "main.bpmn"))
    assert ProcessDefinition.objects.filter(key="main_process").exists()


def test_api_takes_called_files(db, users):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(users['ada'])[0]}")
    body = {"bpmn_xml": main_model(), "called": [{"filename": "called.bpmn", "bpmn_xml": called_model()}]}
    assert client.post("/api/v1/process-definitions/", body, format="json").status_code == 201
    bad = client.post("/api/v1/process-definitions/", {**body, "called": [{"filename": "x"}]}, format="json")
    assert bad.status_code == 400


def test_an_id_a_task_shares_with_the_model_is_refused_naming_both_files(db, users):
    """The task metadata and the path analysis read the model and its called files as one,
    by element id: a called file's element with the id of one of the model's would be taken
    for it. Refused at deploy, 400, naming the id and both files; in bokmål too."""
    from tests.bpmn.test_refusals_in_bokmal import in_bokmal

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(users['ada'])[0]}")
    clashing = called_model().replace('"Script_1"', '"Call_1"').replace(">Script_1<", ">Call_1<")
    body = {"bpmn_xml": main_model(), "called": [{"filename": "called.bpmn", "bpmn_xml": clashing}]}
    answer = client.post("/api/v1/process-definitions/", body, format="json")
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert (error["code"], error["element_id"], error["file"]) == ("called-duplicate-id", "Call_1", "called.bpmn")
    assert "'model.bpmn'" in error["message"] and "'called.bpmn'" in error["message"]
    assert not ProcessDefinition.objects.filter(key="main_process").exists()
    with pytest.raises(InvalidModel) as refused:
        deploy([{"filename": "called.bpmn", "bpmn_xml": clashing}])
    assert in_bokmal(refused.value.issues) == [
        "id-en «Call_1» er brukt både i «model.bpmn» og i «called.bpmn», som tas i bruk sammen; gi ett av "
        "elementene en annen id: id-ene må være unike i modellen og filene den kaller, bare start- og "
        "slutthendelser og baner kan dele en id"
    ]


def test_a_start_event_id_shared_with_the_model_deploys_and_runs(db, users, agencies):
    """bpmn-js names every new diagram's start ``StartEvent_1``: start events (end events and
    lanes too) may share an id."""
    sharing = called_model().replace('"S2"', '"S"').replace(">S2<", ">S<")
    deploy([{"filename": "called.bpmn", "bpmn_xml": sharing}])
    case = services.start_case(
        actor=users["nils"], process_key="main_process", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (task,) = open_tasks(case)
    assert task.element_id == "Task_1"
