"""Single sign-on without a browser: the group mapping applied to memberships, the claim
read defensively, and nothing reachable while single sign-on is not configured.
(The whole flow against a real provider: tests/browser/test_sign_in.py.)"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.models import GroupMapping
from accounts.oidc import groups_from, sync_memberships
from permissions.models import Membership, Role

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


def _memberships(user):
    return set(Membership.objects.filter(user=user).values_list("agency__kind", "role"))


def test_memberships_become_exactly_what_the_mapped_groups_give(users, agencies, django_user_model):
    GroupMapping.objects.create(group="nav", agency=agencies["nav"], role=Role.MEMBER)
    GroupMapping.objects.create(group="nav-leads", agency=agencies["nav"], role=Role.LEAD)
    GroupMapping.objects.create(group="health", agency=agencies["health"], role=Role.MEMBER)
    user = django_user_model.objects.create_user("sso-user")
    Membership.objects.create(user=user, agency=agencies["prison"], role=Role.MEMBER)  # not from the provider
    user.groups.add(agencies["prison"].group)

    sync_memberships(user, ["nav", "nav-leads", "unknown"])
    assert _memberships(user) == {("nav", "member"), ("nav", "lead")}
    assert set(user.groups.all()) == {agencies["nav"].group}

    sync_memberships(user, ["health"])
    assert _memberships(user) == {("health", "member")}
    assert set(user.groups.all()) == {agencies["health"].group}
    assert _memberships(users["nils"]) == {("nav", "member")}  # nobody else is touched


def test_the_rules_see_the_new_memberships_at_once(agencies, django_user_model):
    from permissions import rules

    GroupMapping.objects.create(group="nav", agency=agencies["nav"], role=Role.MEMBER)
    user = django_user_model.objects.create_user("sso-user")
    assert rules.case_agency_ids(user) == set()  # cached on the user object
    sync_memberships(user, ["nav"])
    assert rules.case_agency_ids(user) == {agencies["nav"].pk}


@pytest.mark.parametrize(
    ("claim", "groups"),
    [
        (["b", "a", "a"], ["a", "b"]),
        ("single", ["single"]),
        (None, []),
        ({"a": 1}, []),
        ([1, "x", None], ["x"]),
    ],
)
def test_the_groups_claim_is_read_defensively(claim, groups):
    assert groups_from({"groups": claim} if claim is not None else {}) == groups


def test_without_configuration_there_is_no_single_sign_on(client, settings):
    settings.OIDC_RP_CLIENT_ID = ""
    assert "Logg inn med virksomhetens konto" not in client.get("/accounts/login/").content.decode()
    assert client.get("/accounts/sso/").status_code == 404
    assert client.get("/accounts/sso/callback/?code=x&state=y").status_code == 404


def test_a_half_configuration_stops_start_up():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "OIDC_RP_CLIENT_ID": "brobygger"},
    )
    assert result.returncode != 0 and "OIDC_OP_ISSUER" in result.stderr


def test_the_mapping_is_kept_in_the_admin(users, client, django_user_model):
    admin = django_user_model.objects.create_superuser("root-admin", password="x")
    client.force_login(admin)
    assert client.get("/admin/accounts/groupmapping/add/").status_code == 200
