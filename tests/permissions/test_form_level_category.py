"""A data category written beside the fields, through a schema combinator (h-categories).

The policy reads a field's category from its own top-level property (``x-category``). A
category written elsewhere in the form, in ``allOf``/``anyOf``/``oneOf``, ``if``/``then``/
``else``, ``dependentSchemas``, ``patternProperties`` or ``additionalProperties`` of the
form, was deployed and decided nothing: the health service's diagnosis in a summary whose
own property says "coordination", and which an ``if``/``then`` of the form marks health,
was shown to NAV without the person's consent. Now validate and deploy refuse such a form
(``form-level-category``, naming the form, the task and the field), and a version deployed
before treats the fields it may speak of as restricted (the writer and the coordinator)."""

import copy
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
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
SUMMARY_TEXT = "F20 paranoid schizofreni, trenger bolig med oppfølging"
HEALTH = {"type": "string", "x-category": "health"}


def _placed(where: str, category: str | None = "health") -> dict:
    """The health service's form with a "coordination" summary, and a form-level schema that
    speaks of the summary (or of a field of its own) with ``category``."""
    health = dict(HEALTH)
    if category is None:
        health.pop("x-category")
    else:
        health["x-category"] = category
    placements = {
        "allOf": {"allOf": [{"properties": {"summary": health}}]},
        "anyOf": {"anyOf": [{"properties": {"summary": health}}, {"required": ["diagnosis"]}]},
        "oneOf": {"oneOf": [{"properties": {"summary": health}}]},
        "if-then": {"if": {"required": ["summary"]}, "then": {"properties": {"summary": health}}},
        "else": {"if": {"required": ["diagnosis"]}, "else": {"properties": {"summary": health}}},
        "dependentSchemas": {"dependentSchemas": {"diagnosis": {"properties": {"summary": health}}}},
        "patternProperties": {"patternProperties": {"^sum": health}},
        "additionalProperties": {"allOf": [{"properties": {"plan": {}}, "additionalProperties": health}]},
        "ref": {"allOf": [{"$ref": "#/$defs/more"}], "$defs": {"more": {"properties": {"summary": health}}}},
        "new-field": {"allOf": [{"properties": {"diagnose": health}}]},
    }
    form = copy.deepcopy(FORMS[FORM])
    form["properties"]["summary"] = {"type": "string", "title": "Oppsummering", "x-category": "coordination"}
    form.update(copy.deepcopy(placements[where]))
    return {**FORMS, FORM: form}


PLACES = [
    "allOf",
    "anyOf",
    "oneOf",
    "if-then",
    "else",
    "dependentSchemas",
    "patternProperties",
    "additionalProperties",
    "ref",
    "new-field",
]


@pytest.mark.django_db
@pytest.mark.parametrize("where", PLACES)
def test_the_deploy_refuses_a_category_written_beside_the_fields(where):
    with pytest.raises(InvalidModel) as refused:
        deploy_definition(actor=None, bpmn_xml=care_notice_model(), forms=_placed(where), check_permission=False)
    (found,) = [found for found in refused.value.issues if found.code == "form-level-category"]
    assert found.element_id == "Task_prepare" and found.params["form"] == FORM
    expected = {"new-field": "diagnose", "patternProperties": "/patternProperties/^sum"}.get(where, "summary")
    if where == "additionalProperties":
        expected = "/allOf/0/additionalProperties"
    assert found.params["field"] == expected
    assert FORM in str(found.message)

    # Beside a field of the form, its own category or none says nothing new: deployed.
    if where not in ("new-field", "patternProperties", "additionalProperties"):
        for category in (None, "coordination"):
            deploy_definition(
                actor=None, bpmn_xml=care_notice_model(), forms=_placed(where, category), check_permission=False
            )


def _member(agencies, kind, username, role=Role.MEMBER):
    user = get_user_model().objects.create_user(username)
    Membership.objects.create(user=user, agency=agencies[kind], role=role)
    return user


