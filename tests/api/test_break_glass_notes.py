"""Break-glass opens the notes and attachments of its category too (issue 11 point 8): the one
masking rule (``rules.decide_note``) honours the user's own opening in force, each read under it
is logged with the opening as its basis, and the clock ends it. Another user, of the same or
another agency, without an opening still sees them masked."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from permissions.models import AccessAction, AccessLog
from tests.workflows.test_attachments import PDF
from workflows import services

REASON = "Trusler om selvmord i telefonsamtale; må vite om behandlingsopplegg nå"
NOTE = "Avbrøt LAR i forrige uke, ruset ved besøk"


@pytest.fixture
def health_items(users, prison_case):
    """A health note and a health attachment, written by helga (the health service)."""
    note = services.add_note(actor=users["helga"], case=prison_case.pk, text=NOTE)
    attachment = services.add_attachment(
        actor=users["helga"], case=prison_case.pk, upload=SimpleUploadedFile("epikrise.pdf", PDF)
    )
    assert (note.category, attachment.category) == ("health", "health")
    return prison_case, note, attachment


def _seen(client, case, attachment):
    notes = client.get(f"/api/v1/cases/{case.pk}/notes/").json()["results"]
    files = client.get(f"/api/v1/cases/{case.pk}/attachments/").json()["results"]
    download = client.get(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/content/")
    return notes[0], files[0], download


def _masked(client, case, attachment):
    note, listed, download = _seen(client, case, attachment)
    return (
        note["visible"] is False
        and note["text"] is None
        and listed["visible"] is False
        and listed["filename"] is None
        and download.status_code == 403
        and PDF not in download.content
    )


def test_break_glass_opens_health_notes_and_attachments_logged_until_it_expires(client_for, health_items, monkeypatch):
    case, _note, attachment = health_items
    nils = client_for("nils")
    assert _masked(nils, case, attachment)

    opened = nils.post(f"/api/v1/cases/{case.pk}/break-glass/", {"category": "health", "reason": REASON}, format="json")
    assert opened.status_code == 201, opened.json()
    grant_id = opened.json()["id"]

    note, listed, download = _seen(nils, case, attachment)
    assert (note["visible"], note["text"], note["basis"]) == (True, NOTE, f"break-glass:{grant_id}")
    assert (listed["visible"], listed["filename"]) == (True, "epikrise.pdf")
    assert download.status_code == 200 and download.content == PDF

    reads = AccessLog.objects.filter(username="nils", break_glass_id=grant_id).exclude(action=AccessAction.BREAK_GLASS)
    assert {(row.action, row.item, row.category, row.basis) for row in reads} == {
        (AccessAction.READ, "notes", "health", f"break-glass:{grant_id}"),
        (AccessAction.READ, "attachments", "health", f"break-glass:{grant_id}"),
        (AccessAction.EXPORT, f"attachment:{attachment.pk}", "health", f"break-glass:{grant_id}"),
    }
    assert all(row.agency.kind == "nav" for row in reads)

    # the person's access report (given by the coordinator) shows the reads with the reason:
    # the notes and attachments read (one line of two reads: same day, category, action and
    # basis), the download its own line (an export)
    report = client_for("bjorn").get(f"/api/v1/cases/{case.pk}/person-access-report/")
    assert report.status_code == 200
    shown = {
        (row["action"], row["category"], row["basis"], row["break_glass_reason"], row["reads"])
        for row in report.json()["entries"]
        if row["username"] == "nils" and row["break_glass_reason"]
    }
    assert {
        ("read", "health", f"break-glass:{grant_id}", REASON, 2),
        ("export", "health", f"break-glass:{grant_id}", REASON, 1),
    } <= shown

    # the auditor's review list counts what the opening was used for
    (waiting,) = client_for("aud").get("/api/v1/break-glass/").json()["results"]
    assert (waiting["id"], waiting["reads"]) == (grant_id, 3)

    # personal: a colleague at NAV and another agency (the prison) without an opening see nothing
    assert _masked(client_for("nora"), case, attachment)
    assert _masked(client_for("kari"), case, attachment)

    later = timezone.now() + datetime.timedelta(hours=4, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # no job ends it: only the clock
    before = AccessLog.objects.count()
    assert _masked(client_for("nils"), case, attachment)
    assert AccessLog.objects.count() == before  # nothing shown, nothing logged


def test_an_opening_of_another_category_opens_no_health_note(client_for, health_items):
    case, _note, attachment = health_items
    nils = client_for("nils")
    # justice is masked for NAV in this process too: its opening leaves health closed
    opened = nils.post(
        f"/api/v1/cases/{case.pk}/break-glass/", {"category": "justice", "reason": REASON}, format="json"
    )
    assert opened.status_code == 201, opened.json()
    assert _masked(nils, case, attachment)
    assert not AccessLog.objects.filter(item__in=("notes", "attachments"), username="nils").exists()
