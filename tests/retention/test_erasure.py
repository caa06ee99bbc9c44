"""Erasure leaves no trace: a full prison-release case, erased by the retention job,
leaves the person's name and national id in no table and no column."""

from collections import Counter
from contextlib import suppress

import pytest
from django.apps import apps
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from permissions.models import AccessLog, Consent
from retention.erasure import TOMBSTONE_NAME, erase_case
from retention.jobs import enqueue_due_erasures
from retention.models import ErasureRecord, ErasureTrigger
from retention.pseudonyms import person_key
from tests.workflows.helpers import start_prison_case
from workflows import selectors, services
from workflows.jobs import handlers
from workflows.models import (
    Case,
    CaseOutcome,
    CaseStatus,
    Event,
    Job,
    JobKind,
    JobStatus,
    Person,
    ProcessInstance,
    Task,
)

from .helpers import NAME, NATIONAL_ID, PERSON, PNG, TRACES, age, archived, full_prison_case, traces

pytestmark = pytest.mark.postgres


def insight_tables():
    """Every row of every insight summary table (the leaders' figures), without ids."""
    return {
        model.__name__: sorted(
            (tuple(sorted((k, str(v)) for k, v in row.items() if k != "id")) for row in model.objects.values()),
        )
        for model in apps.get_app_config("insight").get_models()
    }


def figures():
    """The leaders' figures (the insight tables), and the columns figures are made of:
    outcomes per year, kind and tenure with their dates, events per kind and agency,
    tasks per agency and status with their times, cases."""
    outcomes = Counter(
        CaseOutcome.objects.values_list("kind__code", "tenure", "closed_date__year", "referral_date", "housed_date")
    )
    events = Counter(Event.objects.values_list("kind", "agency_id", "from_agency_id", "to_agency_id"))
    tasks = Counter(Task.objects.values_list("agency_id", "status", "element_id", "created_at", "completed_at"))
    cases = Counter(
        Case.objects.values_list("process_key", "status", "opened_at", "closed_at", "coordinator_agency_id")
    )
    return insight_tables(), outcomes, events, tasks, cases


def run_erasure_jobs():
    done = 0
    while handlers.run_one("test"):
        done += 1
    return done


def test_an_erased_case_leaves_no_trace_of_the_person(shipped, users, agencies, monkeypatch):
    case = full_prison_case(users, agencies, monkeypatch)
    found_before = {(table, column) for table, column, _ in traces(*TRACES)}
    # the search finds the person where the case put them before (it would find a trace)
    assert {
        ("workflows_person", "name"),
        ("workflows_case", "person_name"),
        ("workflows_case", "data"),
        ("workflows_processinstance", "state"),
        ("workflows_note", "text"),
        ("workflows_attachmentblob", "content"),
        ("permissions_consent", "purpose"),
        ("permissions_breakglass", "reason"),
        ("workflows_receivedmessage", "message_id"),
        ("django_admin_log", "object_repr"),
        ("api_idempotencykey", "key"),
    } <= found_before
    events_before = list(Event.objects.filter(case=case).values_list("kind", "agency_id", "created_at"))
    assert enqueue_due_erasures() == 0  # closed today: kept 5 years
    age(case, 5)
    assert enqueue_due_erasures() == 0  # the archive does not have its case file yet
    assert erase_case(case.pk, trigger=ErasureTrigger.RETENTION) is None
    archived(case)
    figures_before = figures()
    assert sum(len(rows) for rows in figures_before[0].values()) > 5  # the case is counted
    assert enqueue_due_erasures() == 1
    assert enqueue_due_erasures() in (0, 1)  # a second sweep queues no second job
    assert Job.objects.filter(kind=JobKind.ERASURE, case=case, status=JobStatus.PENDING).count() == 1
    assert run_erasure_jobs() == 1

    assert traces(*TRACES) == []
    assert figures() == figures_before
    case.refresh_from_db()
    record = ErasureRecord.objects.get(case=case)
    assert record.trigger == ErasureTrigger.RETENTION and record.rule == "default" and record.keep_years == 5
    assert record.removed["persons"] == 1 and record.removed["attachment_files"] == 1
    assert record.removed["idempotency_answers"] == 1  # the completion's answer, kept for replays
    assert case.person.name == TOMBSTONE_NAME and case.person_name == TOMBSTONE_NAME and case.data == {}
    assert not Person.objects.filter(national_id=NATIONAL_ID).exists()
    # the key and the agency whose key it was go together: no "Halden's number" left behind
    assert list(ProcessInstance.objects.filter(case=case).values_list("correlation_key", "correlation_agency")) == [
        ("", None)
    ]
    # the access log keeps who, when and what, with the person as a pseudonymous key
    rows = AccessLog.objects.filter(person_key=person_key(NATIONAL_ID))
    assert rows.count() >= 3 and not AccessLog.objects.filter(person__isnull=False, case=case).exists()
    assert {row.username for row in rows} >= {"nils", "helga", "bjorn"}
    # the timeline keeps its shape, and the diagram can still be drawn
    assert list(Event.objects.filter(case=case).values_list("kind", "agency_id", "created_at")) == events_before
    assert selectors.case_diagram_for(case, users["bjorn"]).completed
    # a second run finds nothing more to do
    assert enqueue_due_erasures() == 0


