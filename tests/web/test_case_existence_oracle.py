"""A case, task, note or attachment of a case the reader does not see answers exactly as one
that does not exist: every page and form of the web UI with such an id in its address, read
and posted, as a member of an agency outside the case, a leader of an agency inside it (who
sees no case) and a user of no agency. A 403, a 400 or a redirect where a missing id answers
404 would tell them that the case exists, and so that the person is a client of the agencies
that take part in it (a prison's, a health service's).

The API's routes answer through the same selectors (``case_for``, ``task_for``); the hostile
walk (``tests/test_hostile_walk.py``) reads the answers for values, this test their status.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.test_hostile_walk import ADMIN, site_routes
from tests.workflows.helpers import start_prison_case
from workflows import services
from workflows.models import Task
from workflows.notes import Attachment, Note

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
MISSING = 987_654


def _case_routes() -> list[tuple[str, set[str]]]:
    """(name, its URL arguments) of every web route whose address names a case or a task."""
    found = []
    for route, name, pattern in site_routes():
        if name.startswith(f"{ADMIN}:") or route.startswith("api/"):
            continue
        arguments = set(pattern.pattern.converters)
        if "pk" in arguments:
            found.append((name, arguments))
    return found


def _address(name: str, arguments: set[str], ids: dict) -> str:
    kwargs = {argument: ids[argument] for argument in arguments if argument != "section"}
    if name.startswith("task"):
        kwargs["pk"] = ids["task"]
    if "section" in arguments:
        kwargs["section"] = "events"
    return reverse(name, kwargs=kwargs)


def test_the_walk_finds_the_case_routes():
    names = {name for name, _arguments in _case_routes()}
    assert {"case", "case-section", "task", "case-notes", "attachment", "consent-revoke"} <= names


@pytest.mark.parametrize("username", ["mona", "nina", "oscar"])
def test_a_case_the_reader_does_not_see_answers_as_one_that_does_not_exist(prison_case, users, username):
    services.add_note(actor=users["helga"], case=prison_case, text="notat", category="health")
    upload = SimpleUploadedFile("epikrise.pdf", PDF, content_type="application/pdf")
    services.add_attachment(actor=users["helga"], case=prison_case, upload=upload, category="health")
    consent = prison_case.consents.values_list("pk", flat=True).first() or MISSING
    real = {
        "pk": prison_case.pk,
        "task": Task.objects.filter(case=prison_case).values_list("pk", flat=True).first(),
        "note_pk": Note.objects.get(case=prison_case).pk,
        "attachment_pk": Attachment.objects.get(case=prison_case).pk,
        "consent_pk": consent,
    }
    missing = {**{key: MISSING for key in real}, "note_pk": real["note_pk"], "attachment_pk": real["attachment_pk"]}
    client = Client()
    client.force_login(users[username])
    differ = []
    for name, arguments in _case_routes():
        for method in ("get", "post"):
            seen = getattr(client, method)(_address(name, arguments, real))
            unknown = getattr(client, method)(_address(name, arguments, missing))
            if (seen.status_code, seen.get("Location")) != (unknown.status_code, unknown.get("Location")):
                differ.append((method, name, seen.status_code, unknown.status_code))
    assert differ == []


OTHER_PERSON = {"name": "Per Annen", "national_id": "17912099997"}


def test_a_note_or_attachment_of_another_case_answers_under_the_readers_case_as_one_that_does_not_exist(
    prison_case, users, agencies
):
    """The reader's own case in the address, a note or an attachment of a case they do not
    see (NAV withdrawn from it) after it: the same answer as an id that does not exist."""
    other = start_prison_case(users, agencies, person=OTHER_PERSON)
    services.add_note(actor=users["helga"], case=other, text="annen sak", category="health")
    upload = SimpleUploadedFile("annen.pdf", PDF, content_type="application/pdf")
    services.add_attachment(actor=users["helga"], case=other, upload=upload, category="health")
    services.withdraw_agency(actor=users["bjorn"], case=other.pk, agency=agencies["nav"].pk, reason="Ikke aktuell")
    theirs = {
        "pk": prison_case.pk,
        "note_pk": Note.objects.get(case=other).pk,
        "attachment_pk": Attachment.objects.get(case=other).pk,
    }
    missing = {**theirs, "note_pk": MISSING, "attachment_pk": MISSING}
    client = Client()
    client.force_login(users["nils"])
    assert client.get(reverse("case", args=[prison_case.pk])).status_code == 200
    assert client.get(reverse("case", args=[other.pk])).status_code == 404
    differ, walked = [], 0
    for name, arguments in _case_routes():
        if not arguments & {"note_pk", "attachment_pk"}:
            continue
        walked += 1
        for method in ("get", "post"):
            seen = getattr(client, method)(reverse(name, kwargs={a: theirs[a] for a in arguments}))
            unknown = getattr(client, method)(reverse(name, kwargs={a: missing[a] for a in arguments}))
            if (seen.status_code, seen.get("Location")) != (unknown.status_code, unknown.get("Location")):
                differ.append((method, name, seen.status_code, unknown.status_code))
    # note-correct, note-withdraw, note-confirm, attachment, attachment-withdraw, attachment-confirm
    assert walked == 6
    assert differ == []


@pytest.mark.parametrize("username", ["nils", "mona", "oscar"])
def test_a_lapsed_safety_file_of_a_case_the_reader_does_not_see_is_confirmed_as_one_that_does_not_exist(
    prison_case, users, agencies, username
):
    """Its confirmation (h-safety5), through the page and the API: under the reader's own case
    (NAV's, ``nils``) or the file's own case, which they do not see, the same answer as an id
    that does not exist; nothing tells that a warning about the person was kept."""
    import datetime

    from django.utils import timezone
    from rest_framework.test import APIClient

    other = start_prison_case(users, agencies, person=OTHER_PERSON)
    upload = SimpleUploadedFile("trussel.pdf", PDF, content_type="application/pdf")
    lapsed = services.add_attachment(actor=users["kari"], case=other, upload=upload, category="safety")
    Attachment.objects.filter(pk=lapsed.pk).update(created_at=timezone.now() - datetime.timedelta(days=800))
    services.withdraw_agency(actor=users["bjorn"], case=other.pk, agency=agencies["nav"].pk, reason="Ikke aktuell")
    web_client, api_client = Client(), APIClient()
    web_client.force_login(users[username])
    api_client.force_authenticate(users[username])
    differ = []
    for case_pk in {prison_case.pk, other.pk}:
        for name, client in (("attachment-confirm", web_client), ("api-attachment-confirm", api_client)):
            seen = client.post(reverse(name, args=[case_pk, lapsed.pk]))
            unknown = client.post(reverse(name, args=[case_pk, MISSING]))
            if _told(seen) != _told(unknown):
                differ.append((name, case_pk, _told(seen), _told(unknown)))
    assert differ == []
    assert Attachment.objects.get(pk=lapsed.pk).confirmed_at is None


def _told(answer) -> tuple:
    """What an answer tells: its status, where it sends, and the API's error code."""
    code = answer.json().get("code") if answer.get("Content-Type", "").startswith("application/json") else None
    return answer.status_code, answer.get("Location"), code
