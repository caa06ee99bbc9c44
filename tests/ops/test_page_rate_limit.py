"""Per-user limit of the web pages (``web.page_rate_limit``, ``WEB_RATE_LIMIT``): past it a
signed-in user's pages and htmx fragments answer 429 with ``Retry-After`` and a bokmål page,
other users are not held back, the API and signed-out pages are not counted here. Until
2026-12-06 the pages were not limited at all: a stolen session could read case after case
as fast as the server answered."""

import html
import json
import re

import pytest

from tests.workflows.helpers import start_prison_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(users):
    from django.test import Client

    def make(username):
        client = Client()
        client.force_login(users[username])
        return client

    return make


def test_past_the_rate_pages_answer_429_with_retry_after_in_bokmal(web, settings):
    settings.WEB_RATE_LIMIT = "3/minute"
    nils, nils_elsewhere, nora = web("nils"), web("nils"), web("nora")
    assert [nils.get("/tasks/").status_code for _ in range(2)] == [200, 200]
    assert nils_elsewhere.get("/cases/").status_code == 200  # another session of his counts too
    refused = nils.get("/tasks/", HTTP_HX_REQUEST="true")
    assert refused.status_code == 429
    seconds = int(refused["Retry-After"])
    assert 1 <= seconds <= 20  # one request back every 60 / 3 s after the first was taken
    text = refused.content.decode()
    assert "For mange forespørsler" in text
    assert f"Vent {seconds} sekunder og prøv igjen" in text
    assert nora.get("/tasks/").status_code == 200  # another user is not held back
    # The API counts on its own limit; a signed-out page is not counted.
    assert nils.get("/api/v1/agencies/").status_code == 200
    from django.test import Client

    assert Client().get("/accounts/login/").status_code == 200


def test_the_busiest_page_opened_whole_stays_far_below_the_rate(web, users, agencies, shipped):
    """What ``WEB_RATE_LIMIT`` (600 a minute) is sized on: a case opened whole, every fold
    unfolded and its diagram drawn, is 7 requests (static files are the proxy's)."""
    from django.conf import settings

    from core.rates import parse_rate

    case = start_prison_case(users, agencies)
    bjorn = web("bjorn")
    page = bjorn.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    folds = [html.unescape(url) for url in re.findall(r'hx-get="([^"]+)"[^>]*hx-trigger="toggle once', text)]
    model = re.search(r'"model": "([^"]+)"', text)
    fetched = [*folds, *([json.loads(f'"{model.group(1)}"')] if model else [])]
    assert all(bjorn.get(url).status_code == 200 for url in fetched), fetched
    requests = 1 + len(fetched)
    assert requests == 7
    count, period = parse_rate(settings.WEB_RATE_LIMIT)
    assert count // requests >= 80 and period == 60
