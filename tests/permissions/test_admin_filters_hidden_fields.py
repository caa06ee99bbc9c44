"""The admin's lists filter only by their own filters, never by a field the admin hides.

Django's change list takes any lookup in the query string on one of the model's own fields
(``ModelAdmin.lookup_allowed`` lets every "local field filter" through, ``__startswith``,
``__regex`` and JSON key paths included) and answers with the rows that match and their
count. So a field the admin leaves out of its pages (a consent's purpose, a thrown
message's payload and correlation values, a correction's old value, a TOTP device's key,
an agency's webhook secret) was read one character at a time by anyone allowed to view the
list: ``/admin/otp_totp/totpdevice/?key__startswith=3f`` answered "1 TOTP device" for the
right prefix and "0" for the others, forty hexadecimal digits later the user's second
factor; ``/admin/workflows/outboxmessage/?correlations__person__startswith=1791`` the
person's national id. Now a lookup is allowed only on what the admin's ``list_filter`` and
``date_hierarchy`` filter by (``config.admin_lookups``): any other answers 400 and lists
nothing."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from permissions.models import AccessLog, Agency
from tests.permissions.conftest import PERSON
from tests.permissions.test_admin_site_case_data import PURPOSE
from tests.permissions.test_admin_site_case_data import rows as rows
from workflows.models import Job, OutboxMessage

pytestmark = pytest.mark.django_db

SECRET = "k" * 40


@pytest.fixture
def root():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root-admin", "r@example.org", "pw-1234567"))
    return client


def _oracle(client, url, right, wrong):
    """The rows the list shows for the right prefix and for a wrong one."""
    found, missed = client.get(f"{url}{right}"), client.get(f"{url}{wrong}")
    return found, missed


@pytest.fixture
def secrets(rows, users, agencies):
    device = TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    Agency.objects.filter(pk=agencies["nav"].pk).update(webhook_secret=SECRET)
    return {"device": device, **rows}


@pytest.mark.parametrize(
    ("url", "right", "wrong"),
    [
        ("/admin/permissions/consent/?purpose__startswith=", PURPOSE[:9], "Xyz"),
        ("/admin/permissions/consent/?note__icontains=", "Dr. Hansen", "Dr. Olsen"),
        ("/admin/workflows/outboxmessage/?correlations__person__startswith=", PERSON["national_id"][:6], "010101"),
        ("/admin/workflows/outboxmessage/?payload__treatment_plan__icontains=", "LAR", "Subutex"),
        ("/admin/permissions/agency/?webhook_secret__startswith=", SECRET[:5], "zzzzz"),
    ],
)
def test_a_hidden_field_is_no_filter(root, secrets, url, right, wrong):
    found, missed = _oracle(root, url, right, wrong)
    assert (found.status_code, missed.status_code) == (400, 400)


def test_a_devices_key_is_no_filter(root, secrets):
    key = secrets["device"].key
    found, missed = _oracle(root, "/admin/otp_totp/totpdevice/?key__startswith=", key[:4], "zzzz")
    assert (found.status_code, missed.status_code) == (400, 400)
    assert key[:4] not in found.content.decode()


def test_the_person_behind_access_log_rows_is_no_filter(root, secrets):
    log = secrets["accesslog"]
    answer = root.get(f"/admin/permissions/accesslog/?person={log.person_id}")
    assert answer.status_code == 400


def test_the_lists_own_filters_and_dates_still_filter(root, secrets, users):
    log = secrets["accesslog"]
    by_category = root.get(f"/admin/permissions/accesslog/?category__exact={log.category}")
    assert by_category.status_code == 200 and by_category.context["cl"].result_count >= 1
    by_year = root.get(f"/admin/permissions/accesslog/?at__year={log.at.year}")
    assert by_year.status_code == 200 and by_year.context["cl"].result_count >= 1
    staff = root.get("/admin/auth/user/?is_staff__exact=1")
    assert staff.status_code == 200 and staff.context["cl"].result_count == 2  # root and tove
    groups = root.get(f"/admin/auth/user/?groups__id__exact={users['nils'].groups.first().pk}")
    assert groups.status_code == 200 and groups.context["cl"].result_count >= 1
    status = root.get("/admin/workflows/outboxmessage/?status__exact=pending")
    assert status.status_code == 200
    assert OutboxMessage.objects.exists() and AccessLog.objects.exists()


def test_every_admin_list_refuses_a_lookup_outside_its_filters(rf):
    """Every registered admin (ours and the libraries': users, devices, tokens, sign-in
    attempts), for a field of its model that is none of its filters."""
    request = rf.get("/admin/")
    request.user = get_user_model()(is_staff=True, is_superuser=True)
    unguarded = []
    for model, model_admin in admin.site._registry.items():
        filtered = {item[0] if isinstance(item, tuple | list) else item for item in model_admin.list_filter}
        filtered.add(model_admin.date_hierarchy)
        hidden = [f.name for f in model._meta.concrete_fields if f.name not in filtered]
        if hidden and model_admin.lookup_allowed(f"{hidden[0]}__startswith", "x", request):
            unguarded.append(model._meta.label)
    assert unguarded == []


def test_no_admin_add_page_saves_into_a_server_error(root):
    """Every add page the admin offers, posted empty: its form's errors, never a 500 (the
    pages of rows only the engine or a sign-in writes, whose fields are all read-only, had a
    form of no fields whose save failed in the database)."""
    root.raise_request_exception = False
    failed = []
    for model in admin.site._registry:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/add/"
        if root.get(url).status_code == 200 and root.post(url, {}).status_code >= 500:
            failed.append(model._meta.label)
    assert failed == []
    # The engine's own rows, with the values their forms offer: nothing added.
    job = {"status": "pending", "attempts": 0, "max_attempts": 5, "due_at_0": "2026-12-06", "due_at_1": "10:00"}
    for url, form in (
        ("/admin/workflows/job/add/", job),
        ("/admin/workflows/outboxmessage/add/", {"status": "pending"}),
    ):
        assert root.post(url, form).status_code == 403
    assert not Job.objects.exists()
