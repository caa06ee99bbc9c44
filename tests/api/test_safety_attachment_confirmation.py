"""A safety attachment (a photo of a threat, a police report) is confirmed again as a safety note
is (h-safety5): until then it lapsed for good ``SAFETY_WARNING_DAYS`` after it was added, and its
agency had to add the file anew (a new file, its history on the timeline apart from the old).

Its agency and the case's coordinator confirm it, through the API
(``POST /api/v1/cases/{id}/attachments/{attachment_pk}/confirm/``) and the case page alike (one
service, ``services.confirm_safety_attachment``): its time in force runs from then, for everyone,
with a ``safety_confirmed`` event naming the file (never its name) and an access-log ``write``
row. The other participants get 403 whatever the file, and nothing of it; an outsider 404. The
timeline names who confirmed a lapsed file only to its keepers, and leaves out its
confirmations for the others, as a lapsed note's; the case file leaves them out with
``safety``. The reminder before it lapses goes to its keepers, once per time in force."""

import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from permissions import policy
from permissions.models import AccessLog, Agency
from tests.api.test_safety_attachments import CONTENT, NAME
from tests.api.test_safety_warnings import warning_case, warning_people
from tests.clients import api, web
from workflows import services
from workflows.jobs import handlers
from workflows.jobs.safety_reminders import enqueue_safety_reminders
from workflows.models import Case, CaseStatus, Event, EventKind
from workflows.notes import Attachment

pytestmark = pytest.mark.django_db

ADDRESSES = {"prison": "fengsel-fil@example.test", "nav": "nav-fil@example.test", "housing": "bolig-fil@example.test"}


@pytest.fixture
def people(agencies, django_user_model):
    return warning_people(django_user_model, agencies, "filbekreft")


@pytest.fixture
def case(people, agencies):
    return warning_case(people, agencies, "Proc_file_confirm")


def warning_file(people, case, *, days_ago=400, category="safety") -> Attachment:
    attachment = services.add_attachment(
        actor=people["recorder"],
        case=case.pk,
        upload=SimpleUploadedFile(NAME, CONTENT, content_type="image/png"),
        category=category,
    )
    added = timezone.now() - datetime.timedelta(days=days_ago)
    Attachment.objects.filter(pk=attachment.pk).update(created_at=added)
    Event.objects.filter(case=case, kind=EventKind.ATTACHMENT_ADDED, detail__attachment=attachment.pk).update(
        created_at=added
    )
    return Attachment.objects.get(pk=attachment.pk)


def _confirm(user, case, attachment):
    return api(user).post(reverse("api-attachment-confirm", args=[case.pk, attachment.pk]), {}, format="json")


def _listed(user, case, attachment) -> dict:
    listed = api(user).get(reverse("api-case-attachments", args=[case.pk]))
    assert listed.status_code == 200, listed.content
    (entry,) = [a for a in listed.json()["results"] if a["id"] == attachment.pk]
    return entry


def _confirmations(case) -> list[Event]:
    return list(Event.objects.filter(case=case, kind=EventKind.SAFETY_CONFIRMED).order_by("pk"))


@pytest.mark.parametrize("keeper", ["recorder", "coordinator"])
def test_its_agency_or_the_coordinator_confirms_a_lapsed_file_and_everyone_sees_it_again(people, case, keeper):
    attachment = warning_file(people, case)
    assert _listed(people["other"], case, attachment)["visible"] is False
    assert _listed(people[keeper], case, attachment)["confirmable"] is True
    assert _listed(people["other"], case, attachment)["confirmable"] is False

    answer = _confirm(people[keeper], case, attachment)

    assert answer.status_code == 200, answer.content  # old: 404, no such route
    last = policy.lapses_on(timezone.now(), policy.default_warning_days()) - datetime.timedelta(days=1)
    assert (answer.json()["lapsed_on"], answer.json()["valid_until"]) == (None, str(last))
    shown = _listed(people["other"], case, attachment)
    assert (shown["visible"], shown["filename"], shown["valid_until"]) == (True, NAME, str(last))
    download = api(people["other"]).get(reverse("api-attachment-content", args=[case.pk, attachment.pk]))
    assert download.status_code == 200
    (event,) = _confirmations(case)
    assert event.detail == {"attachment": attachment.pk, "category": "safety"}
    assert (event.actor, event.agency_id) == (people[keeper], people[keeper].memberships.get().agency_id)
    assert NAME not in str(event.detail)
    assert AccessLog.objects.filter(
        case=case, user=people[keeper], action="write", category="safety", item=f"attachment:{attachment.pk}"
    ).exists()


