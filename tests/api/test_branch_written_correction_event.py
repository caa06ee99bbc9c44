"""A correction of a value a hidden branch wrote tells the branch by its event (h-paths5).

The treatment branch's housing task wrote ``treatment_home_plan``; NAV (health masked) is told
the case has no such value (``PathView.fields``, h-oracle). When the housing office corrected
it, NAV's timeline (the API's and the case page's) still showed a ``value_corrected`` event by
the housing office, its field left out: a correction of something NAV is told the case does not
hold, which only the branch that wrote it leaves to correct. Such an event is now left out for a
reader from whom the field is hidden, as its field was, but for a correction their own agency
made (``selectors._timeline_without``)."""

import pytest
from django.urls import reverse

from retention import services as retention
from tests.api.test_branch_written_data import cases  # noqa: F401 (the fixture)
from tests.clients import api
from tests.clients import web as page

pytestmark = pytest.mark.django_db


def _timeline(user, case) -> dict:
    answer = api(user).get(reverse("api-case-timeline", args=[case.pk])).json()["results"]
    section = page(user).get(f"/cases/{case.pk}/sections/events/", HTTP_HX_REQUEST="true")
    return {
        "api": [event["kind"] for event in answer],
        "page": [event.kind for event, _label in section.context["events"]["rows"]],
    }


def test_nav_is_not_told_that_the_hidden_branch_s_value_was_corrected(cases, users):  # noqa: F811
    case = cases[True]
    before = _timeline(users["nils"], case)
    retention.correct_value(
        actor=users["bjorn"], case_id=case.pk, field="treatment_home_plan", value="Ny plan", reason="Feil plan"
    )
    after = _timeline(users["nils"], case)
    assert after == before, (before, after)
    assert "value_corrected" not in after["api"], after


def test_the_housing_office_and_the_health_service_still_see_the_correction(cases, users):  # noqa: F811
    case = cases[True]
    retention.correct_value(
        actor=users["bjorn"], case_id=case.pk, field="treatment_home_plan", value="Ny plan", reason="Feil plan"
    )
    for reader in ("bjorn", "helga"):
        told = _timeline(users[reader], case)
        assert "value_corrected" in told["api"] and "value_corrected" in told["page"], (reader, told)
