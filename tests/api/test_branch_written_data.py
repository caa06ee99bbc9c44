"""What a step on a hidden branch wrote tells the branch (h-oracle).

The health service's assessment (``needs_treatment``, health) sends the case to one of two
housing tasks; each writes a coordination field of its own form, a field every participant
sees. NAV (health masked) was not shown either housing task (timeline, diagram, lists), but
its case answer, case page and task showed ``treatment_home_plan`` in one case and
``ordinary_plan`` in the other: the health value, read off the data the hidden step wrote.
A value a step on a branch hidden from the reader wrote is now left out of everything that
shows the reader case data, as if the case did not have it (``PathView.fields``,
``policy.case_data_for(hidden=)``); a gateway reading it hides its branch in turn."""

import pytest

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.clients import web as page
from tests.ids import tid
from tests.workflows.helpers import PERSON
from workflows import selectors, services
from workflows.models import Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
FORMS = {
    "h.schema.json": {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}},
    "a.schema.json": {
        "type": "object",
        "properties": {"treatment_home_plan": {"type": "string", "x-category": "coordination"}},
    },
    "b.schema.json": {
        "type": "object",
        "properties": {"ordinary_plan": {"type": "string", "x-category": "coordination"}},
    },
    "n.schema.json": {"type": "object", "properties": {"noted": {"type": "boolean", "x-category": "coordination"}}},
}
BRANCH_FIELD = {True: "treatment_home_plan", False: "ordinary_plan"}


def treatment_split(form: dict, treatment_task: str) -> str:
    """Health's assessment (form ``h``) and the split on its ``needs_treatment``: the
    treatment branch's housing task ``T_a`` (form ``a``), the other's ``T_b`` (form ``b``),
    meeting at ``J``. ``form``: each form's properties by its first letter."""
    return f"""
          <bpmn:userTask id="T_assess" name="Vurdering">{form["h"]}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="T_assess" targetRef="G"/>
          <bpmn:exclusiveGateway id="G" default="F_no"/>
          <bpmn:sequenceFlow id="F_yes" sourceRef="G" targetRef="T_a">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_no" sourceRef="G" targetRef="T_b"/>
          <bpmn:userTask id="T_a" name="{treatment_task}">{form["a"]}</bpmn:userTask>
          <bpmn:userTask id="T_b" name="Vanlig bolig">{form["b"]}</bpmn:userTask>
          <bpmn:sequenceFlow id="F3" sourceRef="T_a" targetRef="J"/>
          <bpmn:sequenceFlow id="F4" sourceRef="T_b" targetRef="J"/>
          <bpmn:exclusiveGateway id="J"/>"""


def model(forms=FORMS, *, process="Proc_branch_data", treatment_task="Bolig med behandling"):
    """Health assesses; the treatment branch's housing task (form ``a``) writes
    ``treatment_home_plan``, the other's (form ``b``) ``ordinary_plan``; both meet before NAV's
    final task (form ``n``)."""
    form = {name[0]: properties(formJsonSchemaFilename=name) for name in forms}
    lanes = {"Helse": ["S", "T_assess", "G"], "Boligkontakt": ["T_a", "T_b", "J"], "NAV": ["T_final", "E"]}
    return definitions(f"""
        <bpmn:process id="{process}" name="{process}" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T_assess"/>
          {treatment_split(form, treatment_task)}
          <bpmn:sequenceFlow id="F5" sourceRef="J" targetRef="T_final"/>
          <bpmn:userTask id="T_final" name="Avslutning">{form["n"]}</bpmn:userTask>
          <bpmn:sequenceFlow id="F6" sourceRef="T_final" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
    """)


