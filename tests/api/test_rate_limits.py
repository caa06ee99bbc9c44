"""Per-user API rate limits (``api.throttling``): past the rate a user's requests answer 429
with ``Retry-After`` and the code ``request.throttled`` in the client's language, whichever of
their tokens they come with; other users are not held back; the external tasks' routes count
on a rate of their own; a bad rate in the environment stops start-up. The count is shared by
every web process (``accounts.rate_limit``, in the database) and has no window edge to double at."""

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from tests.conftest import REPO

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


# A moment on a minute's edge (a whole number of minutes since the epoch).
EDGE = 1_800_000_000.0


def test_a_client_cannot_send_twice_the_rate_across_a_minute_edge(db, client_for, low_rates, monkeypatch):
    """Until 2026-12-06 a fixed window per minute: 3 requests in the last second of one minute
    and 3 more in the first second of the next all passed (6 in one second at 3 a minute)."""
    nils = client_for("nils")
    clock = [EDGE - 0.5]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    assert [nils.get("/api/v1/agencies/").status_code for _ in range(3)] == [200, 200, 200]
    clock[0] = EDGE + 0.5
    refused = nils.get("/api/v1/agencies/")
    assert refused.status_code == 429
    # One request is back 20 s (a minute / 3) after the first was taken.
    assert int(refused["Retry-After"]) == 19
    clock[0] = EDGE - 0.5 + 20
    assert [nils.get("/api/v1/agencies/").status_code for _ in range(2)] == [200, 429]


CHILD = """
import json, sys
import django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test import Client
client = Client(HTTP_AUTHORIZATION="Token " + sys.argv[1])
print(json.dumps([client.get("/api/v1/agencies/").status_code for _ in range(int(sys.argv[2]))]))
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_another_web_process_counts_against_the_same_rate(users, client_for, settings):
    """Until 2026-12-06 each process counted in its own memory: a second gunicorn worker (or
    node) let the user send the rate again. Here a second Python process, with its own
    connection, shares the count with this one."""
    from accounts.tokens import issue

    settings.API_THROTTLE_RATES = {"user": "3/minute", "external_tasks": "2/minute"}
    nils = client_for("nils")
    assert [nils.get("/api/v1/agencies/").status_code for _ in range(2)] == [200, 200]
    token, _expiry = issue(users["nils"])
    database = django_settings.DATABASES["default"]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"TEST_DATABASE_NAME", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        {
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "API_RATE_LIMIT": "3/minute",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DB_POOL": "false",
            "REQUIRE_TWO_FACTOR": "false",  # as tests/conftest.py has it for this process
        }
    )
    child = subprocess.run(
        [sys.executable, "-c", CHILD, token, "2"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert json.loads(child.stdout.strip().splitlines()[-1]) == [200, 429]
    assert nils.get("/api/v1/agencies/").status_code == 429


@pytest.mark.postgres
def test_a_token_request_is_counted_in_the_token_s_own_statement(users, client_for, low_rates):
    """Until 2026-12-06 the take was a statement (and a transaction) of its own after the
    token's read, on every API request: now the token's statement takes it (accounts.tokens),
    and the count is the same."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import RateBucket

    nils = client_for("nils")
    with CaptureQueriesContext(connection) as queries:
        assert nils.get("/api/v1/agencies/").status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 2, statements  # the token with its take, the agencies
    assert "accounts_rate_bucket" in statements[0]
    assert RateBucket.objects.filter(key=f"api:user:{users['nils'].pk}").exists()
    assert [nils.get("/api/v1/agencies/").status_code for _ in range(3)] == [200, 200, 429]
    # The external tasks' routes: their own bucket, taken the same way.
    assert [nils.post(FETCH, BODY, format="json").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.postgres
def test_a_token_s_prefix_without_the_token_charges_its_user_nothing(users, client_for, low_rates):
    """A token's first characters are its lookup key, and a key is no secret (it is what a
    log or a support ticket may show): whoever knows it, but not the token, must not be able
    to drain its user's rate."""
    from rest_framework.test import APIClient

    from accounts.models import RateBucket

    nils = client_for("nils")
    token = nils._credentials["HTTP_AUTHORIZATION"].removeprefix("Token ")
    forged = token[:15] + ("0" if token[15] != "0" else "1") + token[16:]
    intruder = APIClient()
    intruder.credentials(HTTP_AUTHORIZATION=f"Token {forged}")
    assert [intruder.get("/api/v1/agencies/").status_code for _ in range(5)] == [401] * 5
    assert not RateBucket.objects.filter(key=f"api:user:{users['nils'].pk}").exists()
    assert [nils.get("/api/v1/agencies/").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_workers_delete_full_buckets_and_keep_the_ones_still_counting(db):
    """A name typed at the sign-in makes a bucket, and names are the client's to choose: the
    workers delete the buckets that are full again (a missing row is a full bucket), as they
    prune jobs; a bucket still counting stays, so no one gets their rate back by it."""
    import time

    from accounts.models import RateBucket
    from workflows.jobs.worker import Worker

    now = time.time()
    RateBucket.objects.bulk_create(
        [RateBucket(key=f"signin:guess{number}", tat=now - 60) for number in range(3)]
        + [RateBucket(key="api:user:7", tat=now + 600)]
    )

    Worker(name="w").run(once=True)

    assert list(RateBucket.objects.values_list("key", flat=True)) == ["api:user:7"]


@pytest.mark.parametrize("path", ["/api/v1/agencies/", "/api/v1/tasks/?assigned=agency"])
def test_a_request_s_statements_do_not_depend_on_chance(users, client_for, path, monkeypatch):
    """Until 2026-12-06 one request in a thousand also pruned the rate buckets (a
    ``random.randrange`` of 1,000 came out 0): the query-count tests, which count hundreds of
    requests, failed now and then on that extra statement. The workers prune now; a request
    makes the same statements whatever chance says."""
    import random

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    nils = client_for("nils")

    def statements() -> list[str]:  # each statement's first words (the values differ: the clock)
        with CaptureQueriesContext(connection) as queries:
            assert nils.get(path).status_code == 200
        return [" ".join(query["sql"].split()[:4]) for query in queries.captured_queries]

    usual = statements()
    monkeypatch.setattr(random, "randrange", lambda *args: 0)  # the one in a thousand, every time
    assert statements() == usual


def test_a_refused_token_takes_nothing_from_its_users_rate(db, users, client_for, low_rates, settings):
    """A token the server refuses is no request of its user's. Since the take rode in the token's
    statement, each request with a token issued without the second factor its user now needs (an
    old script, a copy someone kept) was answered 401 and still charged the user's bucket: three
    of them and the user's valid token was answered 429."""
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from rest_framework.test import APIClient

    from accounts.tokens import issue

    settings.REQUIRE_TWO_FACTOR = False
    stale = client_for("nils")  # a token issued with the password alone
    settings.REQUIRE_TWO_FACTOR = True
    assert [stale.get("/api/v1/agencies/").status_code for _ in range(5)] == [401] * 5
    device = TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    token, _expiry = issue(users["nils"], device)
    valid = APIClient()
    valid.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [valid.get("/api/v1/agencies/").status_code for _ in range(4)] == [200, 200, 200, 429]
