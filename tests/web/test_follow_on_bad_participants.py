"""The follow-on form with a participant that is no agency id: 400 naming it, never a 500,
and no case started (h-attack28: the text reached the read of the agency's row)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from permissions.models import Membership, Role
from workflows.models import Case

pytestmark = pytest.mark.django_db


@pytest.fixture
def housing_contact(agencies, prison_case):
    user = get_user_model().objects.create_user("boligkontakt-neste-sak")
    Membership.objects.create(user=user, agency=agencies["housing"], role=Role.COORDINATOR)
    return user


@pytest.mark.parametrize("value", ["abc", "1.5"])
def test_the_page_answers_a_participant_that_is_no_id_with_the_form_again(housing_contact, prison_case, value):
    client = Client(raise_request_exception=False)
    client.force_login(housing_contact)
    cases = Case.objects.count()
    answer = client.post(
        reverse("case-follow-on", args=[prison_case.pk]),
        {"process": "settling_in", "participant_nav": value},
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "ingen etat har denne id-en" in page
    assert Case.objects.count() == cases and prison_case.follow_ons.count() == 0
    # The form still works with the earlier case's agencies.
    started = client.post(reverse("case-follow-on", args=[prison_case.pk]), {"process": "settling_in"})
    assert started.status_code == 302 and prison_case.follow_ons.count() == 1


def test_the_service_refuses_participants_that_are_not_a_map(housing_contact, prison_case):
    from core.errors import InvalidInput
    from workflows import services

    with pytest.raises(InvalidInput) as refused:
        services.start_follow_on(
            actor=housing_contact, case=prison_case.pk, process_key="settling_in", participants=["nav"]
        )
    assert [error["field"] for error in refused.value.errors] == ["participants"]
