"""The case's outcome over HTTP: recorded through the outcome task, shown on the case to
participants under the same policy as its housing data (masked, with the reason, and logged)."""

import json
from datetime import date

import pytest
from django.test import Client

from permissions.models import AccessLog
from tests.ids import tid
from tests.workflows.helpers import complete, open_tasks

pytestmark = pytest.mark.django_db

NOT_HOUSED = {"outcome": "ikke_bosatt", "outcome_reason": "Ønsket ikke tilbudt bolig i sentrum"}


@pytest.fixture
def outcome_task(prison_case, users):
    complete(open_tasks(prison_case)[0], {"has_home": True}, actor=users["kari"])
    complete(open_tasks(prison_case)[0], actor=users["nils"])
    (task,) = open_tasks(prison_case)
    assert task.element_id == "Task_record_outcome"
    return task


def finish(client, task, data):
    assert client.post(f"/api/v1/tasks/{tid(task.pk)}/claim/").status_code == 200
    return client.post(f"/api/v1/tasks/{tid(task.pk)}/complete/", {"data": data}, format="json")


def test_an_open_case_has_no_outcome_yet(prison_case, client_for):
    body = client_for("bjorn").get(f"/api/v1/cases/{prison_case.pk}/").json()
    assert body["outcome"] is None


def test_the_outcome_form_offers_the_admin_list_with_labels(outcome_task, client_for):
    form = client_for("bjorn").get(f"/api/v1/tasks/{tid(outcome_task.pk)}/").json()["form_schema"]
    kind = form["properties"]["outcome"]
    assert kind["enum"][:3] == ["bosatt", "bolig_beholdt", "flyttet_til_annen_bolig"]
    assert kind["x-enum-labels"]["ikke_bosatt"] == "Ikke bosatt" and kind["x-outcome"] == "kind"


def test_a_missing_reason_answers_400_naming_the_field_and_records_nothing(outcome_task, client_for):
    bjorn = client_for("bjorn")
    answer = finish(bjorn, outcome_task, {"outcome": "ikke_bosatt"})
    assert answer.status_code == 400
    assert [(e["field"], e["code"], e["message"]) for e in answer.json()["errors"]] == [
        ("outcome_reason", "field.required", "this field is required")
    ]
    assert bjorn.get(f"/api/v1/cases/{outcome_task.case_id}/").json()["outcome"] is None


def test_participants_see_the_outcome_as_they_see_housing_data(
    outcome_task, client_for, agencies, users, consent_basis
):
    bjorn, nils, kari = client_for("bjorn"), client_for("nils"), client_for("kari")
    assert finish(bjorn, outcome_task, NOT_HOUSED).status_code == 200
    url = f"/api/v1/cases/{outcome_task.case_id}/"

    shown = bjorn.get(url).json()
    assert shown["status"] == "completed"
    assert shown["outcome"]["visible"] is True and shown["outcome"]["basis"] == "own-service"
    values = shown["outcome"]["values"]
    assert values["kind"] == "ikke_bosatt" and values["kind_label"] == "Ikke bosatt"
    assert values["reason"] == NOT_HOUSED["outcome_reason"] and values["has_home"] is False
    assert values["closed_date"] == date.today().isoformat() and values["housed_date"] is None

    # NAV takes part but has no consent for housing data: masked, the reason said, nothing leaks.
    masked = nils.get(url).json()
    assert masked["outcome"] == {
        "visible": False,
        "values": None,
        "reason": masked["data"]["housing"]["reason"],
        "basis": None,
    }
    assert "ikke_bosatt" not in json.dumps(masked) and "sentrum" not in json.dumps(masked)
    # The prison sees the housing data it wrote itself, not the housing contact's outcome.
    prison = kari.get(url).json()
    assert prison["data"]["housing"]["visible"] is True and prison["outcome"]["visible"] is False

    consent = bjorn.post(
        f"/api/v1/cases/{outcome_task.case_id}/consents/",
        {
            "agency": agencies["nav"].pk,
            "categories": ["housing"],
            "purpose": "Oppfølging av boligsaken",
            "legal_basis": consent_basis.pk,
        },
        format="json",
    )
    assert consent.status_code == 201
    shown = nils.get(url).json()["outcome"]
    assert shown["visible"] is True and shown["values"]["kind"] == "ikke_bosatt"
    assert shown["basis"] == f"consent:{consent.json()['id']}"
    assert AccessLog.objects.filter(
        user=users["nils"], case_id=outcome_task.case_id, category="housing", consent_id=consent.json()["id"]
    ).exists()


