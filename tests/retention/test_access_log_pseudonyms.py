"""The access log stays append-only; the one change it allows is the erasure's
pseudonymisation: the person replaced by a key, nothing else touched."""

import pytest
from django.db import DatabaseError, connection, transaction

from permissions.models import AccessLog, AppendOnlyError
from workflows.models import Person

pytestmark = pytest.mark.postgres


@pytest.fixture
def row(users):
    person = Person.objects.create(name="Per Test", national_id="01010112345")
    return AccessLog.objects.create(user=users["bjorn"], username="bjorn", person=person, category="health", basis="x")


def raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_pseudonymising_replaces_only_the_person(row):
    assert AccessLog.objects.filter(pk=row.pk).pseudonymise("k" * 64) == 1
    after = AccessLog.objects.get(pk=row.pk)
    assert (after.person_id, after.person_key) == (None, "k" * 64)
    assert (after.username, after.category, after.basis, after.at) == (row.username, row.category, row.basis, row.at)
    # once only: a pseudonymised row is not pseudonymised again with another key
    assert AccessLog.objects.filter(pk=row.pk).pseudonymise("m" * 64) == 0
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=row.pk).pseudonymise("")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE permissions_accesslog SET category = 'housing' WHERE id = %s",
        "UPDATE permissions_accesslog SET person_id = NULL WHERE id = %s",  # the person dropped, no key
        "UPDATE permissions_accesslog SET person_key = 'k' WHERE id = %s",  # a key, the person kept
        "UPDATE permissions_accesslog SET person_id = NULL, person_key = 'k', basis = 'y' WHERE id = %s",
        "UPDATE permissions_accesslog SET person_id = NULL, person_key = 'k', at = now() WHERE id = %s",
        "DELETE FROM permissions_accesslog WHERE id = %s",
    ],
)
def test_the_database_refuses_every_other_change(row, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        raw(sql, [row.pk])


def test_the_database_refuses_changing_a_key_once_set(row):
    AccessLog.objects.filter(pk=row.pk).pseudonymise("k" * 64)
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE permissions_accesslog SET person_key = 'other' WHERE id = %s", [row.pk])


def test_the_database_lets_the_pseudonymisation_through_as_sql_too(row):
    raw("UPDATE permissions_accesslog SET person_id = NULL, person_key = 'k' WHERE id = %s", [row.pk])
    assert AccessLog.objects.get(pk=row.pk).person_key == "k"


def test_the_model_still_refuses_updates_and_deletes(row):
    for change in (
        lambda: AccessLog.objects.filter(pk=row.pk).update(person=None, person_key="k"),
        lambda: AccessLog.objects.filter(pk=row.pk).delete(),
        lambda: row.save(),
    ):
        with pytest.raises(AppendOnlyError):
            change()
