"""An agency's name is typed (or pasted: Word's line break within a paragraph is a vertical tab)
by its access administrator, and the admin takes any character but NUL. The archive's metadata
(``arkivstruktur.xml``) names the coordinating agency, and XML 1.0 cannot hold a control
character: lxml refused the name, so the export of every case the agency coordinated failed,
attempt after attempt, and with it the archive duty that holds back each case's erasure."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from lxml import etree

from permissions.models import Agency, Membership, Role
from retention.archive import NOARK, XML_NAME, validate
from retention.models import ArchiveExport, ArchiveStatus
from tests.clients import api
from workflows.jobs import handlers

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("pasted", ["\x0b", "\x01", "\x1f", "\ufffe"])
def test_a_case_of_an_agency_whose_name_holds_a_control_character_is_archived(closed_case, settings, tmp_path, pasted):
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    agency = closed_case.coordinator_agency
    Agency.objects.filter(pk=agency.pk).update(name=f"Boligkontoret{pasted}Bydel Sentrum")
    coordinator = get_user_model().objects.create_user("archive-name-coordinator", password="x")
    Membership.objects.create(user=coordinator, agency=agency, role=Role.COORDINATOR)

    answer = api(coordinator).post(reverse("api-case-archive-export", args=[closed_case.pk]))
    assert answer.status_code == 202, answer.content
    assert handlers.run_one("test") == 1

    export = ArchiveExport.objects.get(case=closed_case)
    assert export.status == ArchiveStatus.DONE
    xml = (Path(tmp_path) / export.package / XML_NAME).read_bytes()
    validate(xml)
    ns = {"n": NOARK}
    assert etree.fromstring(xml).findtext(".//n:mappe/n:administrativEnhet", namespaces=ns) == (
        "Boligkontoret Bydel Sentrum"
    )