def test_another_participant_is_refused_whatever_the_file_and_told_nothing_of_it(people, case, django_user_model):
    lapsed = warning_file(people, case)
    other_kind = warning_file(people, case, days_ago=1, category="coordination")
    nav = people["other"]
    for attachment in (lapsed, other_kind):
        refused = _confirm(nav, case, attachment)
        assert (refused.status_code, refused.json()["code"]) == (403, "safety.confirm_forbidden")
        assert NAME not in refused.content.decode()
    missing = _confirm(nav, case, Attachment(pk=987_654))
    assert (missing.status_code, missing.json()["code"]) == (404, "attachment.not_found")
    outsider = django_user_model.objects.create_user("ingen-etat-fil", password="x")
    unseen = _confirm(outsider, case, lapsed)
    assert (unseen.status_code, unseen.json()["code"]) == (404, "case.not_found")
    assert _confirmations(case) == [] and Attachment.objects.get(pk=lapsed.pk).confirmed_at is None


def test_a_file_that_is_no_warning_is_400_and_a_closed_case_or_a_withdrawn_file_409(people, case):
    plain = warning_file(people, case, days_ago=1, category="coordination")
    refused = _confirm(people["recorder"], case, plain)
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["attachment"]

    withdrawn = warning_file(people, case)
    services.withdraw_attachment(actor=people["recorder"], case=case.pk, attachment_id=withdrawn.pk)
    assert _confirm(people["recorder"], case, withdrawn).status_code == 409

    lapsed = warning_file(people, case)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    closed = _confirm(people["coordinator"], case, lapsed)
    assert (closed.status_code, closed.json()["code"]) == (409, "safety.case_closed")
    assert _confirmations(case) == []


def test_confirmed_twice_on_one_day_it_changes_once(people, case):
    attachment = warning_file(people, case)
    assert _confirm(people["recorder"], case, attachment).status_code == 200
    first = Attachment.objects.get(pk=attachment.pk).confirmed_at
    again = _confirm(people["coordinator"], case, attachment)
    assert again.status_code == 200
    assert Attachment.objects.get(pk=attachment.pk).confirmed_at == first  # the same time in force
    assert len(_confirmations(case)) == 1
    writes = AccessLog.objects.filter(case=case, action="write", item=f"attachment:{attachment.pk}")
    assert writes.count() == 3  # added, and each confirmer's word


def test_the_case_page_offers_the_confirmation_to_its_keepers_and_confirms_in_place(people, case):
    attachment = warning_file(people, case)
    url = reverse("attachment-confirm", args=[case.pk, attachment.pk])
    assert url not in web(people["other"]).get(reverse("case", args=[case.pk])).content.decode()
    page = web(people["recorder"]).get(reverse("case", args=[case.pk])).content.decode()
    assert url in page and f'id="attachment-{attachment.pk}-confirm-warning"' in page

    answer = web(people["recorder"]).post(url, HTTP_HX_REQUEST="true", follow=True)

    assert answer.status_code == 200
    assert "Advarselen er bekreftet" in answer.content.decode()
    assert Attachment.objects.get(pk=attachment.pk).confirmed_at is not None
    nav_page = web(people["other"]).get(reverse("case", args=[case.pk])).content.decode()
    assert NAME in nav_page  # old: only that a warning lapsed
    assert web(people["other"]).post(url).status_code == 403


def test_the_timeline_tells_a_lapsed_file_s_confirmations_only_to_its_keepers(people, case):
    attachment = warning_file(people, case, days_ago=800)
    services.confirm_safety_attachment(actor=people["recorder"], case=case.pk, attachment_id=attachment.pk)

    def confirmations(user):
        answer = api(user).get(reverse("api-case-timeline", args=[case.pk]))
        assert answer.status_code == 200, answer.content
        return [e for e in answer.json()["results"] if e["kind"] == "safety_confirmed"]

    (shown,) = confirmations(people["other"])  # in force again: told, with who, as the list names them
    assert shown["actor"] == people["recorder"].username
    # That confirmation long ago too: lapsed again, NAV reads neither it nor who confirmed it.
    Attachment.objects.filter(pk=attachment.pk).update(confirmed_at=timezone.now() - datetime.timedelta(days=400))
    assert confirmations(people["other"]) == []
    section = reverse("case-section", args=[case.pk, "events"])
    assert "Advarsel bekreftet" not in web(people["other"]).get(section).content.decode()
    for keeper in ("recorder", "coordinator"):
        (kept,) = confirmations(people[keeper])
        assert kept["actor"] == people["recorder"].username, keeper
        assert "Advarsel bekreftet" in web(people[keeper]).get(section).content.decode(), keeper


