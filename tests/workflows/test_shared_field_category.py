"""An x-share counts on a field whose category in the model is justice. The lint reads the
forms the model's tasks use; a form deployed beside them that no task uses was read by
``field_rules`` alone, so one that called a health field justice and marked it
"x-share": "participants" shared the health field with every participant (NAV read whether
the person needs treatment), and the gateway reading it hid no branch. Stored versions: the
paths' categories are filled in again (migration 0043)."""

from __future__ import annotations

import datetime
import importlib
import json

import pytest
from django.apps import apps
from django.utils import timezone

from bpmn.models import ProcessDefinition
from bpmn.registry import runtime_for
from permissions.rules import path_mask
from tests.api import test_case_completed_hidden_end as two_ends
from tests.api.test_timer_firing_inference import ESCALATION, TIMER, negotiating
from tests.clients import api
from tests.clock import Clock
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import ProcessInstance, Task

pytestmark = pytest.mark.django_db

SPARE = {
    "type": "object",
    "properties": {"needs_treatment": {"type": "boolean", "x-category": "justice", "x-share": "participants"}},
}


@pytest.fixture
def spare_form(monkeypatch):
    from bpmn import services as bpmn_services

    deploy = bpmn_services.deploy_definition

    def with_spare(**kwargs):
        return deploy(**{**kwargs, "forms": {**kwargs["forms"], "spare.schema.json": SPARE}})

    monkeypatch.setattr(bpmn_services, "deploy_definition", with_spare)
    two_ends.deploy()
    return ProcessDefinition.objects.get(key="Proc_two_ends")


def test_a_spare_form_shares_no_health_field(spare_form, users, agencies):
    assert runtime_for(spare_form).field_rules.shared_fields == frozenset()
    assert "health" in spare_form.metadata["path_categories"]["Task_treat"]
    case = two_ends.finished(users, agencies, needs_treatment=True)
    answer = api(users["nils"]).get(f"/api/v1/cases/{case.pk}/")
    assert answer.status_code == 200
    assert "needs_treatment" not in json.dumps(answer.json())


@pytest.fixture
def fired(shipped, users, agencies, monkeypatch):
    """An eviction case whose week-before timer has fired (its escalation task made)."""
    clock = Clock(monkeypatch, timezone.now())
    case = negotiating(users, agencies, PERSON, 10)
    clock.set(case.instances.get().next_timer_at + datetime.timedelta(seconds=1))
    assert services.fire_timer("w")[0] == "fired"
    assert Task.objects.filter(case=case, element_id=ESCALATION).exists()
    return case


def test_stored_versions_get_their_paths_categories_again(fired):
    """A stored version with such a spare form (the eviction date, housing's, called justice
    and shared): the timer a week before the eviction reads it, and what its firing did is
    housing's branch again (migration 0043)."""
    definition = ProcessDefinition.objects.get(pk=fired.instances.get().definition_id)
    stored = dict(definition.metadata["path_categories"])
    assert stored[ESCALATION] == ["housing"]
    spare = {
        "type": "object",
        "properties": {"eviction_date": {"type": "string", "x-category": "justice", "x-share": "participants"}},
    }
    before = {element: cats for element, cats in stored.items() if element not in (TIMER, ESCALATION)}
    ProcessDefinition.objects.filter(pk=definition.pk).update(
        metadata={**definition.metadata, "path_categories": before},
        forms_json=json.dumps({**definition.forms, "spare.schema.json": spare}),
    )
    Task.objects.filter(case=fired).update(path_categories=0)
    ProcessInstance.objects.filter(case=fired).update(timer_path_categories=0)
    importlib.import_module("workflows.migrations.0043_shared_fields_by_model_category").fill(apps, None)
    definition.refresh_from_db()
    assert definition.metadata["path_categories"] == stored
    assert Task.objects.get(case=fired, element_id=ESCALATION).path_categories == path_mask(["housing"])
    assert ProcessInstance.objects.get(case=fired).timer_path_categories == path_mask(["housing"])
