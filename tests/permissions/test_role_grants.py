"""Who gives roles. A role opens an agency's cases (health, justice, economy data), so it is
given, changed or taken in an agency only by that agency's access administrator or a superuser,
and never by anyone to themselves. Until 2026-12-06 Django's add-membership permission alone let
a staff user give themselves (or anyone) any role in any agency, in the membership list, on the
agency's page and through an identity-provider group mapping of their own group."""

import time

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts import sessions
from accounts.models import ExternalIdentity, GroupMapping
from permissions.models import Membership, Role, RoleRequest
from tests.permissions.access_admins import agency_page_form, signed_in

pytestmark = pytest.mark.django_db

SELF = "Du kan ikke gi deg selv en rolle"
AGENCY = "Bare virksomhetens tilgangsadministrator eller en superbruker"


def _staff(django_user_model, username, *codenames):
    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def operator(django_user_model):
    """A staff user with every Django permission on memberships, agencies and group mappings."""
    return _staff(
        django_user_model,
        "operatør",
        *[
            f"{action}_{model}"
            for action in ("add", "change", "delete", "view")
            for model in ("membership", "agency", "groupmapping")
        ],
        "view_user",
    )


def _add_membership(client, user, agency, role=Role.COORDINATOR):
    return client.post(
        reverse("admin:permissions_membership_add"), {"user": user.pk, "agency": agency.pk, "role": role}
    )


def test_a_staff_user_with_the_add_permission_gives_themselves_no_role(operator, agencies):
    answer = _add_membership(signed_in(operator), operator, agencies["health"])
    assert answer.status_code == 200 and SELF in answer.content.decode()
    assert not Membership.objects.filter(user=operator).exists()


def test_nor_does_an_access_administrator_of_the_agency(operator, agencies):
    Membership.objects.create(user=operator, agency=agencies["health"], role=Role.ACCESS_ADMIN)
    answer = _add_membership(signed_in(operator), operator, agencies["health"])
    assert answer.status_code == 200 and SELF in answer.content.decode()
    assert list(Membership.objects.filter(user=operator).values_list("role", flat=True)) == [Role.ACCESS_ADMIN]


def test_the_permission_alone_gives_no_role_to_anyone_else_either(operator, users, agencies):
    answer = _add_membership(signed_in(operator), users["nils"], agencies["health"])
    assert answer.status_code == 200 and AGENCY in answer.content.decode()
    assert not Membership.objects.filter(user=users["nils"], agency=agencies["health"]).exists()


def test_the_agency_s_access_administrator_asks_for_roles_there_and_only_there(operator, users, agencies):
    """Asks: a role opening case data waits for a second person (``test_role_requests``)."""
    Membership.objects.create(user=operator, agency=agencies["health"], role=Role.ACCESS_ADMIN)
    client = signed_in(operator)
    assert _add_membership(client, users["nils"], agencies["health"]).status_code == 302
    assert not Membership.objects.filter(user=users["nils"], agency=agencies["health"]).exists()
    # In the record: who asked for which role.
    asked = RoleRequest.objects.get(user=users["nils"], agency=agencies["health"], role=Role.COORDINATOR)
    assert asked.requested_by == operator and asked.status == "pending"
    answer = _add_membership(client, users["nils"], agencies["prison"])
    assert answer.status_code == 200 and AGENCY in answer.content.decode()
    assert not Membership.objects.filter(user=users["nils"], agency=agencies["prison"]).exists()


def test_a_superuser_gives_roles_anywhere_but_not_to_themselves(admin_user, users, agencies):
    client = signed_in(admin_user)
    assert _add_membership(client, users["nils"], agencies["prison"]).status_code == 302
    answer = _add_membership(client, admin_user, agencies["prison"])
    assert answer.status_code == 200 and SELF in answer.content.decode()
    assert not Membership.objects.filter(user=admin_user).exists()


