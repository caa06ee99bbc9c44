"""case_data_for / person_for: grouping, masking, access-log rows, the national id."""

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from permissions import policy
from permissions.models import AccessLog
from permissions.policy import case_data_for, person_for
from workflows import selectors
from workflows.selectors import case_field_rules as fields_of


def test_grouping_by_category(users, prison_case):
    views = case_data_for(users["bjorn"], prison_case, fields_of(prison_case), log=False)
    # Every category the process uses appears, masked or not, in a fixed order.
    assert list(views) == ["housing", "economy", "health", "justice", "coordination", "restricted"]
    assert views["economy"].values == {"rent_arrears_nok": 12000}
    # A key no form declares is its writer's only (the health service's), not the coordinator's.
    assert views["restricted"].values == {} and not views["restricted"].visible
    assert views["coordination"].values == {"consent_nav": True}
    assert not views["health"].visible
    # Only the shared release date of justice; the rest of it stays the prison's.
    assert views["justice"].values == {"expected_release_date": "2027-03-01"} and views["justice"].reason


def test_masked_categories_are_listed_even_without_values(users, discharge_case):
    views = case_data_for(users["nils"], discharge_case, fields_of(discharge_case))
    assert "health" in views and not views["health"].visible
    assert views["health"].reason
    assert not AccessLog.objects.exists()  # nothing revealed, nothing logged


def test_one_log_row_per_revealed_category_per_call(users, agencies, prison_case):
    kari = users["kari"]
    case_data_for(kari, prison_case, fields_of(prison_case))
    rows = AccessLog.objects.filter(user=kari)
    assert sorted(rows.values_list("category", "basis")) == [
        ("coordination", "participant"),
        ("housing", "own-data"),
        ("justice", "own-service"),
    ]
    assert set(rows.values_list("agency", flat=True)) == {agencies["prison"].pk}
    case_data_for(kari, prison_case, fields_of(prison_case))
    assert AccessLog.objects.filter(user=kari).count() == 6
    case_data_for(kari, prison_case, fields_of(prison_case), log=False)
    assert AccessLog.objects.filter(user=kari).count() == 6
    case_data_for(kari, prison_case, fields_of(prison_case), action="export")
    assert AccessLog.objects.filter(user=kari, action="export").count() == 3


def test_outsiders_get_everything_masked_and_nothing_logged(users, prison_case):
    for username in ("siri", "ada", "aud", "oscar"):
        views = case_data_for(users[username], prison_case, fields_of(prison_case))
        assert all(not view.visible and view.values == {} and view.reason for view in views.values())
        assert person_for(users[username], prison_case, fields_of(prison_case)) == {
            "name": None,
            "national_id": None,
            "national_id_masked": True,
        }
    assert not AccessLog.objects.exists()


def test_national_id_masked(users, prison_case):
    task = prison_case.tasks.get(element_id="Task_intake_interview")
    for username in ("kari", "nils", "helga", "bjorn"):
        person = person_for(users[username], prison_case, fields_of(prison_case), task=task)
        assert person == {"name": "Ola Nordmann", "national_id": "179120*****", "national_id_masked": True}
    assert not AccessLog.objects.exists()


@pytest.fixture
def intake_needs_identity(prison_case, monkeypatch):
    """Field rules as if the intake form asked for the national id (no shipped form does yet)."""
    info = fields_of(prison_case)
    return policy.FieldRules(
        {**info.fields, "national_id": "identity"},
        ("identity", *info.categories),
        frozenset({"Task_intake_interview"}),
    )


def test_national_id_in_full_for_the_task_that_needs_it(users, prison_case, intake_needs_identity):
    task = prison_case.tasks.get(element_id="Task_intake_interview")
    kari, nils = users["kari"], users["nils"]
    assert person_for(kari, prison_case, intake_needs_identity)["national_id"] == "179120*****"  # no task
    assert person_for(nils, prison_case, intake_needs_identity, task=task)["national_id"] == "179120*****"  # not his
    full = person_for(kari, prison_case, intake_needs_identity, task=task)
    assert full == {"name": "Ola Nordmann", "national_id": "17912099997", "national_id_masked": False}
    row = AccessLog.objects.get(category="identity")
    assert row.user == kari and row.basis == f"task:{task.pk}"

    # A national id in the case data follows the same rule.
    prison_case.data = {**prison_case.data, "national_id": "17912099997"}
    prison_case.save()
    assert case_data_for(nils, prison_case, intake_needs_identity, task=task)["identity"].values == {
        "national_id": "179120*****"
    }
    assert case_data_for(kari, prison_case, intake_needs_identity, task=task)["identity"].values == {
        "national_id": "17912099997"
    }
    assert case_data_for(kari, prison_case, intake_needs_identity)["identity"].values == {"national_id": "179120*****"}

    # Once the task is done, the need is gone.
    task.status = "completed"
    task.save()
    assert person_for(kari, prison_case, intake_needs_identity, task=task)["national_id_masked"] is True