@pytest.mark.django_db
def test_the_editors_validate_names_the_form_task_and_field(agencies):
    admin = _member(agencies, "housing", "prosess-kat", Role.PROCESS_ADMIN)
    client = Client()
    client.force_login(admin)
    body = {"bpmn_xml": care_notice_model(), "forms": _placed("if-then")}
    answer = client.post(
        reverse("process-validate"), json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="nb"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["valid"] is False
    (found,) = [found for found in answer.json()["issues"] if found["code"] == "form-level-category"]
    assert found["element_id"] == "Task_prepare"
    assert found["message"] == (
        f"skjemaet «{FORM}» for «Task_prepare» gir feltet «summary» en datakategori utenfor feltets egen egenskap "
        "(i allOf, anyOf, oneOf, if/then/else, dependentSchemas, patternProperties eller additionalProperties i "
        "skjemaet); et felts kategori leses bare fra feltets egen egenskap: skriv x-category på feltet i «properties»"
    )


def _case_data(user, case):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
    answer = client.get(reverse("api-case", args=[case.pk]))
    assert answer.status_code == 200
    return answer


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["if-then", "patternProperties"])
def test_a_version_deployed_before_shows_such_a_field_to_its_writer_and_the_coordinator_only(agencies, where):
    definition = deploy_definition(
        actor=None, bpmn_xml=care_notice_model(), forms=_placed(where, None), check_permission=False
    )
    # As deployed before validate and deploy refused it: the summary marked health beside it.
    ProcessDefinition.objects.filter(pk=definition.definition.pk).update(forms_json=json.dumps(_placed(where)))
    clear_caches()
    health = _member(agencies, "health", "helse-kat")
    nav = _member(agencies, "nav", "nav-kat")
    coordinator = _member(agencies, "housing", "bolig-kat", Role.COORDINATOR)
    case = services.start_case(
        actor=health,
        process_key="care_notice",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("nav", "health", "housing")},
    )
    (task,) = open_tasks(case)
    services.complete_task(
        actor=health, task_id=task.pk, data={"applicant_id": "A-17", "diagnosis": "F20", "summary": SUMMARY_TEXT}
    )

    answer = _case_data(nav, case)
    assert SUMMARY_TEXT not in answer.content.decode()
    assert "summary" not in answer.json()["data"].get("coordination", {}).get("values", {})
    for reader in (health, coordinator):  # its writer, and the coordinator (restricted)
        assert _case_data(reader, case).json()["data"]["restricted"]["values"]["summary"] == SUMMARY_TEXT
    # The process's description says so too, as the engine decides it.
    admin = _member(agencies, "housing", "prosess-kat2", Role.PROCESS_ADMIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(admin)[0]}")
    described = client.get(reverse("api-process-definition", args=["care_notice"]))
    assert described.status_code == 200, described.content
    assert described.json()["fields"]["summary"] == "restricted"


UNDECLARED = "Tidligere notat: rusbehandling avbrutt i mars"


@pytest.mark.django_db
def test_a_key_no_form_declares_is_shown_to_no_other_agency(agencies):
    """A case may hold a key that no form of its version declares: a connector's answer under
    its result variable, a field of the version the case was moved from. It was grouped as
    restricted, so the coordinator was shown the health service's value whatever its
    category had been; now only the agency that wrote it sees it (in the API, on the case
    page and on the task page), and one written by none (the engine) no one."""
    from tests.workflows.jobs.test_message_payload_consent import care_move_in_model
    from workflows.models import Case

    deploy_definition(actor=None, bpmn_xml=care_move_in_model(), forms=FORMS, check_permission=False)
    health = _member(agencies, "health", "helse-udekl")
    nav = _member(agencies, "nav", "nav-udekl")
    coordinator = _member(agencies, "housing", "bolig-udekl", Role.COORDINATOR)
    case = services.start_case(
        actor=coordinator,
        process_key="care_move_in",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("nav", "health", "housing")},
    )
    (task,) = open_tasks(case)  # NAV's
    case.refresh_from_db()
    Case.objects.filter(pk=case.pk).update(
        data={**case.data, "legacy_note": UNDECLARED, "engine_note": UNDECLARED + " (motor)"},
        data_sources={**case.data_sources, "legacy_note": agencies["health"].pk, "engine_note": None},
    )

    for reader in (nav, coordinator):
        assert UNDECLARED not in _case_data(reader, case).content.decode()
        page = Client()
        page.force_login(reader)
        shown = page.get(reverse("case", args=[case.pk]))
        assert shown.status_code == 200
        assert UNDECLARED not in shown.content.decode()
    page = Client()
    page.force_login(nav)
    shown = page.get(reverse("task", args=[task.pk]))
    assert shown.status_code == 200
    assert UNDECLARED not in shown.content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue(nav)[0]}")
    shown = api.get(reverse("api-task", args=[task.pk]))
    assert shown.status_code == 200
    assert UNDECLARED not in shown.content.decode()

    # Its writer sees it; the value the engine wrote, no agency.
    restricted = _case_data(health, case).json()["data"]["restricted"]["values"]
    assert restricted["legacy_note"] == UNDECLARED and "engine_note" not in restricted
