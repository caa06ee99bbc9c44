"""The outcome form and the case's outcome in the web UI, in bokmål."""

import re

import pytest

from tests.ids import tid
from tests.workflows.helpers import complete, open_tasks
from workflows.models import CaseOutcome

from .conftest import open_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def outcome_task(prison_case, users):
    complete(open_tasks(prison_case)[0], {"has_home": True}, actor=users["kari"])
    complete(open_tasks(prison_case)[0], actor=users["nils"])
    return open_task(prison_case, "Task_record_outcome")


def test_the_outcome_form_offers_the_kinds_by_their_bokmal_labels(web, outcome_task):
    html = web("bjorn").get(f"/tasks/{tid(outcome_task.pk)}/").content.decode()
    assert re.search(r'<option value="dod"\s*>Død</option>', html)
    assert re.search(r'<option value="eid_med_startlan"\s*>Eid bolig med startlån</option>', html)
    assert "Begrunnelse (må fylles ut når personen ikke er bosatt)" in html


def test_a_missing_reason_is_shown_at_the_field_and_the_outcome_on_the_case_page(web, outcome_task):
    bjorn = web("bjorn")
    url = f"/tasks/{tid(outcome_task.pk)}/"
    refused = bjorn.post(url, {"outcome": "ikke_bosatt"})
    assert refused.status_code == 400
    errors = dict(
        re.findall(r'<p class="field-error" id="field-([a-z_]+)-error">([^<]*)</p>', refused.content.decode())
    )
    assert errors["outcome_reason"].strip() == "feltet må fylles ut"
    assert not CaseOutcome.objects.exists()

    done = bjorn.post(url, {"outcome": "ikke_bosatt", "outcome_reason": "Venter på kommunal bolig"})
    assert done.status_code == 302
    page = bjorn.get(f"/cases/{outcome_task.case_id}/").content.decode()
    assert re.search(r'<dd id="outcome">Ikke bosatt: Venter på kommunal bolig</dd>', page)
    # NAV takes part without consent for housing data: the outcome is masked with the reason
    nav_page = web("nils").get(f"/cases/{outcome_task.case_id}/").content.decode()
    assert "Venter på kommunal bolig" not in nav_page and "Ikke bosatt" not in nav_page
    assert re.search(r'<dd id="outcome"><span class="muted">[^<]*samtykket[^<]*</span></dd>', nav_page)


def test_an_admin_adds_an_outcome_kind_and_may_retire_but_not_delete_one(db, client, django_user_model):
    from workflows.models import OutcomeKind

    admin = django_user_model.objects.create_superuser("root", "root@example.org", "x")
    client.force_login(admin)
    assert client.get("/admin/workflows/outcomekind/").status_code == 200
    added = client.post(
        "/admin/workflows/outcomekind/add/",
        {
            "code": "institusjon",
            "label": "Fikk plass i institusjon",
            "description": "",
            "needs_reason": "on",
            "position": 55,
            "active": "on",
        },
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    kind = OutcomeKind.objects.get(code="institusjon")
    assert kind.needs_reason and not kind.has_home and kind.active
    # the code of a saved kind is read-only; a kind is never deleted
    change = client.get(f"/admin/workflows/outcomekind/{kind.pk}/change/").content.decode()
    assert 'name="code"' not in change
    assert client.post(f"/admin/workflows/outcomekind/{kind.pk}/delete/", {"post": "yes"}).status_code == 403
    assert OutcomeKind.objects.filter(code="institusjon").exists()
