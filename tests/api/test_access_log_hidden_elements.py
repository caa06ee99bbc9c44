"""The access log names a service task only to a reader who may see it.

The health service's system fetches an external task that lies on the branch a diagnosis
chose. Its export is logged (the person's right to know who got their data), on the basis
``external-task:<element>``: the housing coordinator and the auditor, who read the case's
log but may not see health data, were told by that basis which element ran, so which
branch the diagnosis chose, though the case's diagram and timeline hide it. The row stays
(who, agency, category, action); its basis no longer names a hidden element, on the API,
the case page and the person's access report, as the diagram and timeline leave it out."""

from tests.clients import api

from .test_external_task_branch_values import ROUTE_TO_HOUSING
from .test_external_tasks import assessed, fetch, started_with_health

HEALTH_TOPIC = {"topicName": "health-plan", "lockDuration": 60000}

ON_THE_BRANCH = ROUTE_TO_HOUSING.replace(
    'id="route_to_housing" name="route_to_housing"', 'id="route_health" name="route_health"'
).replace(
    """<bpmn:scriptTask id="S_a" name="A"><bpmn:incoming>Fa</bpmn:incoming><bpmn:outgoing>Fa2</bpmn:outgoing>
      <bpmn:script>route = "psych"</bpmn:script></bpmn:scriptTask>""",
    """<bpmn:serviceTask id="S_a" name="Psykoseteam" camunda:type="external" camunda:topic="health-plan">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="diagnosis">${diagnosis}</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
      <bpmn:incoming>Fa</bpmn:incoming><bpmn:outgoing>Fa2</bpmn:outgoing></bpmn:serviceTask>""",
)


def log_told(user, case) -> str:
    """Everything ``user`` is told by the case's access log: the API's list, the case page's
    section and the person's access report (API and page)."""
    client = api(user)
    told = [
        client.get(f"/api/v1/cases/{case.pk}/access-log/").content.decode(),
        client.get(f"/api/v1/cases/{case.pk}/person-access-report/").content.decode(),
    ]
    client.force_login(user)
    for path in (f"/cases/{case.pk}/sections/access-log/", f"/cases/{case.pk}/person-access-report/"):
        page = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200, path
        told.append(page.content.decode())
    return "\n".join(told)


def test_an_export_on_a_hidden_branch_is_logged_without_naming_its_element(client_for, users, agencies):
    assert "S_a" in ON_THE_BRANCH and 'serviceTask id="S_a"' in ON_THE_BRANCH
    case = started_with_health(users, agencies, ON_THE_BRANCH, "route_health", starter="bjorn", other="housing")
    assessed(users, case)  # F20.0: the branch of S_a
    (task,) = fetch(client_for("helga"), topics=[HEALTH_TOPIC])
    assert task["variables"] == {"diagnosis": {"value": "F20.0", "type": "String"}} or task["variables"]
    assert "S_a" in api(users["helga"]).get(f"/api/v1/cases/{case.pk}/diagram/").json()["active"]
    for reader in ("bjorn", "aud"):
        told = log_told(users[reader], case)
        assert "health" in told  # the export is still in the log
        assert "S_a" not in told and "Psykoseteam" not in told, reader
