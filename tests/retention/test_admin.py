"""The admin shows what retention did, read-only, and never a corrected value."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from retention.models import Correction

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = get_user_model().objects.create_superuser("root-admin", "r@example.org", "pw-1234567")
    client.force_login(admin)
    return client


def test_the_records_are_read_only_and_corrections_hide_the_old_value(staff_client, closed_case, users):
    correction = Correction.objects.create(
        case=closed_case,
        field="person.name",
        category="identity",
        old_value="Gammelt Navn",
        reason="r",
        corrected_by=users["bjorn"],
        corrected_at=timezone.now(),
    )
    for model in ("erasurerecord", "archiveexport", "correction"):
        assert staff_client.get(f"/admin/retention/{model}/").status_code == 200
        assert staff_client.get(f"/admin/retention/{model}/add/").status_code == 403
    page = staff_client.get(f"/admin/retention/correction/{correction.pk}/change/")
    assert page.status_code == 200 and "Gammelt Navn" not in page.content.decode()
    assert staff_client.post(f"/admin/retention/correction/{correction.pk}/delete/").status_code == 403
