"""An attachment of category ``safety`` (a photo of a threat, a police report) is a warning for
staff, and lapses as a safety note does (domain.md: minimal, factual, time-limited).

``SAFETY_WARNING_DAYS`` Oslo days after it was added, the other participants are told only that
a warning lapsed, and when: no file name, type, size or uploader, no download, and no
access-log row of a read or an export of it; on the API, the web pages and the timeline alike.
Its agency and the case's coordinator keep it (``rules.decide_lapsed_warning``). Until h-safety3
every participant listed it with its name and downloaded it for ever."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from permissions import policy
from permissions.models import AccessLog
from tests.api.test_safety_warnings import warning_case, warning_people
from tests.clients import api, web
from workflows import services
from workflows.models import Event, EventKind
from workflows.notes import Attachment

pytestmark = pytest.mark.django_db

NAME = "trusselbrev-mot-saksbehandler.png"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
CONTENT = PNG + b"Slo etter saksbehandler med stol"


@pytest.fixture
def people(agencies, django_user_model):
    return warning_people(django_user_model, agencies, "filvarsel")


@pytest.fixture
def case(people, agencies):
    return warning_case(people, agencies, "Proc_file_warn")


def _body(answer) -> bytes:
    return b"".join(answer.streaming_content) if answer.streaming else answer.content


def _warning_file(people, case, *, days_ago=400) -> Attachment:
    attachment = services.add_attachment(
        actor=people["recorder"],
        case=case.pk,
        upload=SimpleUploadedFile(NAME, CONTENT, content_type="image/png"),
        category="safety",
    )
    added = timezone.now() - datetime.timedelta(days=days_ago)
    Attachment.objects.filter(pk=attachment.pk).update(created_at=added)
    Event.objects.filter(case=case, kind=EventKind.ATTACHMENT_ADDED, detail__attachment=attachment.pk).update(
        created_at=added
    )
    return Attachment.objects.get(pk=attachment.pk)


def _listed(user, case, attachment) -> dict:
    listed = api(user).get(reverse("api-case-attachments", args=[case.pk]))
    assert listed.status_code == 200, listed.content
    (entry,) = [a for a in listed.json()["results"] if a["id"] == attachment.pk]
    return entry


def _safety_rows(case, user) -> int:
    return AccessLog.objects.filter(case=case, category="safety", user=user, action__in=("read", "export")).count()


def test_another_agency_gets_nothing_of_a_lapsed_safety_attachment(people, case):
    attachment = _warning_file(people, case)
    lapsed_on = policy.lapses_on(attachment.created_at, policy.default_warning_days())
    nav = people["other"]
    rows = _safety_rows(case, nav)

    entry = _listed(nav, case, attachment)
    assert (entry["visible"], entry["filename"], entry["content_type"], entry["size"]) == (False, None, None, None)
    assert (entry["uploaded_by"], entry["download"], entry["lapsed_on"]) == (None, None, str(lapsed_on))
    assert entry["reason"]

    for url in (
        reverse("api-attachment-content", args=[case.pk, attachment.pk]),
        reverse("attachment", args=[case.pk, attachment.pk]),
    ):
        client = api(nav) if url.startswith("/api/") else web(nav)
        answer = client.get(url)
        assert answer.status_code in (403, 404), (url, answer.status_code)
        body = _body(answer)
        assert CONTENT not in body and NAME.encode() not in body, url

    for page in (reverse("case", args=[case.pk]), reverse("case-notes", args=[case.pk])):
        html = web(nav).get(page).content.decode()
        assert NAME not in html and reverse("attachment", args=[case.pk, attachment.pk]) not in html, page
        assert "Et vedlegg: en advarsel som utløp" in html, page

    timeline = api(nav).get(reverse("api-case-timeline", args=[case.pk]))
    assert timeline.status_code == 200, timeline.content
    (added,) = [e for e in timeline.json()["results"] if e["kind"] == "attachment_added"]
    assert "content_type" not in added["detail"] and "size" not in added["detail"], added
    assert added["actor"] is None, added
    assert _safety_rows(case, nav) == rows  # nothing was read or exported


def test_its_agency_and_the_coordinator_keep_a_lapsed_safety_attachment(people, case):
    attachment = _warning_file(people, case)
    lapsed_on = policy.lapses_on(attachment.created_at, policy.default_warning_days())
    for keeper in ("recorder", "coordinator"):
        user = people[keeper]
        entry = _listed(user, case, attachment)
        assert (entry["visible"], entry["filename"], entry["lapsed_on"]) == (True, NAME, str(lapsed_on)), keeper
        download = api(user).get(reverse("api-attachment-content", args=[case.pk, attachment.pk]))
        assert download.status_code == 200, keeper
        assert _body(download) == CONTENT, keeper
        html = web(user).get(reverse("case", args=[case.pk])).content.decode()
        assert NAME in html and "advarsel utløpt" in html, keeper
        assert AccessLog.objects.filter(
            case=case, user=user, action="export", item=f"attachment:{attachment.pk}", category="safety"
        ).exists(), keeper


def test_a_safety_attachment_in_force_is_shown_with_its_last_day(people, case):
    attachment = _warning_file(people, case, days_ago=10)
    entry = _listed(people["other"], case, attachment)
    assert (entry["visible"], entry["filename"], entry["lapsed_on"]) == (True, NAME, None)
    last = policy.lapses_on(attachment.created_at, policy.default_warning_days()) - datetime.timedelta(days=1)
    assert entry["valid_until"] == str(last)
    download = api(people["other"]).get(reverse("api-attachment-content", args=[case.pk, attachment.pk]))
    assert download.status_code == 200


def test_the_case_file_carries_no_name_or_bytes_of_a_lapsed_safety_attachment(people, case, settings):
    from retention import archive
    from tests.retention.pdfa import text_of

    settings.BROBYGGER = {
        **settings.BROBYGGER,
        "RETENTION_CASE_FILE_CATEGORIES": ("identity", "housing", "coordination", "safety"),
    }
    _warning_file(people, case)
    made = archive.case_file_package(case, timezone.now())
    assert NAME not in text_of(made.pdf)
    for part in (made.pdf, made.events or b"", made.notes or b""):
        assert NAME.encode() not in part and CONTENT not in part
