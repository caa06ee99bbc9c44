"""Finding 8: a username is locked after too many failed sign-ins, on the web login and
on the token endpoint, and the lock shows in the admin (django-axes)."""

import pytest
from axes.models import AccessAttempt

from .conftest import token_login, web_login

pytestmark = pytest.mark.django_db


def test_forty_wrong_passwords_then_the_right_one_gives_no_token(users, api):
    for _ in range(40):
        wrong = token_login(api, "nils", "wrong-password")
        assert wrong.status_code in (400, 429)
    right = token_login(api, "nils")
    assert right.status_code == 429
    body = right.json()
    assert "token" not in body and body["detail"] and body["errors"] == []
    assert int(right["Retry-After"]) > 0


def test_the_lock_starts_at_the_limit(users, api, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert token_login(api, "nils", "wrong-password").status_code == 400
    assert token_login(api, "nils").status_code == 200  # under the limit, and a success resets
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(api, "nils", "wrong-password")
    assert token_login(api, "nils").status_code == 429


def test_the_web_login_locks_too_and_says_so_in_bokmal(users, browser_like, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert web_login(browser_like, "kari", "wrong-password").status_code == 200  # the form again
    assert web_login(browser_like, "kari", "wrong-password").status_code == 429
    locked = web_login(browser_like, "kari")
    assert locked.status_code == 429
    assert "For mange mislykkede innlogginger" in locked.content.decode()
    assert "_auth_user_id" not in browser_like.session


def test_a_lock_on_one_username_leaves_the_others_alone(users, api, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(api, "nils", "wrong-password")
    assert token_login(api, "nils").status_code == 429
    assert token_login(api, "nora").status_code == 200


def test_the_lock_is_visible_to_admins_and_lifting_it_lets_the_user_in(users, api, settings, django_user_model):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(api, "helga", "wrong-password")
    admin = django_user_model.objects.create_superuser("root-admin", password="x")
    from django.test import Client

    site = Client()
    site.force_login(admin)
    listing = site.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "helga" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="helga")
    assert attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT
    assert "wrong-password" not in str(attempt.post_data)  # the password is never stored
    deleted = site.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert token_login(api, "helga").status_code == 200


def test_the_lock_ends_after_the_cool_off(users, api, settings):
    from datetime import timedelta

    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(api, "bjorn", "wrong-password")
    assert token_login(api, "bjorn").status_code == 429
    AccessAttempt.objects.filter(username="bjorn").update(
        attempt_time=AccessAttempt.objects.get(username="bjorn").attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )
    assert token_login(api, "bjorn").status_code == 200


def test_the_admin_login_locks_too(users, browser_like, settings, django_user_model):
    django_user_model.objects.create_superuser("root-admin", password="right-password")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        browser_like.post("/admin/login/", {"username": "root-admin", "password": "wrong", "next": "/admin/"})
    locked = browser_like.post(
        "/admin/login/", {"username": "root-admin", "password": "right-password", "next": "/admin/"}
    )
    assert locked.status_code == 429
    assert browser_like.get("/admin/").status_code == 302  # still not signed in


@pytest.mark.parametrize(
    ("proxies", "ids"),
    [
        (["127.0.0.1"], []),
        (["10.0.0.5", "10.0.1.0/24", "fd00::1", "fd00:1::/64"], []),
        (["*"], ["accounts.W001"]),
        (["10.0.0.0/8"], ["accounts.W001"]),
        (["10.1.0.0/23"], ["accounts.W001"]),
        (["fd00::/48"], ["accounts.W001"]),
        (["127.0.0.1", "not-an-address"], ["accounts.W002"]),
    ],
)
def test_the_check_warns_of_a_forwarded_allow_ips_wider_than_the_proxies(settings, proxies, ids):
    """``WEB_FORWARDED_ALLOW_IPS`` listing a client network let a client choose the address
    the password reset's limit counts; ``manage.py check`` now says so (before: nothing)."""
    from django.core import checks

    settings.FORWARDED_ALLOW_IPS = proxies
    found = [
        message.id for message in checks.run_checks(tags=[checks.Tags.security]) if message.id.startswith("accounts.")
    ]
    assert found == ids


def test_the_lock_page_and_answer_say_the_time_really_left(users, api, browser_like, settings):
    """The page said the whole cool-off (15 minutes) however much was left: it says the
    minutes left now, in bokmål with the singular for one, and Retry-After the seconds."""
    from datetime import timedelta

    for _ in range(settings.AXES_FAILURE_LIMIT):
        web_login(browser_like, "kari", "wrong-password")
    # Ten minutes and a half later (of the fifteen), five minutes are left at most.
    AccessAttempt.objects.filter(username="kari").update(
        attempt_time=AccessAttempt.objects.get(username="kari").attempt_time - timedelta(minutes=10, seconds=30)
    )
    locked = web_login(browser_like, "kari")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Prøv igjen om 5 minutter" in page and "15 minutter" not in page
    assert 240 < int(locked["Retry-After"]) <= 300
    AccessAttempt.objects.filter(username="kari").update(
        attempt_time=AccessAttempt.objects.get(username="kari").attempt_time - timedelta(minutes=4)
    )
    assert "Prøv igjen om 1 minutt," in web_login(browser_like, "kari").content.decode()

    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(api, "nils", "wrong-password")
    AccessAttempt.objects.filter(username="nils").update(
        attempt_time=AccessAttempt.objects.get(username="nils").attempt_time - timedelta(minutes=12, seconds=30)
    )
    body = {"username": "nils", "password": "wrong-password"}
    answer = api.post("/api/v1/auth/token/", body, format="json", HTTP_ACCEPT_LANGUAGE="nb")
    assert answer.status_code == 429
    assert answer.json()["detail"] == "for mange mislykkede innlogginger: prøv igjen om 3 minutter"