def test_one_s_own_role_is_neither_widened_nor_moved(operator, users, agencies):
    Membership.objects.create(user=operator, agency=agencies["health"], role=Role.ACCESS_ADMIN)
    own = Membership.objects.create(user=operator, agency=agencies["health"], role=Role.MEMBER)
    answer = signed_in(operator).post(
        reverse("admin:permissions_membership_change", args=[own.pk]),
        {"user": operator.pk, "agency": agencies["health"].pk, "role": Role.COORDINATOR},
    )
    assert answer.status_code == 200 and SELF in answer.content.decode()
    own.refresh_from_db()
    assert own.role == Role.MEMBER
    # Nor is another's role in an agency the operator does not administer moved onto them.
    theirs = Membership.objects.filter(user=users["nils"]).first()
    answer = signed_in(operator).post(
        reverse("admin:permissions_membership_change", args=[theirs.pk]),
        {"user": operator.pk, "agency": theirs.agency_id, "role": theirs.role},
    )
    assert answer.status_code == 200 and SELF in answer.content.decode()
    theirs.refresh_from_db()
    assert theirs.user == users["nils"]


def test_a_role_elsewhere_is_not_taken_away(operator, users):
    theirs = Membership.objects.filter(user=users["nils"]).first()
    answer = signed_in(operator).post(reverse("admin:permissions_membership_delete", args=[theirs.pk]), {"post": "yes"})
    assert answer.status_code == 403
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_the_agency_page_gives_the_operator_no_role_there(operator, agencies):
    agency = agencies["health"]
    existing = [
        {"id": str(m.pk), "agency": str(agency.pk), "user": str(m.user_id), "role": m.role}
        for m in Membership.objects.filter(agency=agency)
    ]
    data = agency_page_form(
        agency, [*existing, {"agency": str(agency.pk), "user": str(operator.pk), "role": Role.COORDINATOR}]
    )
    answer = signed_in(operator).post(reverse("admin:permissions_agency_change", args=[agency.pk]), data)
    # The page of an agency whose roles the operator may not give is not theirs to save at all
    # (``AgencyAdmin.has_change_permission``): 403, where the form's error came before it.
    assert answer.status_code == 403
    assert not Membership.objects.filter(user=operator).exists()


def test_the_agency_page_takes_no_role_away_without_the_agency_s_access_administrator(operator, agencies):
    agency = agencies["health"]
    rows = [
        {"id": str(m.pk), "agency": str(agency.pk), "user": str(m.user_id), "role": m.role, "DELETE": "on"}
        for m in Membership.objects.filter(agency=agency)
    ]
    before = Membership.objects.filter(agency=agency).count()
    assert before
    answer = signed_in(operator).post(
        reverse("admin:permissions_agency_change", args=[agency.pk]), agency_page_form(agency, rows)
    )
    assert answer.status_code == 403  # not their agency's page to save (as above)
    assert Membership.objects.filter(agency=agency).count() == before


def _single_sign_on_client(user, settings) -> Client:
    """A browser signed in through single sign-on a minute ago, as the provider's callback leaves it."""
    settings.OIDC_RP_CLIENT_ID = "brobygger"
    settings.OIDC_RP_CLIENT_SECRET = "s" * 40
    settings.OIDC_OP_ISSUER = "https://idp.example"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://idp.example/jwks"
    user.refresh_from_db()  # a single sign-on user's password was made unusable (accounts.signals)
    session = sessions.SessionStore()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "accounts.oidc.SingleSignOnBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            "oidc_id_token_expiration": time.time() - 60 + settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS,
        }
    )
    session.create()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def test_a_group_mapping_of_the_operator_s_own_group_is_refused(operator, agencies, settings):
    """A single sign-on operator in the provider group ``it-drift`` maps it to a role: at their next
    login the role would be theirs."""
    Membership.objects.create(user=operator, agency=agencies["health"], role=Role.ACCESS_ADMIN)
    ExternalIdentity.objects.create(
        user=operator, issuer="https://idp.example", subject="s-1", last_login_groups=["it-drift"]
    )
    client = _single_sign_on_client(operator, settings)
    answer = client.post(
        reverse("admin:accounts_groupmapping_add"),
        {"group": "it-drift", "agency": agencies["health"].pk, "role": Role.COORDINATOR},
    )
    assert answer.status_code == 200 and SELF in answer.content.decode()
    answer = client.post(
        reverse("admin:accounts_groupmapping_add"),
        {"group": "helse-saksbehandlere", "agency": agencies["prison"].pk, "role": Role.COORDINATOR},
    )
    assert answer.status_code == 200 and AGENCY in answer.content.decode()
    assert not GroupMapping.objects.exists()
    # A role opening no case data they still map (one opening case data is a superuser's since
    # 2026-12-06: test_account_requests.py).
    answer = client.post(
        reverse("admin:accounts_groupmapping_add"),
        {"group": "helse-ledere", "agency": agencies["health"].pk, "role": Role.LEADER},
    )
    assert answer.status_code == 302
    assert GroupMapping.objects.filter(group="helse-ledere", agency=agencies["health"]).exists()


