"""A data category belongs to a whole form field (h-attack33).

The policy reads a field's category from its top-level property. An ``x-category`` written
inside a field (an object's property, a list's items, a definition the field refers to) was
accepted at deploy and decided nothing: the health service's diagnosis inside a
"coordination" summary was shown to NAV and the housing contact without the person's
consent, though its modeler had marked it health. Now the deploy refuses such a form
(``nested-category``, naming the form, the task and the field), and a version deployed
before treats the field as restricted (the writer and the coordinator only)."""

import copy
import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from bpmn.models import ProcessDefinition
from bpmn.registry import clear_caches
from bpmn.services import InvalidModel, deploy_definition
from permissions.models import Membership, Role
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_message_payload_consent import FORMS, care_notice_model
from workflows import services

FORM = "care_applicant.schema.json"
DIAGNOSIS = "F20 paranoid schizofreni"


def _with_summary(inner_category: str | None, *, by_ref: bool = False) -> dict:
    """The health service's form with a "coordination" summary whose diagnosis part is of
    ``inner_category`` (written in the field, or in a definition it refers to)."""
    diagnosis = {"type": "string", "title": "Diagnose"}
    if inner_category:
        diagnosis["x-category"] = inner_category
    form = copy.deepcopy(FORMS[FORM])
    summary = {"type": "object", "title": "Oppsummering", "x-category": "coordination"}
    if by_ref:
        form["$defs"] = {"diagnosis_part": diagnosis}
        summary["properties"] = {"plan": {"type": "string"}, "diagnosis": {"$ref": "#/$defs/diagnosis_part"}}
    else:
        summary["properties"] = {"plan": {"type": "string"}, "diagnosis": diagnosis}
    form["properties"]["summary"] = summary
    return {**FORMS, FORM: form}


@pytest.mark.django_db
@pytest.mark.parametrize("by_ref", [False, True])
def test_the_deploy_refuses_a_category_inside_a_field_that_is_not_the_field_s(by_ref):
    with pytest.raises(InvalidModel) as refused:
        deploy_definition(
            actor=None,
            bpmn_xml=care_notice_model(),
            forms=_with_summary("health", by_ref=by_ref),
            check_permission=False,
        )
    (issue,) = [issue for issue in refused.value.issues if issue.code == "nested-category"]
    assert issue.element_id == "Task_prepare" and issue.params["field"] == "summary"
    assert issue.params["form"] == FORM and DIAGNOSIS not in issue.message

    # The field's own category inside it, or none, is the field's: deployed.
    for inner in ("coordination", None):
        deploy_definition(
            actor=None, bpmn_xml=care_notice_model(), forms=_with_summary(inner, by_ref=by_ref), check_permission=False
        )


def _member(agencies, kind, username, role=Role.MEMBER):
    user = get_user_model().objects.create_user(username)
    Membership.objects.create(user=user, agency=agencies[kind], role=role)
    return user


def _case_data(user, case):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
    answer = client.get(reverse("api-case", args=[case.pk]))
    assert answer.status_code == 200
    return answer


@pytest.mark.django_db
def test_a_version_deployed_before_shows_such_a_field_to_its_writer_and_the_coordinator_only(agencies):
    definition = deploy_definition(
        actor=None, bpmn_xml=care_notice_model(), forms=_with_summary(None), check_permission=False
    )
    # As deployed before the deploy refused it: the diagnosis part marked health.
    ProcessDefinition.objects.filter(pk=definition.definition.pk).update(forms_json=json.dumps(_with_summary("health")))
    clear_caches()
    health = _member(agencies, "health", "helse-del")
    nav = _member(agencies, "nav", "nav-del")
    coordinator = _member(agencies, "housing", "bolig-del", Role.COORDINATOR)
    case = services.start_case(
        actor=health,
        process_key="care_notice",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("nav", "health", "housing")},
    )
    (task,) = open_tasks(case)
    summary = {"plan": "Bolig med oppfølging", "diagnosis": DIAGNOSIS}
    services.complete_task(
        actor=health, task_id=task.pk, data={"applicant_id": "A-17", "diagnosis": "F20", "summary": summary}
    )

    answer = _case_data(nav, case)
    assert DIAGNOSIS not in answer.content.decode()
    assert "summary" not in answer.json()["data"]["coordination"]["values"]
    for reader in (health, coordinator):  # its writer, and the coordinator (restricted)
        assert _case_data(reader, case).json()["data"]["restricted"]["values"]["summary"] == summary
    # The process's description says so too, as the engine decides it.
    admin = _member(agencies, "housing", "prosess-del", Role.PROCESS_ADMIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(admin)[0]}")
    described = client.get(reverse("api-process-definition", args=["care_notice"]))
    assert described.status_code == 200, described.content
    assert described.json()["fields"]["summary"] == "restricted"


@pytest.mark.django_db
def test_a_form_refused_for_its_fan_out_is_not_walked_field_by_field_for_categories():
    """A form whose fields each refer to one large definition is refused (``ref-fanout``). The
    category check walked each field's referred definition again, field by field: a 350 kB
    form kept the deploy (and the editor's check) busy for 14 s of CPU before it said no."""
    from tests.timing import cpu_time

    form = copy.deepcopy(FORMS[FORM])
    form["$defs"] = {"big": {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(9990)}}}
    for i in range(1000):
        form["properties"][f"part{i}"] = {"$ref": "#/$defs/big", "x-category": "coordination"}
    with cpu_time() as used, pytest.raises(InvalidModel) as refused:
        deploy_definition(actor=None, bpmn_xml=care_notice_model(), forms={**FORMS, FORM: form}, check_permission=False)
    assert "ref-fanout" in {issue.code for issue in refused.value.issues}
    assert used.seconds < 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("keyword", "ref"),
    [
        ("$ref", "#/%24defs/diagnosis_part"),
        ("$dynamicRef", "#/$defs/diagnosis_part"),
        ("$ref", "#/$defs/diagnosis%5Fpart"),
    ],
)
def test_a_category_behind_a_reference_written_otherwise_is_refused_too(keyword, ref):
    """The form's checks read a reference as JSON Schema does (percent-encoded, or a
    ``$dynamicRef``); the category check followed only ``$ref`` written plainly, so the health
    part behind ``#/%24defs/...`` was deployed and shown as the field's coordination."""
    forms = _with_summary("health", by_ref=True)
    summary = forms[FORM]["properties"]["summary"]
    summary["properties"]["diagnosis"] = {keyword: ref}
    with pytest.raises(InvalidModel) as refused:
        deploy_definition(actor=None, bpmn_xml=care_notice_model(), forms=forms, check_permission=False)
    assert "nested-category" in {issue.code for issue in refused.value.issues}
