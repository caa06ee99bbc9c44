"""Issue 13, point 11, in Chromium at phone size (390 x 844): the header leaves the screen to
the work (it took 170 px; now about 105), each page fits the screen's width (no sideways
scrolling, not even by the 1 px a long process key once added), and /favicon.ico gives the
icon, not a 404."""

import pytest

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The header of a signed-in user on a phone: at most this tall (of 844 px).
PHONE_HEADER_MAX_PX = 120


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("kari", "/tasks/"),  # a caseworker of the prison
        ("nils", "/cases/"),  # NAV
        ("bjorn", "/today/"),  # the housing contact, with the longest menu
        ("lise", "/caseload/"),  # the lead
        ("ada", "/processes/"),  # the process admin
        ("leif", "/insight/"),  # a leader: figures only
    ],
)
def test_the_phone_header_stays_short_and_the_page_fits(as_user, live_server, shipped, username, path):
    page = as_user(username, **PHONE)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("load")
    header = page.locator("header.site")
    box = header.bounding_box()
    assert box is not None
    assert box["height"] <= PHONE_HEADER_MAX_PX, f"{username}: the header is {box['height']:.0f} px on a phone"
    assert box["width"] <= PHONE["width"]
    assert page.evaluate("h => h.scrollWidth <= h.clientWidth", header.element_handle())  # nothing cut off sideways
    main = page.locator("#main").bounding_box()
    assert main is not None and main["y"] < 844 / 2  # the work starts in the upper half
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{username} {path}: {width[0]} px wide on a {width[1]} px phone"


def test_favicon_ico_gives_the_icon(as_user, live_server):
    page = as_user("kari", **PHONE)
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.status == 200
    assert response.url.endswith("/static/brobygger/favicon.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert b"</svg>" in response.body()