def test_the_agency_page_asks_for_roles_through_the_agency_s_access_administrator(operator, users, agencies):
    agency = agencies["health"]
    Membership.objects.create(user=operator, agency=agency, role=Role.ACCESS_ADMIN)
    existing = [
        {"id": str(m.pk), "agency": str(agency.pk), "user": str(m.user_id), "role": m.role}
        for m in Membership.objects.filter(agency=agency)
    ]
    data = agency_page_form(
        agency, [*existing, {"agency": str(agency.pk), "user": str(users["nils"].pk), "role": Role.MEMBER}]
    )
    answer = signed_in(operator).post(reverse("admin:permissions_agency_change", args=[agency.pk]), data)
    assert answer.status_code == 302
    assert not Membership.objects.filter(user=users["nils"], agency=agency).exists()
    assert RoleRequest.objects.filter(user=users["nils"], agency=agency, role=Role.MEMBER, status="pending").exists()


BEYOND = "Bare en superbruker kan gi eller ta bort rollene prosessadministrator og kommuneleder"


@pytest.mark.parametrize("role", [Role.PROCESS_ADMIN, Role.MUNICIPAL_LEADER])
def test_an_access_administrator_gives_no_role_that_reaches_beyond_the_agency(operator, users, agencies, role):
    """A process admin edits and deploys every process and moves every running case; a
    municipality leader reads the whole municipality's figures. Until 2026-12-06 the prison's
    access administrator could make a colleague either, in the prison."""
    Membership.objects.create(user=operator, agency=agencies["prison"], role=Role.ACCESS_ADMIN)
    client = signed_in(operator)
    answer = _add_membership(client, users["kari"], agencies["prison"], role)
    assert answer.status_code == 200 and BEYOND in answer.content.decode()
    assert not Membership.objects.filter(user=users["kari"], role=role).exists()
    # Nor widens a role of the agency into one, nor takes one (the demo's process admin).
    own = Membership.objects.get(user=users["kari"], agency=agencies["prison"])
    answer = client.post(
        reverse("admin:permissions_membership_change", args=[own.pk]),
        {"user": users["kari"].pk, "agency": agencies["prison"].pk, "role": role},
    )
    assert answer.status_code == 200 and BEYOND in answer.content.decode()
    theirs = Membership.objects.create(user=users["nils"], agency=agencies["prison"], role=role)
    answer = client.post(reverse("admin:permissions_membership_delete", args=[theirs.pk]), {"post": "yes"})
    assert answer.status_code == 403
    assert Membership.objects.filter(pk=theirs.pk).exists()
    # Nor maps a provider group to one.
    answer = client.post(
        reverse("admin:accounts_groupmapping_add"),
        {"group": "fengsel-it", "agency": agencies["prison"].pk, "role": role},
    )
    assert answer.status_code == 200 and BEYOND in answer.content.decode()
    assert not GroupMapping.objects.exists()
    # The agency's own roles they still ask for (a second person approves).
    assert _add_membership(client, users["kari"], agencies["prison"], Role.LEAD).status_code == 302
    assert RoleRequest.objects.filter(user=users["kari"], role=Role.LEAD, status="pending").exists()


def test_a_superuser_gives_a_role_beyond_the_agency(admin_user, users, agencies):
    assert (
        _add_membership(signed_in(admin_user), users["kari"], agencies["prison"], Role.PROCESS_ADMIN).status_code == 302
    )