@pytest.fixture
def cases(users, agencies):
    """Case True took the treatment branch, case False the other; the housing office wrote its
    plan on each, and the case waits at NAV's final task."""
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    found = {}
    for needs_treatment, person in ((True, PERSON), (False, OTHER_PERSON)):
        case = services.start_case(
            actor=users["helga"],
            process_key="Proc_branch_data",
            person=person,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        assess = Task.objects.get(case=case, element_id="T_assess")
        services.complete_task(actor=users["helga"], task_id=assess.pk, data={"needs_treatment": needs_treatment})
        housing_task = Task.objects.get(case=case, status="open")
        data = {BRANCH_FIELD[needs_treatment]: "Plan"}
        services.complete_task(actor=users["bjorn"], task_id=housing_task.pk, data=data)
        found[needs_treatment] = case
    return found


def _coordination_told(user, case) -> dict:
    """The coordination values ``user`` is shown of ``case``: its API answer, its page, the
    API's and the page's view of NAV's final task."""
    final = Task.objects.get(case=case, element_id="T_final")
    answer = api(user).get(f"/api/v1/cases/{case.pk}/").json()["data"]["coordination"]["values"]
    task = api(user).get(f"/api/v1/tasks/{tid(final.pk)}/").json()["case_data"]["coordination"]["values"]
    case_page = page(user).get(f"/cases/{case.pk}/").context["view"].data["coordination"].values
    task_page = page(user).get(f"/tasks/{tid(final.pk)}/")
    return {
        "api case": sorted(answer),
        "api task": sorted(task),
        "case page": sorted(case_page),
        "task page shows a plan": any(name in task_page.content.decode() for name in BRANCH_FIELD.values()),
        "fields seen (corrections)": sorted(selectors.fields_seen_by(user, case)),
    }


def test_nav_is_not_shown_what_the_hidden_housing_task_wrote(cases, users):
    told = {branch: _coordination_told(users["nils"], case) for branch, case in cases.items()}
    assert told[True] == told[False], told
    assert told[True]["api case"] == [], told


def test_the_health_service_and_the_housing_office_are_shown_it(cases, users):
    """The health service sees the field the gateway read; the housing office wrote the plan."""
    for reader in ("helga", "bjorn"):
        for branch, case in cases.items():
            told = _coordination_told(users[reader], case)
            assert told["api case"] == [BRANCH_FIELD[branch]], (reader, branch, told)


def test_nav_s_path_view_names_the_fields_the_hidden_steps_write(cases, users):
    """The fields come from the model (each branch step's form), the same whichever branch the
    case took; a gateway or timer reading one counts it as unseen (``selectors._path_view``)."""
    from bpmn.registry import runtime_for

    for branch, case in cases.items():
        runtime = runtime_for(case.instances.get().definition_id)
        assert runtime.branch_writers == {
            "T_a": frozenset({"treatment_home_plan"}),
            "T_b": frozenset({"ordinary_plan"}),
        }
        view = selectors.path_view_for(users["nils"], case)
        assert view.fields == {"treatment_home_plan", "ordinary_plan"}, branch
        assert {"T_a", "T_b"} <= view.hidden


def test_a_field_every_case_writes_before_the_split_shows_as_it_wrote_it(shipped):
    """The prison's "release date changed" is caught on the branch without a home, but the
    intake before the split writes the release date in every case: NAV keeps the release date
    the law shares with it, as the intake wrote it (``Case.data_common``): the date the branch
    wrote over it would tell the branch (h-paths3, ``tests/api/test_branch_rewritten_data.py``).
    The treatment plan only the branch writes."""
    from bpmn.registry import runtime_for

    runtime = runtime_for(shipped["prison_release_to_housing"])
    assert "expected_release_date" in runtime.branch_rewritten
    assert "treatment_plan" in runtime.branch_writers["Task_health_follow_up_plan"]
    assert "treatment_plan" not in runtime.branch_rewritten


def test_opening_a_task_reads_the_version_the_case_runs_with_the_task(cases, users):
    """The path view that leaves those fields out needs the version the case runs: it comes in
    the task's own statement (``selectors._task_opening``), not a round trip of its own. The
    task answer is the token, the rate count, the task with its policy's reads, and the
    access log's insert."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    final = Task.objects.get(case=cases[True], element_id="T_final")
    client = api(users["nils"])
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(f"/api/v1/tasks/{tid(final.pk)}/")
    assert answer.status_code == 200
    assert answer.json()["case_data"]["coordination"]["values"] == {}
    statements = [query["sql"] for query in queries.captured_queries]
    assert not any(sql.startswith('SELECT "workflows_processinstance"') for sql in statements), statements
    assert len(statements) == 2, statements
