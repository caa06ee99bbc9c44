"""A note or a file whose writer can no longer act for the agency in the case (left it, lost
their case role, account deactivated) is corrected or withdrawn by a lead or
coordinator of that agency, on the agency's behalf (GDPR art. 16: the agency remains
controller of what its employee wrote). Until 2026-12-07 only the author could, so such a
note could never be corrected.

Nobody else: a colleague without the role, nor a lead or coordinator of another agency (the
case's coordinator included); and while the writer can still act, only the writer
(authorship accountability). Through the API and the page, which call the same service.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.errors import Conflict
from permissions.models import AccessAction, AccessLog, Membership, Role
from tests.clients import api, web
from tests.query_counts import count_queries
from tests.threads import all_at_once
from tests.workflows.helpers import PERSON, PRISON_PARTICIPANTS
from workflows import services
from workflows.models import Event, EventKind
from workflows.notes import Attachment, Note

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
TEXT = "Gjeld til kemneren 12 000 kr"
CORRECTED = "Gjeld til kemneren 21 000 kr (feil beløp rettet)"

pytestmark = pytest.mark.django_db


def member(agencies, kind, role, username):
    user = get_user_model().objects.create_user(username)
    Membership.objects.create(user=user, agency=agencies[kind], role=role)
    return user


@pytest.fixture
def people(agencies):
    return {
        "prison": member(agencies, "prison", Role.MEMBER, "fengsel-sluttet"),
        "author": member(agencies, "nav", Role.MEMBER, "nav-forfatter"),
        "lead": member(agencies, "nav", Role.LEAD, "nav-leder"),
        "nav_coordinator": member(agencies, "nav", Role.COORDINATOR, "nav-koordinator"),
        "colleague": member(agencies, "nav", Role.MEMBER, "nav-kollega"),
        "case_coordinator": member(agencies, "housing", Role.COORDINATOR, "bolig-koordinator"),
        "housing_lead": member(agencies, "housing", Role.LEAD, "bolig-leder"),
        "health": member(agencies, "health", Role.MEMBER, "helse-medarbeider"),
    }


@pytest.fixture
def case(shipped, agencies, people):
    return services.start_case(
        actor=people["prison"],
        process_key="prison_release_to_housing",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
    )


def note_by_author(people, case, text=TEXT) -> dict:
    answer = api(people["author"]).post(reverse("api-case-notes", args=[case.pk]), {"text": text}, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def file_by_author(people, case) -> dict:
    upload = SimpleUploadedFile("husleiekontrakt.png", PNG, content_type="image/png")
    answer = api(people["author"]).post(reverse("api-case-attachments", args=[case.pk]), {"file": upload})
    assert answer.status_code == 201, answer.content
    return answer.json()


def leave(author, how: str) -> None:
    """The author can no longer act for NAV in the case."""
    if how == "membership ended":
        Membership.objects.filter(user=author).delete()
    elif how == "account deactivated":
        author.is_active = False
        author.save(update_fields=["is_active"])
    else:
        assert how == "role narrowed to one without case data"
        Membership.objects.filter(user=author).update(role=Role.AUDITOR)


def correct(user, case, note, text=CORRECTED, version=None):
    body = {"text": text, "version": version or note["version"]}
    return api(user).post(reverse("api-note-correct", args=[case.pk, note["id"]]), body, format="json")


def withdraw(user, case, note):
    return api(user).post(reverse("api-note-withdraw", args=[case.pk, note["id"]]), {}, format="json")


def withdraw_file(user, case, attachment):
    return api(user).post(reverse("api-attachment-withdraw", args=[case.pk, attachment["id"]]))


def unchanged(note) -> bool:
    stored = Note.objects.get(pk=note["id"])
    return (stored.text, stored.version, stored.withdrawn_at) == (TEXT, 1, None) and not stored.revisions.exists()


@pytest.mark.parametrize(
    "steward, how",
    [
        ("lead", "membership ended"),
        ("nav_coordinator", "account deactivated"),
        ("lead", "role narrowed to one without case data"),
    ],
)
def test_the_agencys_lead_or_coordinator_corrects_a_note_whose_author_left(people, agencies, case, how, steward):
    note = note_by_author(people, case)
    leave(people["author"], how)
    actor = people[steward]

    answer = correct(actor, case, note)
    assert answer.status_code == 200, answer.content
    assert (answer.json()["text"], answer.json()["version"]) == (CORRECTED, 2)
    stored = Note.objects.get(pk=note["id"])
    assert (stored.text, stored.version, stored.agency_id) == (CORRECTED, 2, agencies["nav"].pk)
    (revision,) = stored.revisions.all()
    assert (revision.text, revision.replaced_by, revision.change) == (TEXT, actor, "corrected")
    # The timeline names who corrected it and that it was on the agency's behalf.
    event = Event.objects.get(case=case, kind=EventKind.NOTE_CORRECTED)
    assert (event.actor, event.agency_id) == (actor, agencies["nav"].pk)
    assert event.detail == {"note": note["id"], "category": "economy", "on_behalf_of_agency": True}
    # The write is logged as the steward's, for NAV.
    row = AccessLog.objects.get(action=AccessAction.WRITE, item=f"note:{note['id']}", user=actor)
    role = Role.LEAD if steward == "lead" else Role.COORDINATOR
    assert (row.agency_id, row.role, row.category) == (agencies["nav"].pk, role, "economy")

    # A stale version is refused as for the author.
    stale = correct(actor, case, note, text="Enda en rettelse", version=1)
    assert (stale.status_code, stale.json()["code"]) == (409, "note.changed")

    withdrawn = withdraw(actor, case, {**note, "version": 2})
    assert withdrawn.status_code == 200, withdrawn.content
    assert Note.objects.get(pk=note["id"]).is_withdrawn
    event = Event.objects.get(case=case, kind=EventKind.NOTE_WITHDRAWN)
    assert event.actor == actor and event.detail["on_behalf_of_agency"] is True


def test_a_colleague_without_the_role_may_not_and_is_told_who_may(people, case):
    note = note_by_author(people, case)
    leave(people["author"], "membership ended")
    for answer in (correct(people["colleague"], case, note), withdraw(people["colleague"], case, note)):
        assert answer.status_code == 403
        assert answer.json()["code"] == "note.author_left"
    said = correct(people["colleague"], case, note).json()
    assert said["code"] == "note.author_left"
    nb = api(people["colleague"]).post(
        reverse("api-note-correct", args=[case.pk, note["id"]]),
        {"text": CORRECTED, "version": 1},
        format="json",
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert "bare etatens leder eller koordinator" in nb.json()["detail"]
    assert unchanged(note)
    assert not Event.objects.filter(case=case, kind__in=[EventKind.NOTE_CORRECTED, EventKind.NOTE_WITHDRAWN]).exists()


@pytest.mark.parametrize("name", ["case_coordinator", "housing_lead", "health"])
def test_nobody_of_another_agency_may_not_even_the_cases_coordinator(people, case, name):
    note = note_by_author(people, case)
    leave(people["author"], "membership ended")
    for answer in (correct(people[name], case, note), withdraw(people[name], case, note)):
        assert answer.status_code == 403
        # Told only that the note is not theirs: whether NAV's writer left is NAV's business.
        assert answer.json()["code"] == "note.change_forbidden"
    assert unchanged(note)


def test_while_the_author_still_acts_only_the_author_corrects(people, case):
    note = note_by_author(people, case)
    for name in ("lead", "nav_coordinator"):
        for answer in (correct(people[name], case, note), withdraw(people[name], case, note)):
            assert answer.status_code == 403
            assert answer.json()["code"] == "note.author_still_acts"
    assert correct(people["colleague"], case, note).json()["code"] == "note.change_forbidden"
    assert unchanged(note)
    # The author works in another agency too, and still in NAV: still theirs alone.
    Membership.objects.create(user=people["author"], agency=case.coordinator_agency, role=Role.MEMBER)
    assert correct(people["lead"], case, note).json()["code"] == "note.author_still_acts"
    assert correct(people["author"], case, note).status_code == 200


def test_the_lead_withdraws_a_file_whose_uploader_left_and_others_may_not(people, agencies, case):
    attachment = file_by_author(people, case)
    refused = withdraw_file(people["lead"], case, attachment)
    assert (refused.status_code, refused.json()["code"]) == (403, "attachment.uploader_still_acts")

    leave(people["author"], "account deactivated")
    refusals = (("colleague", "attachment.uploader_left"), ("case_coordinator", "attachment.withdraw_forbidden"))
    for name, code in refusals:
        answer = withdraw_file(people[name], case, attachment)
        assert (answer.status_code, answer.json()["code"]) == (403, code)
    assert not Attachment.objects.get(pk=attachment["id"]).is_withdrawn

    answer = withdraw_file(people["lead"], case, attachment)
    assert answer.status_code == 200, answer.content
    stored = Attachment.objects.get(pk=attachment["id"])
    assert stored.is_withdrawn and stored.withdrawn_by == people["lead"] and stored.stored_as == ""
    event = Event.objects.get(case=case, kind=EventKind.ATTACHMENT_WITHDRAWN)
    assert (event.actor, event.agency_id, event.detail["on_behalf_of_agency"]) == (
        people["lead"],
        agencies["nav"].pk,
        True,
    )
    assert AccessLog.objects.filter(
        action=AccessAction.WRITE, item=f"attachment:{attachment['id']}", user=people["lead"]
    ).exists()


def test_the_timeline_names_the_steward_only_to_whom_it_names_writers(people, case):
    note = note_by_author(people, case)
    leave(people["author"], "membership ended")
    assert withdraw(people["lead"], case, note).status_code == 200

    def withdrawal(user):
        rows = api(user).get(reverse("api-case-timeline", args=[case.pk])).json()
        rows = rows.get("results", rows) if isinstance(rows, dict) else rows
        (row,) = [row for row in rows if row["kind"] == "note_withdrawn"]
        return row["actor"], row["detail"].get("on_behalf_of_agency")

    assert withdrawal(people["case_coordinator"]) == ("nav-leder", True)  # reads NAV's economy notes
    assert withdrawal(people["health"]) == (None, None)  # an economy note is masked for health


def test_the_page_offers_the_lead_the_correction_with_its_reason_and_saves_it(people, agencies, case):
    note = note_by_author(people, case)
    notes_page = reverse("case-notes", args=[case.pk])
    correct_url = reverse("note-correct", args=[case.pk, note["id"]])
    # While the author acts, the lead's page offers nothing for the note.
    assert correct_url not in web(people["lead"]).get(notes_page).content.decode()

    leave(people["author"], "membership ended")
    page = web(people["lead"]).get(notes_page).content.decode()
    assert correct_url in page
    assert "Rett eller trekk tilbake på vegne av etaten" in page
    assert f"Den som skrev dette notatet, arbeider ikke lenger med saken for {agencies['nav'].name}" in page
    for name in ("colleague", "case_coordinator"):
        assert correct_url not in web(people[name]).get(notes_page).content.decode()

    saved = web(people["lead"]).post(correct_url, {"text": CORRECTED, "version": 1}, follow=True)
    assert saved.status_code == 200
    said = [str(m) for m in saved.context["messages"]]
    assert said == ["Notatet er rettet. Den tidligere teksten beholdes i historikken."]
    assert Note.objects.get(pk=note["id"]).text == CORRECTED
    events = web(people["case_coordinator"]).get(reverse("case-section", args=[case.pk, "events"])).content.decode()
    assert "Notat rettet (NAV" in events and "av nav-leder på vegne av etaten" in events

    withdrawn = web(people["lead"]).post(
        reverse("note-withdraw", args=[case.pk, note["id"]]), {"version": 2, "confirm": "on"}, follow=True
    )
    assert withdrawn.status_code == 200 and Note.objects.get(pk=note["id"]).is_withdrawn
    page = web(people["lead"]).get(notes_page).content.decode()
    assert f"på vegne av {agencies['nav'].name}: den som skrev det, arbeider ikke lenger med saken der" in page
    assert "av den som skrev det." not in page


def test_the_colleague_posting_the_form_anyway_is_refused_in_bokmal(people, case):
    note = note_by_author(people, case)
    leave(people["author"], "membership ended")
    answer = web(people["colleague"]).post(
        reverse("note-correct", args=[case.pk, note["id"]]), {"text": CORRECTED, "version": 1}
    )
    assert answer.status_code == 403
    assert "bare etatens leder eller koordinator" in answer.content.decode()
    assert unchanged(note)


def test_the_notes_page_of_a_lead_reads_as_much_at_any_number_of_departed_writers(people, case):
    def add(count):
        for number in range(count):
            note_by_author(people, case, text=f"Notat {number}")
            file_by_author(people, case)

    add(2)
    leave(people["author"], "membership ended")
    lead = web(people["lead"])
    path = reverse("case-notes", args=[case.pk])
    count_queries(lead, path)  # the session's first request reads more
    few = count_queries(lead, path)
    Membership.objects.create(user=people["author"], agency=case.participants.get(kind="nav").agency, role=Role.MEMBER)
    add(4)
    Membership.objects.filter(user=people["author"]).delete()
    assert count_queries(lead, path) == few
    assert reverse("note-correct", args=[case.pk, Note.objects.latest("id").pk]) in lead.get(path).content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_of_stewards_correcting_at_once_exactly_one_wins(people, agencies, case):
    """The lead and the coordinator of NAV (and a second lead) find the departed author's note
    wrong at the same moment: one correction is made, the others get 409 and write nothing."""
    note = note_by_author(people, case)
    second = member(agencies, "nav", Role.LEAD, "nav-leder-2")
    leave(people["author"], "membership ended")

    def correcting(user, text):
        return lambda: services.correct_note(actor=user, case=case.pk, note_id=note["id"], text=text, version=1)

    outcomes = all_at_once(
        [correcting(people["lead"], "A"), correcting(people["nav_coordinator"], "B"), correcting(second, "C")]
    )
    winners = [outcome for outcome in outcomes if isinstance(outcome, Note)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, Conflict) and o.code == "note.changed" for o in outcomes if o not in winners)
    stored = Note.objects.get(pk=note["id"])
    assert (stored.text, stored.version, stored.revisions.count()) == (winners[0].text, 2, 1)
    assert Event.objects.filter(case=case, kind=EventKind.NOTE_CORRECTED).count() == 1
    writes = AccessLog.objects.filter(action=AccessAction.WRITE, item=f"note:{note['id']}")
    assert writes.count() == 2  # added, corrected
