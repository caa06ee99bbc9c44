"""The admin shows what retention did, read-only, and never a corrected value."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from retention.models import Correction, ErasureRecord, RetentionRule

from .helpers import archived, erase

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
        agency=closed_case.coordinator_agency,
        corrected_at=timezone.now(),
    )
    for model in ("erasurerecord", "archiveexport", "correction"):
        assert staff_client.get(f"/admin/retention/{model}/").status_code == 200
        assert staff_client.get(f"/admin/retention/{model}/add/").status_code == 403
    page = staff_client.get(f"/admin/retention/correction/{correction.pk}/change/")
    assert page.status_code == 200 and "Gammelt Navn" not in page.content.decode()
    assert staff_client.post(f"/admin/retention/correction/{correction.pk}/delete/").status_code == 403


DIAGNOSIS = "F11.2 opioidavhengighet"


def test_operators_read_no_free_text_about_the_person_nor_the_key_that_links_their_cases(
    staff_client, closed_case, users
):
    # The coordinator's and the auditor's words about the person's request are case data, as a
    # consent's purpose and note are (``permissions.admin.ConsentAdmin``): the pages and the API
    # show them to the case's coordinator and auditors; operators see the records' states.
    def assert_not_shown(urls, *secrets):
        for url in urls:
            page = staff_client.get(url)
            assert page.status_code == 200, url
            for secret in secrets:
                assert secret not in page.content.decode(), (url, secret)

    correction = Correction.objects.create(
        case=closed_case,
        field="treatment_plan",
        category="health",
        old_value=None,
        reason=f"Personen sier at {DIAGNOSIS} er feil",
        corrected_by=users["bjorn"],
        agency=closed_case.coordinator_agency,
        corrected_at=timezone.now(),
        review_note=f"Sjekket journalen: {DIAGNOSIS}",
    )
    assert_not_shown(
        ("/admin/retention/correction/", f"/admin/retention/correction/{correction.pk}/change/"), DIAGNOSIS
    )
    archived(closed_case)
    reason = f"Personen ba om sletting etter behandling for {DIAGNOSIS}"
    assert erase(users["bjorn"], closed_case, reason=reason).status_code == 201
    erasure = ErasureRecord.objects.get(case=closed_case)
    ErasureRecord.objects.filter(pk=erasure.pk).update(review_note=f"Grunnlaget holder: {DIAGNOSIS}")
    assert erasure.person_key
    # Nor the keyed hash of the national id, the same in every erased case of the person (the
    # access log's admin hides it for that reason).
    assert_not_shown(
        ("/admin/retention/erasurerecord/", f"/admin/retention/erasurerecord/{erasure.pk}/change/"),
        DIAGNOSIS,
        erasure.person_key,
    )


def test_the_rule_s_case_file_box_says_notes_go_into_the_case_file_too(staff_client):
    """Since 2026-12-07 a category in the case file brings its notes along (``notater.xml`` and
    the PDF); the box said only its fields did."""
    rule = RetentionRule.objects.create(
        category="economy", keep_years=5, access_log_years=5, in_case_file=True, legal_basis="Arkivplan"
    )
    page = staff_client.get(reverse("admin:retention_retentionrule_change", args=[rule.pk]))
    assert page.status_code == 200
    assert "Felt og notater i denne kategorien tas med i saksmappen som leveres til arkivet." in page.content.decode()
