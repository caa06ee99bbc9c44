"""The access log: every read of sensitive case data through the API and the case page
writes exactly one row per category shown, with the user's agency, role and basis; the
rows are append-only (model, queryset, admin and, on PostgreSQL, the database)."""

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from permissions.models import AccessLog, AppendOnlyError
from workflows.services import record_consent

LOGGED = (
    "user__username",
    "username",
    "agency__kind",
    "role",
    "category",
    "basis",
    "consent_id",
    "action",
    "case_id",
    "person_id",
)


@pytest.fixture
def health_consent(users, agencies, prison_case, consent_basis):
    """The person lets NAV see health data (recorded by the housing coordinator)."""
    return record_consent(
        actor=users["bjorn"],
        case=prison_case.pk,
        agency=agencies["nav"].pk,
        categories=["health"],
        purpose="Oppfølging av bolig og helse",
        legal_basis=consent_basis,
    )


def read_over_api(user, case):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200, response.content
    return response.json()


def read_case_page(user, case):
    client = Client()
    client.force_login(user)
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return response


def logged(**filters):
    return sorted(AccessLog.objects.filter(**filters).values_list(*LOGGED))


def expected_nav_rows(case, consent, username="nils"):
    """What a NAV member is shown of the fixture's case: the coordination field (every
    participant), the economy field (NAV's own service), the release date (its form shares
    it with every participant) and, with the consent, the treatment plan."""
    row = (username, username, "nav", "member")
    at = ("read", case.pk, case.person_id)
    return sorted(
        [
            (*row, "coordination", "participant", None, *at),
            (*row, "economy", "own-service", None, *at),
            (*row, "health", f"consent:{consent.pk}", consent.pk, *at),
            (*row, "justice", "shared-field", None, *at),
        ]
    )


@pytest.fixture
def row(users, prison_case, health_consent):
    """The health row that nils's read of the case wrote (basis: the consent)."""
    read_over_api(users["nils"], prison_case)
    return AccessLog.objects.get(user=users["nils"], category="health")


def test_a_read_over_the_api_logs_exactly_the_categories_shown(users, prison_case, health_consent):
    assert not AccessLog.objects.exists()

    body = read_over_api(users["nils"], prison_case)

    shown = {category for category, view in body["data"].items() if view["values"]}
    assert shown == {"coordination", "economy", "health", "justice"}
    assert body["data"]["health"]["values"] == {"treatment_plan": "LAR, oppfølging hver uke"}
    assert not body["data"]["housing"]["values"] and not body["data"]["restricted"]["values"]
    assert logged() == expected_nav_rows(prison_case, health_consent)


def test_without_the_consent_health_is_neither_shown_nor_logged(users, prison_case):
    body = read_over_api(users["nora"], prison_case)
    assert body["data"]["health"]["values"] == {}
    assert [category for _u, _n, _a, _r, category, *_ in logged()] == ["coordination", "economy", "justice"]


def test_a_case_page_read_logs_the_same_rows_and_each_read_logs_again(users, prison_case, health_consent):
    # The page lists the consents too: one more row, theirs (``item`` "consents").
    consents = [row for row in expected_nav_rows(prison_case, health_consent) if row[4] == "coordination"]
    read_case_page(users["nils"], prison_case)
    assert logged(item="") == expected_nav_rows(prison_case, health_consent)
    assert logged(item="consents") == consents

    read_case_page(users["nils"], prison_case)
    assert logged(item="") == sorted(expected_nav_rows(prison_case, health_consent) * 2)
    assert logged(item="consents") == consents * 2


def test_the_coordinator_is_logged_with_her_own_role_and_bases(users, prison_case):
    read_over_api(users["bjorn"], prison_case)
    at = ("read", prison_case.pk, prison_case.person_id)
    bjorn = ("bjorn", "bjorn", "housing", "coordinator")
    assert logged() == sorted(
        [
            (*bjorn, "coordination", "participant", None, *at),
            (*bjorn, "economy", "coordinator", None, *at),
            (*bjorn, "housing", "own-service", None, *at),
            (*bjorn, "justice", "shared-field", None, *at),
            # nothing restricted: the health service's note is under a key no form declares
        ]
    )


def test_who_does_not_see_the_case_reads_nothing_and_is_not_logged(users, prison_case, health_consent):
    for name in ("siri", "ada", "aud", "oscar"):
        client = APIClient()
        client.force_authenticate(users[name])
        assert client.get(f"/api/v1/cases/{prison_case.pk}/").status_code == 404
    assert not AccessLog.objects.exists()


def test_update_refused(row):
    row.basis = "own-data"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=row.pk).update(basis="own-data")
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.bulk_update([row], ["basis"])
    # A new object with an existing pk is an INSERT, which the primary key refuses.
    clone = AccessLog(pk=row.pk, user=row.user, username="x", category="health", basis="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        clone.save()
    row.refresh_from_db()
    assert row.basis == f"consent:{row.consent_id}"


def test_delete_refused(row):
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=row.pk).delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.filter(pk=row.pk).exists()


def test_a_logged_read_protects_the_case_the_person_and_the_user(users, prison_case):
    from django.db.models import ProtectedError

    read_over_api(users["nora"], prison_case)  # no consent here: only the log refers to nora
    assert AccessLog.objects.filter(user=users["nora"]).exists()
    for referenced in (prison_case, prison_case.person, users["nora"]):
        with pytest.raises(ProtectedError) as raised, transaction.atomic():
            referenced.delete()
        assert {type(obj) for obj in raised.value.protected_objects} >= {AccessLog}, referenced


@pytest.mark.postgres
def test_database_refuses_raw_update_and_delete(row):
    for sql in (
        "UPDATE permissions_accesslog SET basis = 'x' WHERE id = %s",
        "DELETE FROM permissions_accesslog WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [row.pk])
    row.refresh_from_db()
    assert row.basis == f"consent:{row.consent_id}"


def test_admin_is_read_only(rf, users, row):
    model_admin = admin.site._registry[AccessLog]
    request = rf.get("/")
    request.user = users["ada"]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)