def test_outsiders_learn_nothing(outcome_task, client_for):
    assert finish(client_for("bjorn"), outcome_task, NOT_HOUSED).status_code == 200
    for name in ("siri", "mona", "ada", "oscar"):
        assert client_for(name).get(f"/api/v1/cases/{outcome_task.case_id}/").status_code == 404


def test_a_later_write_of_the_outcome_field_by_another_agency_does_not_reveal_it(outcome_task, client_for, agencies):
    """NAV never sees the outcome through its own-data rule by writing the kind field
    itself (a message payload or start data could): it shows through the recorder's field."""
    assert finish(client_for("bjorn"), outcome_task, NOT_HOUSED).status_code == 200
    case = outcome_task.case
    case.refresh_from_db()
    case.data = {**case.data, "outcome": "bosatt"}
    case.data_sources = {**case.data_sources, "outcome": agencies["nav"].pk}
    case.save(update_fields=["data", "data_sources"])
    seen = client_for("nils").get(f"/api/v1/cases/{case.pk}/").json()
    assert seen["data"]["housing"]["values"] == {"outcome": "bosatt"}  # NAV's own value, as the policy says
    assert seen["outcome"]["visible"] is False and "ikke_bosatt" not in json.dumps(seen)


def test_a_corrected_outcome_is_shown_corrected_and_the_old_text_nowhere(outcome_task, client_for, users):
    """The outcome's columns are copied from its form when the task completes. A correction
    of the form's reason (a wrong one: another person's circumstances, say) replaced the value
    in the case's data and workflow, but the outcome kept the old text: the case page's
    *Utfall*, the API's ``outcome`` and the archive's case file went on showing it. Now the
    outcome follows the correction of each of its fields."""
    bjorn = client_for("bjorn")
    assert finish(bjorn, outcome_task, NOT_HOUSED).status_code == 200
    url = f"/api/v1/cases/{outcome_task.case_id}/"
    corrected = "Flyttet til søsteren sin i Halden"
    body = {"field": "outcome_reason", "value": corrected, "reason": "Feil begrunnelse registrert"}
    assert bjorn.post(f"{url}corrections/", body, format="json").status_code == 201

    shown = bjorn.get(url).json()
    assert shown["outcome"]["values"]["reason"] == corrected
    assert NOT_HOUSED["outcome_reason"] not in json.dumps(shown)
    page = Client()
    page.force_login(users["bjorn"])
    text = page.get(f"/cases/{outcome_task.case_id}/").content.decode()
    assert corrected in text and NOT_HOUSED["outcome_reason"] not in text

    # The kind follows too, and a kind that is none of the admin's list is refused naming value.
    body = {"field": "outcome", "value": "flyttet_fra_kommunen", "reason": "Feil utfall registrert"}
    assert bjorn.post(f"{url}corrections/", body, format="json").status_code == 201
    assert bjorn.get(url).json()["outcome"]["values"]["kind"] == "flyttet_fra_kommunen"
    body = {"field": "outcome", "value": "ingen_slik", "reason": "Feil utfall registrert"}
    refused = bjorn.post(f"{url}corrections/", body, format="json")
    assert refused.status_code == 400 and [e["field"] for e in refused.json()["errors"]] == ["value"]
    assert bjorn.get(url).json()["outcome"]["values"]["kind"] == "flyttet_fra_kommunen"
