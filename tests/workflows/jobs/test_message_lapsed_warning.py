"""A message to another case of the person leaves out what a lapsed safety warning says.

A safety warning is shown to the participants only for a limited time (domain.md: minimal,
factual, time-limited; README "Safety warnings"). A payload field computed from a warning
that has lapsed in the sending case would start labelling the person again in the receiving
case: it is withheld, as a field its readers may not see is. A warning in force arrives."""

import copy
import datetime

import pytest
from django.contrib.auth import get_user_model

from bpmn.registry import runtime_for
from permissions import rules
from permissions.models import Membership, Role
from tests.workflows.jobs.test_message_payload_consent import FORMS, delivered, start_both
from workflows.models import Case, ProcessInstance

pytestmark = pytest.mark.django_db

# The sending model's payload computes "diagnosis_note" from its field "diagnosis": here a
# safety warning (its form's category), so that the same message carries one.
WARNING_FORMS = copy.deepcopy(FORMS)
WARNING_FORMS["care_applicant.schema.json"]["properties"]["diagnosis"] = {
    "type": "string",
    "title": "Advarsel",
    "x-category": "safety",
}
LONG_AGO = "2020-01-15T10:00:00+00:00"


def _worker(agency, role, username):
    user = get_user_model().objects.create_user(username, password="x")
    Membership.objects.create(user=user, agency=agency, role=role)
    user.groups.add(agency.group)
    return user


@pytest.fixture
def cases(agencies, legal_bases):
    # start_both's roles, played by people of this test's own
    people = {
        "bjorn": _worker(agencies["housing"], Role.COORDINATOR, "boligkontakt-melding"),
        "nils": _worker(agencies["nav"], Role.MEMBER, "nav-melding"),
        "helga": _worker(agencies["health"], Role.MEMBER, "helse-melding"),
    }
    return start_both(people, agencies, WARNING_FORMS)


def test_a_warning_in_force_arrives(cases):
    waiting, _sender = cases
    _state, detail, _rows = delivered(waiting)
    assert "diagnosis_note" in detail["fields"]


def test_a_lapsed_warning_does_not_reach_another_case(cases):
    waiting, sender = cases
    Case.objects.filter(pk=sender.pk).update(data_recorded_at={"diagnosis": LONG_AGO})

    state, detail, _rows = delivered(waiting)

    assert "F20" not in state and "diagnosis_note" not in detail["fields"]
    assert detail["withheld"] == ["diagnosis_note"]


def test_a_lapsed_warning_enters_no_other_case_even_where_its_recorder_alone_reads(cases, agencies):
    """The agency that recorded a warning still sees it when it lapses, but it enters no other
    case, even one whose workflow data that agency alone reads: written there it would start a
    new time in force that no one confirmed, and an agency joining later would read it as
    current. The recorder confirms it first."""
    waiting, sender = cases
    fields = runtime_for(ProcessInstance.objects.get(case=sender).definition_id).field_rules
    consents = rules.active_consents(waiting)
    sources = Case.objects.get(pk=sender.pk).data_sources
    assert sources["diagnosis"] == agencies["health"].pk

    def grounds(lapsed):
        health = [agencies["health"]]
        return rules.message_field_grounds(
            waiting, health, {"diagnosis"}, fields, sender.data_sources, consents, lapsed
        )

    assert grounds(()) is not None  # in force, its recorder reads it in the receiving case
    assert grounds({"diagnosis": datetime.date(2021, 1, 15)}) is None
