"""Room for writes one participant could repeat for ever: the messages one agency sends into a
case (``CASE_MESSAGES_PER_AGENCY``), the changes of a case's responsible housing contact one lead
makes (``CASE_RESPONSIBLE_CHANGES_PER_USER``) and the emergency openings one user makes in a case
(``BREAK_GLASS_PER_USER_CASE``: each a row an auditor must review).

Each message is an event and an engine step, and each one a non-interrupting boundary catches
leaves its finished branch in the workflow's state (about 2.4 KB). The prison sending a new
release date and the housing office closing the task it opened, in a loop, grew the state until
``ENGINE_STATE_MAX_BYTES`` stopped the whole case with an incident, for every agency in it (a
sender who also works the task, as NAV with rent arrears, did it alone). A lead switching two
contacts back and forth wrote an event per request. Past the room: 409 in bokmål, nothing
written, on the page and the API alike."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from core.errors import Conflict
from permissions.models import BreakGlass, Membership, Role
from workflows import services
from workflows.models import Event, EventKind, ProcessInstance

from .helpers import complete, open_tasks
from .jobs.conftest import walk_to_find_home

pytestmark = pytest.mark.django_db

ADJUST = "Task_adjust_housing_plan"


def _person(name, agency, role=Role.MEMBER):
    user = get_user_model().objects.create_user(name, password="x")
    Membership.objects.create(user=user, agency=agency, role=role)
    return user


def _refused(call) -> dict:
    with pytest.raises(Conflict) as refused:
        call()
    return {"code": refused.value.code, "limit": refused.value.params.get("limit")}


def _received(case) -> int:
    return Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).count()


def _send(sender, case, day):
    return services.correlate_message(
        actor=sender,
        name="release_date_changed",
        case_reference=case.reference,
        payload={"expected_release_date": f"2027-11-{day:02d}"},
    )


def _adjust(case):
    return [task for task in open_tasks(case) if task.element_id == ADJUST]


@pytest.fixture
def waiting(shipped, users, agencies):
    return walk_to_find_home(users, agencies, "2027-12-15")


def test_an_agency_sends_so_many_messages_into_a_case_and_the_state_stops_growing(waiting, agencies, settings):
    settings.CASE_MESSAGES_PER_AGENCY = 3
    case = waiting
    sender, colleague = _person("room-prison-a", agencies["prison"]), _person("room-prison-b", agencies["prison"])
    housing = _person("room-housing-a", agencies["housing"])
    for day in (1, 2, 3):  # a new date, the housing plan adjusted: a branch finished each time
        assert _send(sender, case, day).status == "delivered"
        (adjust,) = _adjust(case)
        complete(adjust, actor=housing)
    state = ProcessInstance.objects.get(case=case).state
    before = _received(case)

    # The agency's room, not the person's: a colleague is refused as well.
    for who in (sender, colleague):
        assert _refused(lambda who=who: _send(who, case, 4)) == {"code": "message.case_messages_full", "limit": 3}
    assert _received(case) == before and _adjust(case) == []
    assert ProcessInstance.objects.get(case=case).state == state  # no step: the state kept its size
    case.refresh_from_db()
    assert case.data["expected_release_date"] == "2027-11-03"


def test_a_repeat_refused_as_nothing_new_takes_no_room(waiting, agencies, settings):
    settings.CASE_MESSAGES_PER_AGENCY = 2
    sender = _person("room-prison-c", agencies["prison"])
    _send(sender, waiting, 1)
    for _ in range(3):
        assert _refused(lambda: _send(sender, waiting, 1))["code"] == "message.task_still_open"
    assert _send(sender, waiting, 2).status == "delivered"  # the second, a new date
    assert _refused(lambda: _send(sender, waiting, 3))["code"] == "message.case_messages_full"


def test_a_lead_changes_the_responsible_contact_so_many_times(waiting, agencies, settings):
    settings.CASE_RESPONSIBLE_CHANGES_PER_USER = 3
    housing = agencies["housing"]
    lead, other_lead = _person("room-lead-a", housing, Role.LEAD), _person("room-lead-b", housing, Role.LEAD)
    first, second = _person("room-contact-a", housing), _person("room-contact-b", housing)
    for contact in (first, second, first):
        services.assign_responsible(actor=lead, case=waiting.pk, responsible=contact.pk)
    changes = Event.objects.filter(case=waiting, kind=EventKind.RESPONSIBLE_CHANGED)
    assert changes.count() == 3

    refused = _refused(lambda: services.assign_responsible(actor=lead, case=waiting.pk, responsible=second.pk))
    assert refused == {"code": "case.responsible_changes_full", "limit": 3}
    waiting.refresh_from_db()
    assert (waiting.responsible_id, changes.count()) == (first.pk, 3)  # nothing written
    # Choosing the one already responsible changes nothing and is no refusal.
    services.assign_responsible(actor=lead, case=waiting.pk, responsible=first.pk)
    # Another lead of the agency still can.
    services.assign_responsible(actor=other_lead, case=waiting.pk, responsible=second.pk)
    waiting.refresh_from_db()
    assert (waiting.responsible_id, changes.count()) == (second.pk, 4)


def test_the_api_and_the_page_refuse_past_the_room_in_bokmal(waiting, agencies, settings):
    settings.CASE_MESSAGES_PER_AGENCY = 1
    settings.CASE_RESPONSIBLE_CHANGES_PER_USER = 1
    housing = agencies["housing"]
    sender, lead = _person("room-prison-d", agencies["prison"]), _person("room-lead-c", housing, Role.LEAD)
    first, second = _person("room-contact-c", housing), _person("room-contact-d", housing)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue(sender)[0]}")
    body = {"name": "release_date_changed", "case_reference": waiting.reference}
    sent = api.post(
        reverse("api-messages"), {**body, "payload": {"expected_release_date": "2027-11-01"}}, format="json"
    )
    assert sent.status_code == 202, sent.content
    answer = api.post(
        reverse("api-messages"),
        {**body, "payload": {"expected_release_date": "2027-11-02"}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "message.case_messages_full"
    assert answer.json()["detail"] == (
        "etaten din har sendt 1 melding inn i saken, så mange som én etat kan sende inn i en sak; skriv det som er "
        "endret i et notat på saken i stedet"
    )
    page = APIClient()
    page.force_login(sender)
    form = {"message": "release_date_changed", "expected_release_date": "2027-11-03"}
    shown = page.post(reverse("case-message", args=[waiting.pk]), form, follow=True, HTTP_ACCEPT_LANGUAGE="nb")
    assert shown.status_code == 200
    assert "etaten din har sendt 1 melding inn i saken" in shown.content.decode()
    assert _received(waiting) == 1

    api.credentials(HTTP_AUTHORIZATION=f"Token {issue(lead)[0]}")
    url = reverse("api-case-responsible", args=[waiting.pk])
    assert api.post(url, {"responsible": first.pk}, format="json").status_code == 200
    answer = api.post(url, {"responsible": second.pk}, format="json", HTTP_ACCEPT_LANGUAGE="nb")
    assert answer.status_code == 409, answer.content
    assert answer.json()["detail"] == (
        "du har byttet ansvarlig for saken 1 gang, så ofte som én person kan; la en annen leder i etaten gjøre "
        "neste bytte"
    )
    page.force_login(lead)
    shown = page.post(
        reverse("case-responsible", args=[waiting.pk]),
        {"responsible": second.pk},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert "du har byttet ansvarlig for saken 1 gang" in shown.content.decode()
    waiting.refresh_from_db()
    assert waiting.responsible_id == first.pk
    assert Event.objects.filter(case=waiting, kind=EventKind.RESPONSIBLE_CHANGED).count() == 1


REASON = "Trusler om selvmord i telefonsamtale; må vite om behandlingsopplegg nå"


def test_a_user_opens_emergency_access_in_a_case_so_many_times(waiting, agencies, settings):
    settings.BREAK_GLASS_PER_USER_CASE = 2
    opener, colleague = _person("room-nav-a", agencies["nav"]), _person("room-nav-b", agencies["nav"])
    for _ in range(2):  # opened and ended at once, again and again: each a row to review
        grant = services.open_break_glass(actor=opener, case=waiting.pk, category="health", reason=REASON)
        services.end_break_glass(actor=opener, grant_id=grant.pk)

    refused = _refused(
        lambda: services.open_break_glass(actor=opener, case=waiting.pk, category="health", reason=REASON)
    )
    assert refused == {"code": "break_glass.openings_full", "limit": 2}
    assert BreakGlass.objects.filter(case=waiting, user=opener).count() == 2  # nothing written
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue(opener)[0]}")
    answer = api.post(
        reverse("api-case-break-glass", args=[waiting.pk]),
        {"category": "health", "reason": REASON},
        format="json",
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert answer.status_code == 409, answer.content
    assert answer.json()["detail"] == (
        "du har åpnet nødtilgang i denne saken 2 ganger, så ofte som én person kan; be en kollega eller sakens "
        "koordinator om hjelp"
    )
    page = APIClient()
    page.force_login(opener)
    shown = page.post(
        reverse("break-glass-open", args=[waiting.pk]),
        {"category": "health", "reason": REASON},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert "du har åpnet nødtilgang i denne saken 2 ganger" in shown.content.decode()
    assert BreakGlass.objects.filter(case=waiting, user=opener).count() == 2
    # The colleague's own room: the emergency is never left without anyone who can look.
    services.open_break_glass(actor=colleague, case=waiting.pk, category="health", reason=REASON)
