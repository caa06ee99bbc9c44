"""A full prison-release case whose every free text names the person, and the search of
every table for them (PostgreSQL's information_schema)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from bpmn.registry import runtime_for
from permissions.models import AccessLog, BreakGlass, LegalBasis
from retention.models import ArchiveExport, ArchiveStatus
from tests.clients import api
from tests.ids import tid
from tests.workflows.helpers import (
    PRISON_PARTICIPANTS,
    do_follow_up_visits,
    form_data,
    open_tasks,
    worker_for,
)
from workflows import selectors, services
from workflows.models import Case, Incident, Job, JobKind, JobStatus, OutboxMessage, Person

NAME = "Torleif Eriksrud"
NATIONAL_ID = "17912099997"
PERSON = {"name": NAME, "national_id": NATIONAL_ID}
TRACES = (NAME, "Eriksrud", NATIONAL_ID)
# Values of three categories besides the intake's housing (``carrying_case``): the health and
# economy ones go into the case file, the justice one does not.
HEALTH_VALUE, ECONOMY_VALUE, JUSTICE_VALUE = "Oppfølging hos fastlegen", "Gjeld til kemneren", "2031-05-17"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def naming(task, overrides=None):
    """The task's valid sample data with every free-text field naming the person."""
    data = form_data(task, overrides)
    schema, _ = runtime_for(task.instance.definition_id).form_for(task.element_id)
    for field, prop in ((schema or {}).get("properties") or {}).items():
        prop = prop or {}
        free = prop.get("type") == "string" and not ({"enum", "format", "pattern", "const"} & set(prop))
        if free and prop.get("maxLength", 1000) >= 40 and field in data and field not in (overrides or {}):
            data[field] = f"{NAME} {NATIONAL_ID}"
    return data


def complete_naming(task, overrides=None):
    data = naming(task, overrides)
    return services.complete_task(actor=worker_for(task), task_id=task.pk, data=data)


def run_naming(case, overrides, until=None):
    """Complete open tasks until none is left (or task ``until`` is open)."""
    for _ in range(50):
        tasks = open_tasks(case)
        if not tasks or until in {task.element_id for task in tasks}:
            return
        complete_naming(tasks[0], overrides)
    raise AssertionError("the case did not end")


