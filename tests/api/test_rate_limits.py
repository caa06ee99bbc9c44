"""Per-user API rate limits (``api.throttling``): past the rate a user's requests answer 429
with ``Retry-After`` and the code ``request.throttled`` in the client's language, whichever of
their tokens they come with; other users are not held back; the external tasks' routes count
on a rate of their own; a bad rate in the environment stops start-up."""

import pytest
from django.core.exceptions import ImproperlyConfigured

FETCH = "/api/v1/external-tasks/fetch-and-lock/"
BODY = {"workerId": "w1", "maxTasks": 1, "topics": [{"topicName": "none", "lockDuration": 1000}]}


@pytest.fixture
def low_rates(settings):
    settings.API_THROTTLE_RATES = {"user": "3/minute", "external_tasks": "2/minute"}


def test_past_the_rate_a_user_is_answered_429_with_retry_after_in_bokmal(db, client_for, low_rates):
    nils, nils_again, nora = client_for("nils"), client_for("nils"), client_for("nora")
    for _ in range(3):
        assert nils.get("/api/v1/agencies/").status_code == 200
    refused = nils_again.get("/api/v1/agencies/", HTTP_ACCEPT_LANGUAGE="nb")  # another token of his
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    body = refused.json()
    assert body["code"] == "request.throttled"
    assert body["detail"] == f"for mange forespørsler fra denne brukeren: vent {refused['Retry-After']} s og prøv igjen"
    assert nora.get("/api/v1/agencies/").status_code == 200  # another user is not held back
    # The external tasks' routes count on their own rate.
    assert [nils.post(FETCH, BODY, format="json").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("raw", ["many", "10/fortnight", "0/minute", "-1/second"])
def test_a_bad_rate_stops_start_up(monkeypatch, raw):
    from config.settings import env_rate

    monkeypatch.setenv("API_RATE_LIMIT", raw)
    with pytest.raises(ImproperlyConfigured, match="API_RATE_LIMIT"):
        env_rate("API_RATE_LIMIT", "1200/minute")


def test_off_and_the_periods_are_read():
    from core.rates import parse_rate

    assert parse_rate("off") is None
    assert parse_rate("1200/minute") == (1200, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("100000/hour") == (100000, 3600)