def test_another_case_of_the_person_keeps_them(shipped, users, agencies, monkeypatch):
    first = full_prison_case(users, agencies, monkeypatch)
    second = start_prison_case(users, agencies, person=PERSON)  # still open
    AccessLog.objects.create(
        user=users["bjorn"], username="bjorn", case=second, person=second.person, category="housing", basis="test"
    )
    age(first, 6)
    archived(first)
    assert enqueue_due_erasures() == 1
    run_erasure_jobs()
    second.refresh_from_db()
    assert second.person.national_id == NATIONAL_ID and second.person.name == "Torleif Eriksrud"
    assert second.data == Case.objects.get(pk=second.pk).data and Person.objects.filter(pk=second.person_id).exists()
    assert not AccessLog.objects.filter(case=first, person__isnull=False).exists()
    assert AccessLog.objects.filter(case=second, person=second.person).exists()
    assert Case.objects.get(pk=first.pk).person.name == TOMBSTONE_NAME


def test_an_erased_case_takes_its_own_name_along_and_another_case_keeps_its_own(shipped, users, agencies, monkeypatch):
    """The person's cases were started with two names: the erased case's name (which the
    person row had, from their first case) is left nowhere, the other case keeps its own,
    and the person row takes it."""
    first = full_prison_case(users, agencies, monkeypatch)
    second = start_prison_case(users, agencies, person={"name": "Tore Eriksen", "national_id": NATIONAL_ID})
    assert Person.objects.get(national_id=NATIONAL_ID).name == NAME  # the first case's
    age(first, 6)
    archived(first)
    assert enqueue_due_erasures() == 1
    run_erasure_jobs()

    assert traces(NAME) == []
    assert Case.objects.get(pk=first.pk).person_name == TOMBSTONE_NAME
    assert Case.objects.get(pk=second.pk).person_name == "Tore Eriksen"
    assert Person.objects.get(national_id=NATIONAL_ID).name == "Tore Eriksen"


def test_an_attachment_kept_in_a_folder_is_deleted_with_the_case(
    shipped, users, agencies, monkeypatch, settings, tmp_path, django_capture_on_commit_callbacks
):
    """The database search above cannot see files: with ``ATTACHMENT_DIR`` set, the bytes
    live in a folder, and the erasure deletes them there once it commits."""
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    case = full_prison_case(users, agencies, monkeypatch)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(files) == 1 and NAME.encode() in files[0].read_bytes()  # the upload names the person
    age(case, 5)
    archived(case)
    assert enqueue_due_erasures() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert run_erasure_jobs() == 1
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []
    assert traces(*TRACES) == []


