"""A value written before the split and written over on a hidden branch tells the branch (h-paths3).

The health service's assessment writes ``needs_treatment`` (health) and ``move_date``
(coordination, every participant sees it); the treatment branch's housing task writes
``move_date`` again. Before, a field a step every case passes wrote was never counted as
written on the branch (``DefinitionRuntime.branch_writers`` left it out): NAV (health masked)
read ``move_date`` as the housing task changed it in one case and as the assessment left it in
the other, and so the health value. Now such a field shows, to a reader from whom the branch
is hidden, as the last step every case passes wrote it (``Case.data_common``)."""

import pytest
from django.urls import reverse

from tests.api.test_branch_written_data import model as branch_data_model
from tests.clients import api
from tests.clients import web as page
from tests.workflows.helpers import PERSON
from workflows import selectors, services
from workflows.models import Case, Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
DATE = {"type": "string", "format": "date", "x-category": "coordination"}
FORMS = {
    "h.schema.json": {
        "type": "object",
        "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}, "move_date": DATE},
    },
    "a.schema.json": {"type": "object", "properties": {"move_date": DATE}},
    "b.schema.json": {"type": "object", "properties": {"ordinary": {"type": "boolean", "x-category": "coordination"}}},
    "n.schema.json": {"type": "object", "properties": {"noted": {"type": "boolean", "x-category": "coordination"}}},
}


def model():
    """As in test_branch_written_data, but the treatment branch's housing task writes over the
    assessment's ``move_date`` and the other's writes a field of its own."""
    return branch_data_model(FORMS, process="Proc_rewritten", treatment_task="Ny flyttedato")


@pytest.fixture
def cases(users, agencies):
    """Case True took the treatment branch, whose housing task moved ``move_date``; case False
    the other. Both wait at NAV's final task."""
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    found = {}
    for needs_treatment, person in ((True, PERSON), (False, OTHER_PERSON)):
        case = services.start_case(
            actor=users["helga"],
            process_key="Proc_rewritten",
            person=person,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        assess = Task.objects.get(case=case, element_id="T_assess")
        data = {"needs_treatment": needs_treatment, "move_date": "2027-01-10"}
        services.complete_task(actor=users["helga"], task_id=assess.pk, data=data)
        housing_task = Task.objects.get(case=case, status="open")
        data = {"move_date": "2027-03-01"} if needs_treatment else {"ordinary": True}
        services.complete_task(actor=users["bjorn"], task_id=housing_task.pk, data=data)
        found[needs_treatment] = Case.objects.get(pk=case.pk)
    return found


def _move_date_told(user, case) -> dict:
    final = Task.objects.get(case=case, element_id="T_final")
    answer = api(user).get(reverse("api-case", args=[case.pk])).json()["data"]["coordination"]["values"]
    task = api(user).get(reverse("api-task", args=[final.pk])).json()["case_data"]["coordination"]["values"]
    case_page = page(user).get(f"/cases/{case.pk}/").context["view"].data["coordination"].values
    task_page = page(user).get(reverse("task", args=[final.pk])).content.decode()
    return {
        "api case": answer.get("move_date"),
        "api task": task.get("move_date"),
        "case page": case_page.get("move_date"),
        "task page shows the new date": "2027-03-01" in task_page,
    }


def test_nav_is_shown_the_value_as_the_assessment_left_it_whichever_branch(cases, users):
    told = {branch: _move_date_told(users["nils"], case) for branch, case in cases.items()}
    assert told[True] == told[False], told
    assert told[True]["api case"] == "2027-01-10", told


def test_nav_may_not_correct_a_value_a_hidden_branch_may_have_written_over(cases, users):
    from retention import services as retention

    for case in cases.values():
        assert "move_date" not in retention.correctable_fields(users["nils"], case)
        assert "move_date" in selectors.fields_seen_by(users["nils"], case)


def test_the_health_service_and_the_housing_office_see_the_value_as_it_is(cases, users):
    for reader in ("helga", "bjorn"):
        assert _move_date_told(users[reader], cases[True])["api case"] == "2027-03-01", reader
        assert _move_date_told(users[reader], cases[False])["api case"] == "2027-01-10", reader


def test_what_a_service_task_on_a_branch_writes_counts_as_the_branch_s():
    """A connector's (or external worker's) answer on the treatment branch writes its outputs:
    they told the branch as a task's form did, but only forms and messages counted."""
    from bpmn.engine.gateway_paths import GatewayPath
    from bpmn.registry import DefinitionRuntime
    from permissions.policy import field_rules

    forms = {"h.schema.json": FORMS["h.schema.json"]}
    runtime = DefinitionRuntime(
        definition_id=0,
        key="k",
        version=1,
        forms=forms,
        validators={},
        field_validators={},
        user_tasks={"T_assess": {"form": "h.schema.json"}},
        fields={},
        start_messages=frozenset(),
        field_rules=field_rules({}, forms),
        service_tasks={"Service_plan": {"outputs": ["move_date", "plan_ref"]}},
    )
    runtime.__dict__["gateway_paths"] = {"G": GatewayPath(frozenset({"needs_treatment"}), frozenset({"Service_plan"}))}
    runtime.__dict__["run_model"] = model()
    assert runtime.branch_writers == {"Service_plan": frozenset({"move_date", "plan_ref"})}
    assert runtime.branch_rewritten == {"move_date"}


def test_stored_cases_are_filled_in_the_safe_side(cases, users):
    """``workflows/0054`` fills ``data_common`` for cases stored before: a field no step on a
    branch wrote in the case keeps its value; where one may have, the value the steps every
    case passes left is read from the workflow's tasks."""
    from importlib import import_module

    from django.apps import apps

    Case.objects.update(data_common={})
    import_module("workflows.migrations.0054_case_data_common").fill(apps, None)
    treated, ordinary = (Case.objects.get(pk=cases[flag].pk) for flag in (True, False))
    # The treated case's earlier value is read from the assessment's task in its workflow.
    assert treated.data_common["move_date"][0] == "2027-01-10"
    assert ordinary.data_common["move_date"][0] == "2027-01-10"
    assert _move_date_told(users["nils"], treated) == _move_date_told(users["nils"], ordinary)
