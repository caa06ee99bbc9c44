"""A case's responsible housing contact is someone who can work it: a deactivated account is
refused by the lead's reassignment (400 naming ``responsible``, nothing written) and never
becomes the responsible of a new case as the agency's first coordinator (h-attack28: both
took a deactivated account)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from permissions.models import Membership, Role
from workflows import services
from workflows.models import Case, Event, EventKind

pytestmark = pytest.mark.django_db


def person_of(agencies, kind, role, username, *, active=True, first_name="Per"):
    user = get_user_model().objects.create_user(username, first_name=first_name, is_active=active)
    Membership.objects.create(user=user, agency=agencies[kind], role=role)
    return user


def test_the_lead_cannot_make_a_deactivated_contact_responsible(agencies, prison_case, client):
    lead = person_of(agencies, "housing", Role.LEAD, "boligleder-ansvar")
    gone = person_of(agencies, "housing", Role.MEMBER, "sluttet-boligkontakt", active=False)
    working = person_of(agencies, "housing", Role.MEMBER, "aktiv-boligkontakt")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue(lead)[0]}")
    url = reverse("api-case-responsible", args=[prison_case.pk])
    before = Case.objects.get(pk=prison_case.pk).responsible_id

    refused = api.post(url, {"responsible": gone.pk}, format="json")
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["responsible"]
    assert Case.objects.get(pk=prison_case.pk).responsible_id == before
    assert not Event.objects.filter(case=prison_case, kind=EventKind.RESPONSIBLE_CHANGED).exists()

    # The page offers only the working contacts, and refuses the other as the API does.
    client.force_login(lead)
    page = client.get(reverse("case", args=[prison_case.pk])).content.decode()
    assert f'value="{working.pk}"' in page and f'value="{gone.pk}"' not in page
    assert client.post(reverse("case-responsible", args=[prison_case.pk]), {"responsible": gone.pk}).status_code == 400
    assert Case.objects.get(pk=prison_case.pk).responsible_id == before

    assert api.post(url, {"responsible": working.pk}, format="json").status_code == 200
    assert Case.objects.get(pk=prison_case.pk).responsible_id == working.pk


def test_a_new_case_is_not_given_to_a_deactivated_coordinator(agencies, shipped):
    # First by name among the coordinators (an empty first name sorts first).
    person_of(agencies, "housing", Role.COORDINATOR, "a-sluttet-koordinator", active=False, first_name="")
    starter = person_of(agencies, "prison", Role.MEMBER, "fengsel-starter")
    case = services.start_case(
        actor=starter,
        process_key="prison_release_to_housing",
        person={"name": "Test Testesen", "national_id": "29822099635"},
        participants={kind: agencies[kind].pk for kind in ("prison", "nav", "health", "housing")},
    )
    assert case.responsible is not None and case.responsible.is_active
    assert case.responsible.username != "a-sluttet-koordinator"