def test_an_erased_case_s_attachment_is_gone_for_those_who_saw_it_and_takes_no_change(
    shipped, users, agencies, monkeypatch, consent_basis
):
    """Bjørn added the attachment and NAV's nils opened it (consent); after the erasure its
    file is gone: the download is 404 naming why (never a server error), the page shows no
    link to it, and neither its withdrawal nor a correction of the case's note writes to the
    erased case."""
    from django.test import Client

    from core.errors import Conflict
    from workflows import services
    from workflows.models import Attachment, Note

    from .helpers import api

    case = full_prison_case(users, agencies, monkeypatch)
    attachment = Attachment.objects.get(case=case)
    note = Note.objects.get(case=case)
    age(case, 5)
    archived(case)
    assert erase_case(case.pk, trigger=ErasureTrigger.RETENTION) is not None
    for name in ("bjorn", "nils"):
        answer = api(users[name]).get(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/content/")
        assert (answer.status_code, answer.json()["code"]) == (404, "attachment.erased")
        browser = Client()
        browser.force_login(users[name])
        assert browser.get(f"/cases/{case.pk}/attachments/{attachment.pk}/").status_code == 404
        page = browser.get(f"/cases/{case.pk}/").content.decode()
        assert f"/attachments/{attachment.pk}/" not in page  # no link, and no form to withdraw it
        assert "Et vedlegg; filen ble slettet sammen med sakens opplysninger" in page
    events = Event.objects.filter(case=case).count()
    withdrawn = api(users["bjorn"]).post(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/withdraw/")
    assert (withdrawn.status_code, withdrawn.json()["code"]) == (409, "attachment.erased")
    with pytest.raises(Conflict) as refused:
        services.correct_note(actor=users["bjorn"], case=case.pk, note_id=note.pk, text=NAME, version=note.version)
    assert refused.value.code == "note.erased"
    with pytest.raises(Conflict):
        services.withdraw_note(actor=users["bjorn"], case=case.pk, note_id=note.pk)
    page = Client()
    page.force_login(users["bjorn"])
    shown = page.get(f"/cases/{case.pk}/").content.decode()
    assert "Et notat; teksten ble slettet sammen med sakens opplysninger." in shown
    assert f"/notes/{note.pk}/" not in shown  # no form to correct or withdraw it
    # Nor is a new sharing recorded in it: its purpose and note would be new text about the
    # person in the erased case (409, and no form on the page).
    consent = {
        "agency": agencies["nav"].pk,
        "categories": ["housing"],
        "purpose": f"Oppfølging av {NAME}",
        "legal_basis": consent_basis.pk,
    }
    recorded = api(users["bjorn"]).post(f"/api/v1/cases/{case.pk}/consents/", consent, format="json")
    assert (recorded.status_code, recorded.json()["code"]) == (409, "retention.erased")
    assert 'class="record-consent"' not in shown
    assert Event.objects.filter(case=case).count() == events
    assert not Note.objects.filter(case=case, text__contains=NAME).exists()
    assert not Consent.objects.filter(case=case, purpose__contains=NAME).exists()


def test_an_attachment_file_that_cannot_be_deleted_fails_the_erasure_until_it_is(
    shipped, users, agencies, settings, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    """With ``ATTACHMENT_DIR``, the file was deleted after the erasure committed: a delete
    that failed then (a full or read-only disk, a worker killed between the two) left the
    person's file on disk for good, the row emptied and the erasure recorded done. Now the
    erasure fails with it, and its retry deletes the file."""
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    case = start_prison_case(users, agencies, person=PERSON)
    services.add_attachment(
        actor=users["bjorn"],
        case=case.pk,
        upload=SimpleUploadedFile(f"{NAME}.png", PNG + NAME.encode(), content_type="image/png"),
    )
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    age(case, 5)
    archived(case)
    real_delete, failures = FileSystemStorage.delete, []

    def delete_failing_once(storage, name):
        if not failures:
            failures.append(name)
            raise PermissionError(13, "Permission denied")
        real_delete(storage, name)

    monkeypatch.setattr(FileSystemStorage, "delete", delete_failing_once)
    assert enqueue_due_erasures() == 1
    with suppress(PermissionError), django_capture_on_commit_callbacks(execute=True):
        run_erasure_jobs()
    Job.objects.filter(kind=JobKind.ERASURE, status=JobStatus.PENDING).update(due_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        run_erasure_jobs()

    assert failures  # the first delete failed
    assert ErasureRecord.objects.filter(case=case).exists()
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


def test_archive_packages_left_in_the_folder_go_with_the_erasure(shipped, users, agencies, settings, tmp_path):
    """A package the archive never took from ``ARCHIVE_EXPORT_DIR`` (its reader broken, the
    folder moved), and a ``.partial`` folder an attempt that died left, hold the person's
    national id and case file: they outlived the erasure on disk for good. Now the erasure
    removes them, and only them (another case's package stays)."""
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    case, other = (start_prison_case(users, agencies, person=PERSON) for _ in range(2))
    Case.objects.filter(pk__in=[case.pk, other.pk]).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    age(case, 5)
    archived(case, other)
    case.refresh_from_db()
    other.refresh_from_db()
    (export,) = case.archive_exports.all()
    (kept,) = other.archive_exports.all()
    left = [tmp_path / f"{case.reference}-{export.pk}", tmp_path / f".{case.reference}-{export.pk}.partial"]
    others = tmp_path / f"{other.reference}-{kept.pk}"
    for folder in (*left, others):
        folder.mkdir()
        (folder / "saksmappe.pdf").write_bytes(NATIONAL_ID.encode())

    record = erase_case(case.pk, trigger=ErasureTrigger.RETENTION)

    assert record is not None and record.removed["archive_packages_left"] == 2
    assert [folder.exists() for folder in left] == [False, False]
    assert (others / "saksmappe.pdf").exists()
