"""The admin's view-on-site redirect, ``/admin/r/<content type>/<id>/`` (Django's
``contenttypes.views.shortcut``), open to every staff user. Django looks the row up before
asking anything else, and its two 404s differ: a missing id is "object ... doesn't exist", an
existing case "objects don't have a get_absolute_url() method". The site's own 404 page (DEBUG
off) does not print the message, but Django's debug page does, and the row was read for
whoever asked. Until 2026-12-06 any staff user (an agency's access administrator, who sees no
case data) so learned, on a site with debug pages, which case ids exist. Now a row the user may
not view in the admin is answered as a missing one, before it is looked up
(``config.admin_site.AdminSite.view_on_site``)."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from permissions.models import Membership, Role
from retention.models import Correction
from workflows.models import Case

pytestmark = pytest.mark.django_db

MISSING_ID = 987654321


@pytest.fixture
def staff_client(django_user_model, agencies):
    """NAV's access administrator: staff, the Django permissions on agencies and memberships."""
    user = django_user_model.objects.create_user("tilgangsadm_vos", password="x", is_staff=True)
    codenames = [f"{action}_{model}" for action in ("change", "view") for model in ("agency", "membership")]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.ACCESS_ADMIN)
    client = Client()
    client.force_login(user)
    return client


def _answer(client, model, object_id):
    content_type = ContentType.objects.get_for_model(model)
    address = reverse("admin:view_on_site", args=[content_type.pk, object_id])
    response = client.get(address)
    # The page names the address asked for (the language form's way back), and its CSRF token
    # is masked afresh on every answer: the rest must be the same.
    page = response.content.replace(address.lstrip("/").encode(), b"<address>")
    page = re.sub(rb"[A-Za-z0-9]{64}", b"<csrf>", page)
    return response.status_code, response.get("Location"), page


def test_an_existing_case_answers_as_a_missing_one(staff_client, prison_case):
    existing = _answer(staff_client, Case, prison_case.pk)
    missing = _answer(staff_client, Case, MISSING_ID)
    assert existing[0] == 404
    assert existing == missing


def test_an_existing_case_answers_as_a_missing_one_with_debug_pages(staff_client, prison_case, settings):
    """Django's debug 404 page prints the view's message: the two messages said it all."""
    settings.DEBUG = True
    existing = _answer(staff_client, Case, prison_case.pk)
    assert existing[0] == 404
    assert b"get_absolute_url" not in existing[2]
    assert existing == _answer(staff_client, Case, MISSING_ID)


def test_no_case_row_is_looked_up_for_a_user_who_may_not_view_it(staff_client, prison_case):
    content_type = ContentType.objects.get_for_model(Case)
    with CaptureQueriesContext(connection) as queries:
        staff_client.get(reverse("admin:view_on_site", args=[content_type.pk, prison_case.pk]))
    assert not [query for query in queries if Case._meta.db_table in query["sql"]]


def test_a_superuser_is_still_answered_as_django_does(django_user_model, correction, settings):
    """Who may view the row in the admin gets Django's answer (no model here has a page of its
    own behind this redirect: 404 with Django's message, which the debug page shows)."""
    settings.DEBUG = True
    root = django_user_model.objects.create_superuser("rot_vos", password="x")
    client = Client()
    client.force_login(root)
    existing, missing = _answer(client, Correction, correction.pk), _answer(client, Correction, MISSING_ID)
    assert (existing[0], missing[0]) == (404, 404)
    assert b"get_absolute_url" in existing[2]
    assert b"get_absolute_url" not in missing[2]


@pytest.fixture
def correction(prison_case, users, agencies):
    return Correction.objects.create(
        case=prison_case,
        field="housing_situation",
        category="housing",
        old_value="x",
        reason="feil",
        corrected_by=users["kari"],
        agency=agencies["prison"],
        corrected_at=timezone.now(),
    )


def test_a_row_of_a_gated_admin_answers_as_a_missing_one(staff_client, correction, settings):
    """Corrections name a case (superusers only): their ids say nothing either."""
    settings.DEBUG = True
    assert _answer(staff_client, Correction, correction.pk) == _answer(staff_client, Correction, MISSING_ID)


def test_a_bad_content_type_answers_as_a_missing_row(staff_client):
    response = staff_client.get(reverse("admin:view_on_site", args=[MISSING_ID, 1]))
    assert response.status_code == 404
