"""One person, one path in headless Chromium on a phone: bjorn (housing contact) starts
settling in from a prison-release case with the person's consent to housing data, lands
on the new case, and follows the person's path on the person page."""

import pytest

from tests.workflows.helpers import PERSON, PRISON_PARTICIPANTS
from workflows import services
from workflows.models import Case

from .conftest import overflow_px

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_prison_release_continues_as_settling_in(as_user, live_server, shipped, users, agencies, screenshot):
    release = services.start_case(
        actor=users["kari"],
        process_key="prison_release_to_housing",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
    )
    phone = as_user("bjorn", width=390, height=844)
    phone.goto(f"{live_server.url}/cases/{release.pk}/")
    phone.locator("#follow-on summary").click()
    phone.get_by_label("Prosess", exact=True).select_option("settling_in")
    phone.get_by_label("bolig", exact=True).check()
    phone.get_by_role("button", name="Start oppfølgingssaken").click()
    phone.wait_for_url(lambda url: f"/cases/{release.pk}/" not in url)
    follow_on = Case.objects.get(follows=release)
    assert f"Sak {follow_on.reference} er opprettet." in phone.locator("#messages").inner_text()
    assert release.reference in phone.locator("#follows").inner_text()
    assert overflow_px(phone) == 0  # no sideways scrolling
    screenshot(phone, "follow-on-phone")

    phone.locator("#person-link").click()
    phone.wait_for_url(f"{live_server.url}/cases/{follow_on.pk}/person/")  # by the case: no person id
    path = phone.locator("#person-path").inner_text()
    assert path.index(release.reference) < path.index(follow_on.reference)
    assert f"følger opp {release.reference}" in path
    assert overflow_px(phone) == 0
    screenshot(phone, "person-path-phone")

    # NAV sees the path through its own standing in both cases; the hospital sees nothing.
    nils = as_user("nils")
    nils.goto(f"{live_server.url}/cases/{release.pk}/person/")
    assert follow_on.reference in nils.locator("#person-path").inner_text()
    siri = as_user("siri")
    for case in (release, follow_on):
        assert siri.goto(f"{live_server.url}/cases/{case.pk}/person/").status == 404