def full_prison_case(users, agencies, monkeypatch, person=PERSON) -> Case:
    """Start, work and close a prison-release case through the services, the person's name
    and national id written into everything that takes free text, read by other agencies
    (access log), with a note, a correction, an attachment, a consent, a message."""
    case = services.start_case(
        actor=users["kari"],
        process_key="prison_release_to_housing",
        person=person,
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
        correlation_key=f"halden-{person['national_id']}",
    )
    (intake,) = open_tasks(case)
    complete_naming(intake, {"has_home": False, "expected_release_date": "2027-01-15"})
    run_naming(case, {}, until="Task_find_home")
    services.correlate_message(
        actor=users["kari"],
        name="release_date_changed",
        case_reference=case.reference,
        payload={"expected_release_date": "2027-03-01"},
        message_id=f"prison-{person['national_id']}",
    )
    bjorn = users["bjorn"]
    services.record_consent(
        actor=bjorn,
        case=case,
        agency=agencies["nav"],
        categories=["housing", "health"],
        purpose=f"Bolig for {person['name']}",
        legal_basis=LegalBasis.objects.get(law="forvaltningsloven", paragraph="§ 13 a nr. 1"),
        note=f"signert av {person['name']}",
    )
    note = services.add_note(actor=bjorn, case=case.pk, text=f"Møtte {person['name']} ({person['national_id']})")
    services.correct_note(actor=bjorn, case=case.pk, note_id=note.pk, text=f"Møtte {person['name']}", version=1)
    services.add_attachment(
        actor=bjorn,
        case=case.pk,
        upload=SimpleUploadedFile(f"{person['name']}.png", PNG + person["name"].encode(), content_type="image/png"),
    )
    # reads of the case by other agencies (access-log rows), and one about the person only
    selectors.case_view_for(users["nils"], case.pk)
    selectors.case_view_for(users["helga"], case.pk)
    AccessLog.objects.create(
        user=bjorn, username="bjorn", person=Case.objects.get(pk=case.pk).person, category="identity", basis="report"
    )
    # an emergency opening (break glass), its reason naming the person
    BreakGlass.objects.create(
        case=case,
        person=Case.objects.get(pk=case.pk).person,
        user=users["nils"],
        agency=agencies["nav"],
        category="health",
        reason=f"Akutt: {person['name']}",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    # what a failure would have left: an incident, a job's error, an undelivered message
    instance = case.instances.get()
    Incident.objects.create(instance=instance, case=case, kind="data-error", error=f"{person['name']} ugyldig")
    Job.objects.create(
        kind=JobKind.WEBHOOK,
        status=JobStatus.DONE,
        due_at=timezone.now(),
        case=case,
        instance=instance,
        last_error=f"500 for {person['national_id']}",
    )
    OutboxMessage.objects.create(
        name="x",
        instance=instance,
        case=case,
        payload={"who": person["name"]},
        correlations={"id": person["national_id"]},
    )
    # an administrator corrected the person in the Django admin
    LogEntry.objects.log_actions(
        user_id=users["ada"].pk,
        queryset=Person.objects.filter(pk=case.person_id),
        action_flag=CHANGE,
        change_message=f"name {person['name']}",
        single_object=True,
    )
    # the home found, over the API with an Idempotency-Key (the client's own, naming the
    # person): the answer kept for its replays names the person too
    (find_home,) = [task for task in open_tasks(case) if task.element_id == "Task_find_home"]
    answer = api(worker_for(find_home)).post(
        f"/api/v1/tasks/{tid(find_home.pk)}/complete/",
        {"data": naming(find_home, {"home_found": True})},
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"bolig-{person['national_id']}",
    )
    assert answer.status_code == 200, answer.content
    run_naming(case, {"home_found": True})
    do_follow_up_visits(case, monkeypatch)
    run_naming(case, {})
    case.refresh_from_db()
    assert case.status == "completed"
    return case


def age(case, years: int) -> None:
    """Move the case's closing ``years`` (and a day) into the past."""
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=365 * years + 2))
    case.refresh_from_db()


SEARCHED_TYPES = ("text", "character varying", "character", "json", "jsonb", "bytea")


def traces(*needles: str) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) of the public schema where a needle occurs, in every
    text, JSON and binary column (PostgreSQL)."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = ANY(%s) "
            "AND table_name IN (SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE')",
            [list(SEARCHED_TYPES)],
        )
        columns = cursor.fetchall()
        assert len(columns) > 100, "the search must see the whole schema"
        for table, column, data_type in columns:
            for needle in needles:
                if data_type == "bytea":
                    condition = f'position(%s::bytea in "{column}") > 0'
                    value = needle.encode()
                else:
                    condition = f'"{column}"::text ILIKE %s'
                    value = f"%{needle}%"
                cursor.execute(f'SELECT count(*) FROM "{table}" WHERE {condition}', [value])
                if cursor.fetchone()[0]:
                    found.append((table, column, needle))
    return found


def archived(*cases) -> None:
    """Record that the archive has each case's case file (the archive duty is met)."""
    ArchiveExport.objects.bulk_create(
        ArchiveExport(case=case, status=ArchiveStatus.DONE, requested_at=timezone.now(), done_at=timezone.now())
        for case in cases
    )


def corrections_archived(case) -> None:
    """Record that the archive has the exports a correction of the case file queued."""
    ArchiveExport.objects.filter(case=case, status=ArchiveStatus.PENDING).update(
        status=ArchiveStatus.DONE, done_at=timezone.now()
    )


def erase(user, case, reason="Personen ba om sletting; ingen arkivplikt gjenstår"):
    return api(user).post(f"/api/v1/cases/{case.pk}/erasure/", {"reason": reason}, format="json")
