"""Erasure leaves no free text a user wrote in the timeline: the reason the coordinator gave
for withdrawing an agency ("Torleif Eriksrud ønsker ikke ...") is stored in the event's
detail and read back on the timeline. Before, an erased case kept it there after the
person, the case data and every other free text were gone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from retention.erasure import delete_access_log, erase_case
from retention.models import ErasureRecord, ErasureTrigger
from retention.services import review_erasure
from tests.workflows.helpers import start_prison_case
from workflows import services
from workflows.models import Case, CaseStatus, Event, EventKind

from .helpers import NAME, NATIONAL_ID, PERSON, TRACES, archived, traces

pytestmark = pytest.mark.postgres


def test_the_reason_for_withdrawing_an_agency_goes_with_the_erasure(shipped, users, agencies):
    case = start_prison_case(users, agencies, person=PERSON)
    services.withdraw_agency(
        actor=users["bjorn"],
        case=case,
        agency=agencies["health"].pk,
        reason=f"{NAME} ({NATIONAL_ID}) vil ikke ha oppfølging fra helsetjenesten",
    )
    assert ("workflows_event", "detail") in {(table, column) for table, column, _ in traces(*TRACES)}
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    archived(case)
    assert erase_case(case.pk, trigger=ErasureTrigger.REQUEST, actor=users["bjorn"], reason="Personen ba om det")

    assert traces(*TRACES) == []
    event = Event.objects.get(case=case, kind=EventKind.AGENCY_WITHDRAWN)
    assert event.detail == {"kind": "health"} and event.agency == agencies["health"]


def test_the_coordinator_s_reason_for_an_erasure_on_request_keeps_no_name_nor_national_id(shipped, users, agencies):
    """The reason is kept on the erasure record for as long as the case row (the auditor
    reviews it): before, a reason naming the person ("Torleif Eriksrud ba om ...") kept the
    name and national id after the erasure had removed them everywhere else."""
    case = start_prison_case(users, agencies, person=PERSON)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    archived(case)
    number = f"{NATIONAL_ID[:6]} {NATIONAL_ID[6:]}"
    reason = f"{NAME} ({number}) ba om sletting i brev; Eriksrud har ingen andre saker hos oss"

    record = erase_case(case.pk, trigger=ErasureTrigger.REQUEST, actor=users["bjorn"], reason=reason)

    assert traces(*TRACES, number) == []
    assert record.reason == "… (…) ba om sletting i brev; … har ingen andre saker hos oss"


def test_the_words_about_an_erasure_request_go_with_the_case_s_access_log(shipped, users, agencies):
    """The auditor's review note is written after the erasure (the person's name is no longer
    known to scrub it of): the reason and the note go when the access log whose review they
    served is deleted. Before, both stayed for as long as the case row."""
    case = start_prison_case(users, agencies, person=PERSON)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    archived(case)
    record = erase_case(case.pk, trigger=ErasureTrigger.REQUEST, actor=users["bjorn"], reason="Brev fra personen")
    review_erasure(actor=users["aud"], erasure_id=record.pk, note=f"Bekreftet med {NAME} på telefon")
    assert traces(*TRACES) == [
        ("retention_erasurerecord", "review_note", NAME),
        ("retention_erasurerecord", "review_note", "Eriksrud"),
    ]
    ErasureRecord.objects.filter(pk=record.pk).update(access_log_until=timezone.now() - timedelta(days=1))

    assert delete_access_log(case.pk) is not None

    assert traces(*TRACES) == []
    record.refresh_from_db()
    assert (record.reason, record.review_note, record.reviewed_by) == ("", "", users["aud"])