def test_the_case_file_leaves_out_a_file_s_confirmations_unless_it_holds_safety(people, case, settings):
    from lxml import etree

    from retention import archive
    from retention.case_file_timeline import EVENTS_NAMESPACE

    attachment = warning_file(people, case)
    services.confirm_safety_attachment(actor=people["recorder"], case=case.pk, attachment_id=attachment.pk)

    def kinds():
        made = archive.case_file_package(Case.objects.get(pk=case.pk), timezone.now())
        return [e.text for e in etree.fromstring(made.events).iter(f"{{{EVENTS_NAMESPACE}}}type")]

    assert "attachment_added" in kinds() and "safety_confirmed" not in kinds()
    settings.BROBYGGER = {
        **settings.BROBYGGER,
        "RETENTION_CASE_FILE_CATEGORIES": ("identity", "housing", "coordination", "safety"),
    }
    assert kinds().count("safety_confirmed") == 1


def test_its_keepers_are_reminded_before_a_file_lapses_once_per_time_in_force(people, case, agencies):
    for kind, address in ADDRESSES.items():
        Agency.objects.filter(pk=agencies[kind].pk).update(notification_email=address)

    def sweep():
        queued = enqueue_safety_reminders()
        while handlers.run_one("w"):
            pass
        return queued

    warning_file(people, case, days_ago=300)  # 65 days left: not yet
    assert sweep() == 0 and mail.outbox == []
    attachment = warning_file(people, case, days_ago=355)  # 10 days left, of 14

    assert sweep() == 1  # old: 0, a file lapsed unnoticed
    assert sorted(m.to[0] for m in mail.outbox) == [ADDRESSES["housing"], ADDRESSES["prison"]]  # never NAV's
    lapses = policy.lapses_on(attachment.created_at, 365)
    for message in mail.outbox:
        assert NAME not in message.body and CONTENT.decode("latin-1") not in message.body
        assert f"Vedlegg fra {attachment.agency.name} lagt til" in message.body
        assert f"utløper {lapses.day}. " in message.body
    assert Attachment.objects.get(pk=attachment.pk).safety_reminded_for == attachment.warning_since
    assert sweep() == 0 and len(mail.outbox) == 2  # once in this time in force

    services.confirm_safety_attachment(actor=people["coordinator"], case=case.pk, attachment_id=attachment.pk)
    assert sweep() == 0  # a year again
    Attachment.objects.filter(pk=attachment.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=400),
        confirmed_at=timezone.now() - datetime.timedelta(days=360),
    )
    sweep()
    sweep()
    assert len(mail.outbox) == 4  # the new time's own reminder, once


def test_the_erasure_empties_when_a_file_was_confirmed_and_reminded(people, case, monkeypatch):
    from retention import erasure
    from retention.models import ErasureTrigger

    attachment = warning_file(people, case)
    services.confirm_safety_attachment(actor=people["recorder"], case=case.pk, attachment_id=attachment.pk)
    Attachment.objects.filter(pk=attachment.pk).update(safety_reminded_for=timezone.now())
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    monkeypatch.setattr(erasure, "unmet_archive_duty", lambda case: ())  # the archive has its case file
    record = erasure.erase_case(
        case.pk, trigger=ErasureTrigger.REQUEST, actor=people["coordinator"], reason="Personen ba om det"
    )
    assert record is not None
    erased = Attachment.objects.get(pk=attachment.pk)
    assert (erased.confirmed_at, erased.safety_reminded_for) == (None, None)


def test_the_schema_documents_the_route(people):
    schema = api(people["other"]).get("/api/v1/schema/?format=json").json()
    route = schema["paths"]["/api/v1/cases/{id}/attachments/{attachment_pk}/confirm/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(route["responses"])
    assert "confirmable" in schema["components"]["schemas"]["Attachment"]["properties"]
