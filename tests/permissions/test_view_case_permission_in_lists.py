"""The lists name the ``view_case`` permission by its natural keys in their own statement,
so a list compiled once per process stays right when the permission rows are made again
with new ids (a ``TransactionTestCase``'s flush, a test database made again, a migration);
and they look it up without joining and sorting the content types (planned in every read)."""

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permissions.demo import seed_demo_cast
from permissions.grants import revoke_agency_access
from permissions.models import Agency
from tests.clients import api
from tests.conftest import deploy_shipped, seed_legal_bases, seed_outcome_kinds
from workflows.models import Case

from .conftest import DISCHARGE_KINDS, OTHER_PERSON, PERSON, PRISON_KINDS, _start

CASES = reverse("api-cases")
INBOX = reverse("api-tasks") + "?assigned=agency&status=active"


def _scene():
    """The cast, the processes, a case NAV takes part in and holds ``view_case`` on, and one
    it takes part in whose grant was taken back: returns (reader, seen, unseen)."""
    from django.contrib.auth import get_user_model

    seed_demo_cast("test-password")
    seed_outcome_kinds()
    seed_legal_bases()
    deploy_shipped()
    users = {user.username: user for user in get_user_model().objects.all()}
    agencies = {agency.kind: agency for agency in Agency.objects.all()}
    seen = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    unseen = _start(users["siri"], "institution_discharge_to_housing", OTHER_PERSON, agencies, DISCHARGE_KINDS)
    assert revoke_agency_access(unseen, [agencies["nav"]]) == 1
    return users["nils"], seen, unseen


def _listed(reader) -> list[str]:
    client = api(reader)
    answer = client.get(CASES)
    assert answer.status_code == 200
    assert client.get(INBOX).status_code == 200  # the agency inbox's statement compiled too
    return sorted(row["id"] for row in answer.json()["results"])


def _view_case_id() -> int:
    return Permission.objects.get(codename="view_case", content_type__app_label="workflows").pk


@pytest.mark.django_db(transaction=True)
def test_the_lists_stay_right_after_the_permissions_are_made_again_with_new_ids():
    reader, seen, _unseen = _scene()
    assert _listed(reader) == [seen.pk]
    before = _view_case_id()
    # A flush empties every table and makes the content types and permissions again
    # (``post_migrate``), with new ids: the lists' statements, compiled above, are kept.
    call_command("flush", interactive=False, verbosity=0)
    assert not Case.objects.exists()
    reader, seen, _unseen = _scene()
    assert _view_case_id() != before
    # Neither empty (an old id matches no grant) nor every case NAV takes part in.
    assert _listed(reader) == [seen.pk]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_lists_look_the_permission_up_without_joining_the_content_types(users, agencies, shipped):
    """Guardian's own lookup (``codename`` and ``content_type__app_label``, ``Permission``'s
    default order, ``LIMIT 1``) joined and sorted the two tables in every list read."""
    case = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    client = api(users["nils"])
    client.get(CASES)
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(CASES)
        assert client.get(INBOX).status_code == 200
    assert [row["id"] for row in answer.json()["results"]] == [case.pk]
    naming = [query["sql"] for query in queries if '"auth_permission"' in query["sql"]]
    assert len(naming) == 2, naming  # the case list's and the inbox's
    for sql in naming:
        assert 'JOIN "django_content_type"' not in sql, sql
        assert 'ORDER BY U1."app_label"' not in sql and '"codename" ASC' not in sql, sql
