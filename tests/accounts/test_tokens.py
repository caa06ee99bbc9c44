"""API tokens expire, can be revoked (endpoint and admin), die with a password change, and
are stored only as digests (django-rest-knox)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from .conftest import token_login

pytestmark = pytest.mark.django_db


def _authed(api, token):
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_a_token_expires_after_the_configured_hours(users, api, settings):
    answer = token_login(api, "nils")
    assert answer.status_code == 200
    expiry = timezone.datetime.fromisoformat(answer.json()["expiry"])
    expected = timezone.now() + timedelta(hours=settings.API_TOKEN_HOURS)
    assert abs((expiry - expected).total_seconds()) < 60
    token = answer.json()["token"]
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 200
    AuthToken.objects.filter(user=users["nils"]).update(expiry=timezone.now() - timedelta(seconds=1))
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 401


def test_the_token_is_stored_only_as_a_digest(users, api):
    token = token_login(api, "nils").json()["token"]
    row = AuthToken.objects.get(user=users["nils"])
    assert token not in row.digest and len(row.digest) == 128
    assert row.token_key == token[:15]  # the lookup prefix only


def test_revoking_the_token_in_use_ends_it_and_only_it(users, api):
    first = token_login(api, "nils").json()["token"]
    second = token_login(api, "nils").json()["token"]
    assert _authed(api, first).post("/api/v1/auth/token/revoke/").status_code == 204
    assert _authed(api, first).get("/api/v1/tasks/").status_code == 401
    assert _authed(api, second).get("/api/v1/tasks/").status_code == 200


def test_revoke_all_ends_every_token_of_the_user_and_no_one_elses(users, api):
    nils_tokens = [token_login(api, "nils").json()["token"] for _ in range(3)]
    nora = token_login(api, "nora").json()["token"]
    assert _authed(api, nils_tokens[0]).post("/api/v1/auth/token/revoke-all/").status_code == 204
    for token in nils_tokens:
        assert _authed(api, token).get("/api/v1/tasks/").status_code == 401
    assert _authed(api, nora).get("/api/v1/tasks/").status_code == 200


def test_revoking_needs_a_token(users, api):
    api.credentials()
    assert api.post("/api/v1/auth/token/revoke/").status_code == 401


def test_a_password_change_ends_every_token(users, api):
    token = token_login(api, "helga").json()["token"]
    helga = users["helga"]
    helga.set_password("a-new-long-password")
    helga.save()
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 401
    assert not AuthToken.objects.filter(user=helga).exists()


def test_a_password_change_in_the_admin_ends_every_token(users, api, django_user_model):
    token = token_login(api, "kari").json()["token"]
    admin = django_user_model.objects.create_superuser("root-admin", password="x")
    site = Client()
    site.force_login(admin)
    changed = site.post(
        f"/admin/auth/user/{users['kari'].pk}/password/",
        {"password1": "Another-long-pass-1", "password2": "Another-long-pass-1", "usable_password": "true"},
    )
    assert changed.status_code == 302, changed.content[:500]
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 401


def test_saving_a_user_without_a_password_change_keeps_the_tokens(users, api):
    token = token_login(api, "kari").json()["token"]
    kari = users["kari"]
    kari.first_name = "Kari"
    kari.save()
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 200


def test_an_admin_revokes_a_token_in_the_admin(users, api, django_user_model):
    token = token_login(api, "nils").json()["token"]
    admin = django_user_model.objects.create_superuser("root-admin", password="x")
    site = Client()
    site.force_login(admin)
    listing = site.get("/admin/knox/authtoken/")
    assert listing.status_code == 200 and "nils" in listing.content.decode()
    row = AuthToken.objects.get(user=users["nils"])
    assert site.post(f"/admin/knox/authtoken/{row.pk}/delete/", {"post": "yes"}).status_code == 302
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 401


def test_an_inactive_user_cannot_use_a_token(users, api):
    token = token_login(api, "nils").json()["token"]
    type(users["nils"]).objects.filter(pk=users["nils"].pk).update(is_active=False)
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 401


def test_an_expired_token_is_refused_and_deleted_while_the_users_fresh_token_works(users, api):
    stale = token_login(api, "nils").json()["token"]
    fresh = token_login(api, "nils").json()["token"]
    AuthToken.objects.filter(token_key=stale[:15]).update(expiry=timezone.now() - timedelta(seconds=1))
    assert _authed(api, fresh).get("/api/v1/tasks/").status_code == 200
    assert _authed(api, stale).get("/api/v1/tasks/").status_code == 401
    assert not AuthToken.objects.filter(token_key=stale[:15]).exists()
    assert AuthToken.objects.filter(token_key=fresh[:15]).exists()


def test_signing_in_deletes_the_users_expired_tokens_and_no_one_elses(users, api):
    old = [token_login(api, "nils").json()["token"] for _ in range(2)]
    nora = token_login(api, "nora").json()["token"]
    AuthToken.objects.filter(token_key__in=[t[:15] for t in [*old, nora]]).update(
        expiry=timezone.now() - timedelta(seconds=1)
    )
    token_login(api, "nils")
    assert AuthToken.objects.filter(user=users["nils"]).count() == 1
    assert AuthToken.objects.filter(token_key=nora[:15]).exists()


def test_an_api_request_reads_its_token_and_user_in_one_statement(users, api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    token = token_login(api, "nils").json()["token"]
    with CaptureQueriesContext(connection) as queries:
        assert _authed(api, token).get("/api/v1/agencies/").status_code == 200
    token_reads = [q["sql"] for q in queries.captured_queries if "knox_authtoken" in q["sql"]]
    assert len(token_reads) == 1, token_reads


def test_a_token_with_the_right_key_but_a_wrong_secret_is_refused(users, api):
    token = token_login(api, "nils").json()["token"]
    forged = token[:15] + ("0" if token[15] != "0" else "1") + token[16:]
    assert _authed(api, forged).get("/api/v1/tasks/").status_code == 401
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 200


@pytest.mark.parametrize(
    "text",
    [
        "\xff\xfe\xfd",  # not UTF-8 (a header's bytes are Latin-1 to WSGI)
        "é" * 64,  # Latin-1 letters: legal in a header value, never in a token
        "\x00" * 10,  # a NUL reaches no statement (PostgreSQL refuses it in text: a 500)
        "abc\x01def",
    ],
)
def test_a_token_of_characters_no_token_has_is_refused_as_invalid(users, api, text):
    answer = _authed(api, text).get("/api/v1/tasks/")
    assert answer.status_code == 401, answer.content
    assert answer.json()["detail"] == "Invalid token."


@pytest.mark.postgres  # the memberships fold into the token's statement on PostgreSQL only
def test_the_token_s_statement_reads_the_user_s_memberships_as_they_are_now(users, agencies, shipped, api):
    """An API request read the token, then the user's memberships: one statement each.
    Now one, and a membership given or taken shows at the next request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from permissions.models import Membership, Role
    from tests.workflows.helpers import PERSON, PRISON_PARTICIPANTS, complete, open_tasks
    from workflows import services

    case = services.start_case(
        actor=users["kari"],
        process_key="prison_release_to_housing",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
    )
    complete(open_tasks(case)[0])  # then the parallel tasks: NAV's, health's, housing's
    _authed(api, token_login(api, "nils").json()["token"]).cookies.clear()  # the token alone, as a client sends it

    def inbox_agencies():
        with CaptureQueriesContext(connection) as queries:
            answer = api.get("/api/v1/tasks/?assigned=agency&status=active")
        read = [q["sql"] for q in queries.captured_queries]
        assert not any(sql.startswith('SELECT "permissions_membership"') for sql in read), read
        return sorted(row["agency"]["kind"] for row in answer.json()["results"]), len(read)

    # The token with the memberships and the take from the user's rate limit (accounts.rate_limit), the inbox.
    assert inbox_agencies() == (["nav"], 2)
    given = Membership.objects.create(user=users["nils"], agency=agencies["housing"], role=Role.MEMBER)
    assert inbox_agencies()[0] == ["housing", "nav"]
    given.delete()
    assert inbox_agencies()[0] == ["nav"]
