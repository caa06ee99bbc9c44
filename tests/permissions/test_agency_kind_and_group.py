"""An agency's kind and group open case data as a role does, so the agency's admin page changes
them for a superuser only (docs/security.md, "Who gives roles").

The kind decides which categories the agency holds as its own service (a health agency reads
health data without the person's consent, NAV economy data), and the group holds the
object permissions on every case the agency takes part in. Until 2026-12-06 Django's
change-agency permission alone (which the access administrator is given to keep memberships
on the agency's page) let a staff user make NAV a "health" agency, and every NAV member then
read every health value of every NAV case without consent; or move another agency's group,
and with it that agency's cases, to an agency of their choice."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from permissions import rules
from permissions.models import Agency, AgencyKind, Membership, Role
from tests.permissions.access_admins import agency_page_form
from tests.workflows.helpers import start_prison_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def access_admin(django_user_model, agencies):
    """NAV's access administrator, a staff user with every Django permission on agencies and
    memberships (the agency's page is where they keep NAV's memberships)."""
    user = django_user_model.objects.create_user("tilgang", password="x", is_staff=True)
    codenames = [
        f"{action}_{model}" for action in ("add", "change", "delete", "view") for model in ("agency", "membership")
    ]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.ACCESS_ADMIN)
    return user


def _page(agency, **changes) -> dict:
    return {**agency_page_form(agency, []), **changes}


def _post(user, agency, **changes):
    client = Client()
    client.force_login(user)
    return client.post(reverse("admin:permissions_agency_change", args=[agency.pk]), _page(agency, **changes))


def _reads_health(user, case) -> bool:
    user = type(user).objects.get(pk=user.pk)  # memberships read afresh
    case = type(case).objects.get(pk=case.pk)  # and the standing in the case
    return bool(rules.decide_category(rules.case_access(user, case), "health", consents=[]))


def test_the_agency_page_does_not_make_nav_a_health_service(shipped, access_admin, users, agencies):
    case = start_prison_case(users, agencies)
    assert not _reads_health(users["nils"], case)  # no consent: NAV reads no health data
    answer = _post(access_admin, agencies["nav"], kind=AgencyKind.HEALTH, municipality="Halden")
    assert answer.status_code == 302  # the rest of the page is saved
    nav = Agency.objects.get(pk=agencies["nav"].pk)
    assert (nav.kind, nav.municipality) == (AgencyKind.NAV, "Halden")
    assert not _reads_health(users["nils"], case)


def test_the_agency_page_moves_no_group_and_so_no_cases(access_admin, agencies):
    health, nav = agencies["health"], agencies["nav"]
    health_group, nav_group = health.group_id, nav.group_id
    spare = Group.objects.create(name="ledig")
    # Take the health service's group away, then give it to NAV: its cases' grants with it.
    _post(access_admin, health, group=str(spare.pk))
    _post(access_admin, nav, group=str(health_group))
    assert Agency.objects.get(pk=health.pk).group_id == health_group
    assert Agency.objects.get(pk=nav.pk).group_id == nav_group


def test_a_superuser_still_changes_an_agency_s_kind(admin_user, agencies):
    answer = _post(admin_user, agencies["municipality"], kind=AgencyKind.HOUSING)
    assert answer.status_code == 302
    assert Agency.objects.get(pk=agencies["municipality"].pk).kind == AgencyKind.HOUSING


def test_but_not_of_an_agency_they_hold_a_role_in(admin_user, agencies):
    """As nobody gives themselves a role, a superuser does not widen one they hold."""
    Membership.objects.create(user=admin_user, agency=agencies["nav"], role=Role.MEMBER)
    answer = _post(admin_user, agencies["nav"], kind=AgencyKind.HEALTH)
    assert answer.status_code == 302
    assert Agency.objects.get(pk=agencies["nav"].pk).kind == AgencyKind.NAV


def test_a_new_agency_is_given_its_kind_by_whoever_may_add_one(access_admin):
    group = Group.objects.create(name="ny")
    client = Client()
    client.force_login(access_admin)
    answer = client.post(
        reverse("admin:permissions_agency_add"),
        {**_page(Agency(name="Ny tjeneste", kind=AgencyKind.HEALTH, group_id=group.pk)), "group": str(group.pk)},
    )
    assert answer.status_code == 302
    assert Agency.objects.get(name="Ny tjeneste").kind == AgencyKind.HEALTH


def test_an_access_administrator_redirects_no_other_agency_s_notifications(access_admin, agencies):
    """The prison's notification address receives the reference and link of every prison case
    given a task: NAV's access administrator points it nowhere (403, nothing saved)."""
    prison = agencies["prison"]
    before = prison.notification_email
    answer = _post(access_admin, prison, notification_email="innsyn@eksempel.no", webhook_url="")
    assert answer.status_code == 403
    assert Agency.objects.get(pk=prison.pk).notification_email == before


