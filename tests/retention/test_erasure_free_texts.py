"""Erasure leaves no free text a user wrote in the timeline: the reason the coordinator gave
for withdrawing an agency ("Torleif Eriksrud ønsker ikke ...") is stored in the event's
detail and read back on the timeline. Before, an erased case kept it there after the
person, the case data and every other free text were gone."""

import pytest
from django.utils import timezone

from retention.erasure import erase_case
from retention.models import ErasureTrigger
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
