"""The last room for a message, or for a change of the responsible contact, taken by two
requests at once (PostgreSQL): exactly one is let through, the other is refused and writes
nothing (``test_case_write_room`` says why the rooms are there)."""

import pytest
from django.contrib.auth import get_user_model

from core.errors import Conflict
from permissions.models import BreakGlass, Membership, Role
from tests.threads import all_at_once
from workflows import services
from workflows.models import Event, EventKind

from .jobs.conftest import walk_to_find_home

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _person(name, agency, role=Role.MEMBER):
    user = get_user_model().objects.create_user(name, password="x")
    Membership.objects.create(user=user, agency=agency, role=role)
    return user


def _one_won(outcomes, code):
    won = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(won) == 1 and len(refused) == 1, outcomes
    assert isinstance(refused[0], Conflict) and refused[0].code == code, outcomes


def test_two_messages_for_the_last_room_at_once(shipped, users, agencies, settings):
    settings.CASE_MESSAGES_PER_AGENCY = 1
    case = walk_to_find_home(users, agencies, "2027-12-15")
    first, second = _person("race-prison-a", agencies["prison"]), _person("race-prison-b", agencies["prison"])

    def send(sender, date):
        return lambda: services.correlate_message(
            actor=sender,
            name="release_date_changed",
            case_reference=case.reference,
            payload={"expected_release_date": date},
        )

    _one_won(all_at_once([send(first, "2027-11-01"), send(second, "2027-11-02")]), "message.case_messages_full")
    assert Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).count() == 1


def test_two_changes_of_the_responsible_contact_for_the_last_room_at_once(shipped, users, agencies, settings):
    settings.CASE_RESPONSIBLE_CHANGES_PER_USER = 1
    case = walk_to_find_home(users, agencies, "2027-12-15")
    housing = agencies["housing"]
    lead = _person("race-lead", housing, Role.LEAD)
    first, second = _person("race-contact-a", housing), _person("race-contact-b", housing)

    def assign(contact):
        return lambda: services.assign_responsible(actor=lead, case=case.pk, responsible=contact.pk)

    _one_won(all_at_once([assign(first), assign(second)]), "case.responsible_changes_full")
    assert Event.objects.filter(case=case, kind=EventKind.RESPONSIBLE_CHANGED).count() == 1


def test_two_emergency_openings_for_the_last_room_at_once(shipped, users, agencies, settings):
    settings.BREAK_GLASS_PER_USER_CASE = 1
    case = walk_to_find_home(users, agencies, "2027-12-15")
    opener = _person("race-nav", agencies["nav"])
    reason = "Trusler om selvmord i telefonsamtale; må vite om behandlingsopplegg nå"

    def open_(category):
        return lambda: services.open_break_glass(actor=opener, case=case.pk, category=category, reason=reason)

    _one_won(all_at_once([open_("health"), open_("justice")]), "break_glass.openings_full")
    assert BreakGlass.objects.filter(case=case, user=opener).count() == 1