def test_an_access_administrator_keeps_their_own_agency_s_page(access_admin, agencies):
    answer = _post(access_admin, agencies["nav"], notification_email="nav-ny@eksempel.no")
    assert answer.status_code == 302
    assert Agency.objects.get(pk=agencies["nav"].pk).notification_email == "nav-ny@eksempel.no"


def test_only_a_superuser_deletes_an_agency_and_its_memberships(access_admin, admin_user, django_user_model):
    group = Group.objects.create(name="tom")
    empty = Agency.objects.create(name="Tom tjeneste", kind=AgencyKind.HOUSING, group=group)
    Membership.objects.create(user=django_user_model.objects.create_user("ansatt"), agency=empty, role=Role.MEMBER)
    Membership.objects.create(user=access_admin, agency=empty, role=Role.ACCESS_ADMIN)
    url = reverse("admin:permissions_agency_delete", args=[empty.pk])
    client = Client()
    client.force_login(access_admin)
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Membership.objects.filter(agency=empty).count() == 2
    client.force_login(admin_user)
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Agency.objects.filter(pk=empty.pk).exists()


SECRET = "prison-webhook-secret-" + "q" * 20


def test_an_access_administrator_reads_another_agency_s_page_without_its_webhook_secret(access_admin, agencies):
    """Another agency's page is shown read-only to NAV's access administrator (they may view
    it, not change it): Django shows such a page's fields as the model holds them, so the
    secret that signs the prison's webhook calls is left out of it. Until 2026-12-06 the page
    was a 500 (the write-only form asked for the field the read-only page leaves out)."""
    prison = agencies["prison"]
    Agency.objects.filter(pk=prison.pk).update(
        webhook_url="https://kriminalomsorgen.example/hook", webhook_secret=SECRET
    )
    client = Client(raise_request_exception=False)
    client.force_login(access_admin)
    answer = client.get(reverse("admin:permissions_agency_change", args=[prison.pk]))
    assert answer.status_code == 200
    body = answer.content.decode()
    assert prison.name in body and SECRET not in body and SECRET[:12] not in body
    # Their own agency's page still takes a new secret (the form's password box).
    assert (
        'name="webhook_secret"'
        in client.get(reverse("admin:permissions_agency_change", args=[agencies["nav"].pk])).content.decode()
    )


def test_a_viewer_of_service_connectors_reads_no_connector_secret(django_user_model, agencies):
    """A staff user with the view permission on service connectors alone (a stray
    permission) reads the connector's page without the secret that signs its calls."""
    from workflows.models import ServiceConnector

    connector = ServiceConnector.objects.create(
        name="folkeregister-oppslag", url="https://register.example/api", secret=SECRET, agency=agencies["nav"]
    )
    viewer = django_user_model.objects.create_user("kobling-leser", password="x", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_serviceconnector"))
    client = Client(raise_request_exception=False)
    client.force_login(viewer)
    answer = client.get(reverse("admin:workflows_serviceconnector_change", args=[connector.pk]))
    assert answer.status_code == 200
    assert connector.name in answer.content.decode() and SECRET not in answer.content.decode()