@pytest.mark.parametrize("in_case_data", [False, True])
def test_opening_a_task_that_needs_the_national_id_writes_its_reads_in_one_insert(
    users, agencies, prison_case, intake_needs_identity, monkeypatch, in_case_data
):
    """The national id's read was an INSERT of its own (``AccessLog.objects.create``) beside
    the one of the case data's reads; with the national id in the case data too, the same
    read was written twice."""
    task = prison_case.tasks.get(element_id="Task_intake_interview")
    runtime = selectors.runtime_for(task.instance.definition_id)
    needs_identity = dataclasses.replace(runtime, field_rules=intake_needs_identity)
    monkeypatch.setattr(selectors, "runtime_for", lambda definition_id: needs_identity)
    if in_case_data:
        prison_case.data = {**prison_case.data, "national_id": "17912099997"}
        prison_case.save()
    kari = users["kari"]

    with CaptureQueriesContext(connection) as queries:
        view = selectors.task_view_for(kari, task.pk)

    assert view.person["national_id"] == "17912099997"
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "permissions_accesslog"')]
    assert len(inserts) == 1, inserts
    rows = AccessLog.objects.filter(user=kari)
    assert sorted(rows.values_list("category", "basis")) == [
        ("coordination", "participant"),
        ("housing", "own-data"),
        ("identity", f"task:{task.pk}"),
        ("justice", "own-service"),
    ]
    assert {(row.agency_id, row.role, row.person_id, row.action) for row in rows} == {
        (agencies["prison"].pk, rows[0].role, prison_case.person_id, "read")
    }
    assert len({row.at for row in rows}) == 1


def test_field_rules_identity_declarations():

    forms = {
        "a.json": {"properties": {"national_id": {"type": "string", "x-category": "identity"}}},
        "b.json": {"x-identity": "full", "properties": {}},
        "c.json": {"properties": {"national_id": {"type": "string"}}},  # restricted: no
        "d.json": {"properties": {"name": {"type": "string", "x-category": "identity"}}},
    }
    tasks = {
        "A": {"form": "a.json"},
        "B": {"form": "b.json"},
        "C": {"form": "c.json"},
        "D": {"form": "d.json"},
        "E": {"form": None, "identity": "full"},
        "F": {"form": None},
    }
    info = policy.field_rules({"fields": {}, "user_tasks": tasks}, forms)
    assert info.full_identity_tasks == {"A", "B", "E"}


def test_x_share_shares_only_what_the_law_shares_by_default():
    """A version deployed before the lint refused it may mark a health field, an economy
    field or a field without a category "x-share": "participants": it shares none of them
    (they go to another agency with consent or a legal basis), only the justice field."""
    forms = {
        "f.json": {
            "type": "object",
            "properties": {
                "release_date": {"type": "string", "x-category": "justice", "x-share": "participants"},
                "diagnosis": {"type": "string", "x-category": "health", "x-share": "participants"},
                "debt": {"type": "string", "x-category": "economy", "x-share": "participants"},
                "note": {"type": "string", "x-share": "participants"},
            },
        }
    }
    fields = {"release_date": "justice", "diagnosis": "health", "debt": "economy", "note": "restricted"}
    info = policy.field_rules({"fields": fields, "user_tasks": {"A": {"form": "f.json"}}}, forms)
    assert info.shared_fields == {"release_date"}


def test_release_date_is_shared_with_every_participant_but_the_rest_of_justice_is_not(users, agencies, prison_case):
    """domain.md: justice is the prison's; others see by default only the release date and
    the housing conditions of parole (form fields marked "x-share": "participants")."""
    from permissions.models import AccessLog
    from permissions.policy import case_data_for

    prison_case.data = {**prison_case.data, "released_on_parole": True}
    prison_case.data_sources = {**prison_case.data_sources, "released_on_parole": agencies["prison"].pk}
    prison_case.save(update_fields=["data", "data_sources"])

    for username in ("bjorn", "nils", "helga"):
        justice = case_data_for(users[username], prison_case, fields_of(prison_case))["justice"]
        assert justice.values == {"expected_release_date": "2027-03-01"}, username
        assert justice.basis == "shared-field" and justice.reason  # the rest stays masked
    assert AccessLog.objects.filter(case=prison_case, category="justice", basis="shared-field").count() == 3

    prison = case_data_for(users["kari"], prison_case, fields_of(prison_case))["justice"]
    assert prison.values == {"expected_release_date": "2027-03-01", "released_on_parole": True}
    for outsider in ("siri", "ada", "aud", "oscar"):
        assert case_data_for(users[outsider], prison_case, fields_of(prison_case))["justice"].values == {}


def test_x_share_reads_the_field_s_category_in_the_model_not_the_marking_form_s():
    """A form no task uses is not linted; one that called a health field justice and marked
    it "x-share": "participants" shared the health field (the category is the model's: the
    forms its tasks use)."""
    forms = {
        "used.json": {"type": "object", "properties": {"diagnosis": {"type": "string", "x-category": "health"}}},
        "spare.json": {
            "type": "object",
            "properties": {"diagnosis": {"type": "string", "x-category": "justice", "x-share": "participants"}},
        },
    }
    info = policy.field_rules({"fields": {"diagnosis": "health"}, "user_tasks": {"A": {"form": "used.json"}}}, forms)
    assert info.shared_fields == frozenset()
