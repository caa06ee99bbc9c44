"""The access log is append-only: model, queryset, admin and (on PostgreSQL) the database."""

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction

from permissions.models import AccessLog, AppendOnlyError


@pytest.fixture
def row(users, prison_case):
    return AccessLog.objects.create(
        user=users["nils"], username="nils", role="member", agency=prison_case.coordinator_agency,
        case=prison_case, person=prison_case.person, category="health", action="read",
        basis="consent:1",
    )


def test_rows_can_be_added(row):
    assert AccessLog.objects.filter(pk=row.pk).exists()


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
    assert row.basis == "consent:1"


def test_delete_refused(row):
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=row.pk).delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.filter(pk=row.pk).exists()


def test_protected_references(row, prison_case):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        prison_case.delete()


@pytest.mark.postgres
def test_database_refuses_raw_update_and_delete(row):
    for sql in (
        "UPDATE permissions_accesslog SET basis = 'x' WHERE id = %s",
        "DELETE FROM permissions_accesslog WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(sql, [row.pk])
    row.refresh_from_db()
    assert row.basis == "consent:1"


def test_admin_is_read_only(rf, users, row):
    model_admin = admin.site._registry[AccessLog]
    request = rf.get("/")
    request.user = users["ada"]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)
