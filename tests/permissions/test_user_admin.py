"""Who changes users in the admin. Django gives whoever holds ``auth.change_user`` the power
to make themselves (or anyone) a superuser or staff, to set groups and permissions, to set any
password account's password without the old one, and (with ``delete_totpdevice``) to remove
another's second factor and make them an enrolment link: every account taken over, and with
it its roles' health, justice and economy data. Here the admin's powers are a superuser's
alone, and an account is changed only by a superuser or by the access administrator of every
agency its user has a role in, never an operator's account or one's own. Until 2026-12-06
each test below failed."""

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import EnrolmentLink
from permissions import role_requests, rules
from permissions.models import Membership, Role
from tests.permissions.access_admins import make_access_admin, signed_in, user_page_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

POWERS = "Bare en superbruker kan gi eller endre"
LINKS = "Ingen lenke ble laget"
NEW_PASSWORD = "Et-nytt-passord-for-kontoen-42"


@pytest.fixture
def user_admin(django_user_model, agencies):
    """NAV's access administrator, a staff user holding every Django permission on users,
    groups and devices: not a superuser."""
    user = django_user_model.objects.create_user("brukeradmin", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["auth", "otp_totp"],
            codename__in=[
                f"{action}_{model}"
                for action in ("add", "change", "delete", "view")
                for model in ("user", "group", "totpdevice")
            ],
        )
    )
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.ACCESS_ADMIN)
    return user


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root-admin", "root@example.org", "pw-1234567")


@pytest.fixture
def colleague(django_user_model, agencies):
    """Another staff user of NAV: NAV's second access administrator."""
    user = django_user_model.objects.create_user("kollega", password="x", is_staff=True)
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.ACCESS_ADMIN)
    return user


@pytest.fixture
def figures_reader(django_user_model, agencies):
    """A NAV user whose one role opens no case data (the leader's figures): their password,
    device and enrolment link stay one access administrator's help desk. A caseworker's wait
    for a second person since 2026-12-06 (``test_account_requests.py``)."""
    user = django_user_model.objects.create_user("tallleser", password="x")
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.LEADER)
    return user


def _powers(user):
    user.refresh_from_db()
    return (user.is_superuser, user.is_staff, set(user.groups.all()), set(user.user_permissions.all()))


@pytest.mark.parametrize(
    "tampered",
    [
        {"is_superuser": "on"},
        {"is_staff": "on"},
        "groups",
        "user_permissions",
    ],
)
def test_a_user_administrator_gives_no_admin_power_to_a_user_of_their_agency(user_admin, users, tampered):
    nils = users["nils"]  # a NAV caseworker: an account NAV's access administrator manages
    group = Group.objects.create(name="Alle makter")
    group.permissions.set(Permission.objects.all())
    if tampered == "groups":
        tampered = {"groups": [group.pk]}
    elif tampered == "user_permissions":
        tampered = {"user_permissions": [Permission.objects.get(codename="change_user").pk]}
    before = _powers(nils)
    answer = signed_in(user_admin).post(
        reverse("admin:auth_user_change", args=[nils.pk]), user_page_form(nils, **tampered)
    )
    assert answer.status_code == 200 and POWERS in answer.content.decode()
    assert _powers(nils) == before
    assert not LogEntry.objects.filter(object_id=str(nils.pk), action_flag=CHANGE).exists()


def test_a_user_administrator_still_changes_a_user_of_their_agency_in_the_history(user_admin, users):
    nils = users["nils"]
    page = signed_in(user_admin)
    shown = page.get(reverse("admin:auth_user_change", args=[nils.pk])).content.decode()
    assert 'name="last_name"' in shown and 'name="is_superuser"' not in shown and 'name="groups"' not in shown
    # What the page sends: not the address and username, read-only to her for a caseworker.
    sent = user_page_form(nils, last_name="Nilsen-Berg", read_only=("email", "username"))
    answer = page.post(reverse("admin:auth_user_change", args=[nils.pk]), sent)
    assert answer.status_code == 302
    nils.refresh_from_db()
    assert nils.last_name == "Nilsen-Berg"
    assert LogEntry.objects.filter(object_id=str(nils.pk), action_flag=CHANGE, user=user_admin).exists()


@pytest.mark.parametrize("tampered", [{"is_superuser": "on"}, {"is_staff": "on"}, "user_permissions", "groups"])
def test_a_user_administrator_raises_no_power_of_their_own(user_admin, tampered):
    if tampered == "user_permissions":
        tampered = {"user_permissions": list(Permission.objects.values_list("pk", flat=True))}
    elif tampered == "groups":
        tampered = {"groups": [Group.objects.create(name="Drift").pk]}
    before = _powers(user_admin)
    page = signed_in(user_admin)
    assert page.get(reverse("admin:auth_user_change", args=[user_admin.pk])).status_code == 200  # shown, read-only
    answer = page.post(reverse("admin:auth_user_change", args=[user_admin.pk]), user_page_form(user_admin, **tampered))
    assert answer.status_code == 403
    assert _powers(user_admin) == before


def test_a_user_administrator_gives_their_group_no_permission(user_admin):
    group = Group.objects.create(name="Brukeradministratorer")
    user_admin.groups.add(group)
    answer = signed_in(user_admin).post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": group.name, "permissions": list(Permission.objects.values_list("pk", flat=True))},
    )
    assert answer.status_code == 403
    assert not group.permissions.exists()
    assert signed_in(user_admin).post(reverse("admin:auth_group_add"), {"name": "Ny"}).status_code == 403
    assert not Group.objects.filter(name="Ny").exists()


def test_a_superuser_still_gives_the_admin_s_powers(root, users):
    nils = users["nils"]
    group = Group.objects.create(name="Drift")
    perm = Permission.objects.get(codename="view_incident")
    answer = signed_in(root).post(
        reverse("admin:auth_user_change", args=[nils.pk]),
        user_page_form(nils, is_staff="on", is_superuser="on", groups=[group.pk], user_permissions=[perm.pk]),
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert _powers(nils) == (True, True, {group}, {perm})
    assert LogEntry.objects.filter(object_id=str(nils.pk), action_flag=CHANGE, user=root).exists()


def _agency_of(user):
    return Membership.objects.get(user=user).agency


def _set_password(client, user):
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    shown = client.get(url).status_code
    posted = client.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set_usable_password": "true"}
    ).status_code
    user.refresh_from_db()
    return shown, posted, user.check_password(NEW_PASSWORD)


def test_a_user_administrator_sets_no_password_of_a_superuser_an_operator_another_agency_or_their_own(
    user_admin, root, colleague, users
):
    page = signed_in(user_admin)
    for target in (root, colleague, users["helga"], user_admin):  # helga: the health service's
        assert _set_password(page, target) == (403, 403, False), target.username
    # Nor of a caseworker of NAV who also works for another agency.
    Membership.objects.create(user=users["nora"], agency=_agency_of(users["helga"]), role=Role.MEMBER)
    assert _set_password(page, users["nora"]) == (403, 403, False)


def test_a_user_administrator_sets_the_password_of_a_user_of_their_agency_in_the_history(user_admin, figures_reader):
    # Until 2026-12-06 a caseworker's too (``nils``): now a request (test_account_requests.py).
    assert _set_password(signed_in(user_admin), figures_reader) == (200, 302, True)
    assert LogEntry.objects.filter(object_id=str(figures_reader.pk), action_flag=CHANGE, user=user_admin).exists()


def test_a_user_administrator_deletes_no_user_out_of_reach(user_admin, root, users):
    page = signed_in(user_admin)
    for target in (root, users["helga"]):
        assert page.post(reverse("admin:auth_user_delete", args=[target.pk]), {"post": "yes"}).status_code == 403
        target.refresh_from_db()


def test_the_superuser_sets_any_password(root, users):
    assert _set_password(signed_in(root), users["helga"]) == (200, 302, True)


def _device(user):
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def test_a_user_administrator_deletes_no_device_of_a_superuser_an_operator_or_another_agency(
    user_admin, root, colleague, users
):
    page = signed_in(user_admin)
    missing = reverse("admin:otp_totp_totpdevice_delete", args=[10**9])
    for target in (root, colleague, users["helga"]):
        device = _device(target)
        url = reverse("admin:otp_totp_totpdevice_delete", args=[device.pk])
        # 403 until 2026-12-07; now not even shown to her: the answer to a device that does not exist.
        for answer, none in ((page.get(url), page.get(missing)), (page.post(url, {"post": "yes"}), page.post(missing))):
            assert answer.status_code in (302, 403) and answer.get("Location") == none.get("Location")
        assert TOTPDevice.objects.filter(pk=device.pk).exists(), target.username
    # Nor through the list's bulk delete.
    device = _device(users["helga"])
    page.post(
        reverse("admin:otp_totp_totpdevice_changelist"),
        {"action": "delete_selected", "_selected_action": [device.pk], "post": "yes"},
    )
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_a_lost_phone_of_a_user_of_their_agency_is_deleted_in_the_history(user_admin, root, users, figures_reader):
    # Until 2026-12-06 a caseworker's too (``nils``): now a request (test_account_requests.py).
    device = _device(figures_reader)
    answer = signed_in(user_admin).post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert answer.status_code == 302 and not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert LogEntry.objects.filter(object_id=str(device.pk), action_flag=DELETION, user=user_admin).exists()
    other = _device(users["helga"])
    answer = signed_in(root).post(reverse("admin:otp_totp_totpdevice_delete", args=[other.pk]), {"post": "yes"})
    assert answer.status_code == 302
    assert not TOTPDevice.objects.filter(pk=other.pk).exists()


def _issue_links(client, *targets):
    return client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "issue_enrolment_links", "_selected_action": [target.pk for target in targets]},
        follow=True,
    )


def test_a_user_administrator_makes_no_enrolment_link_for_a_user_out_of_reach(user_admin, root, colleague, users):
    page = signed_in(user_admin)
    for chosen in ([root], [colleague], [users["helga"]], [user_admin], [users["nils"], users["helga"]]):
        answer = _issue_links(page, *chosen)
        assert answer.status_code == 200 and LINKS in answer.content.decode()
        assert "/accounts/two-factor/enrol/" not in answer.content.decode()
        assert not EnrolmentLink.objects.exists(), [user.username for user in chosen]


def test_enrolment_links_for_their_agency_s_users_and_a_superuser_s_for_anyone(user_admin, root, users, figures_reader):
    # Until 2026-12-06 a caseworker's too (``nils``): now a request (test_account_requests.py).
    assert "/accounts/two-factor/enrol/" in _issue_links(signed_in(user_admin), figures_reader).content.decode()
    assert "/accounts/two-factor/enrol/" in _issue_links(signed_in(root), users["helga"], root).content.decode()
    assert set(EnrolmentLink.objects.values_list("user__username", flat=True)) == {"tallleser", "helga", "root-admin"}


def test_a_user_without_a_role_is_changed_by_the_access_administrator_who_added_them_alone(
    user_admin, colleague, django_user_model
):
    page = signed_in(user_admin)
    added = page.post(
        reverse("admin:auth_user_add"),
        {"username": "ny-ansatt", "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert added.status_code == 302
    new = django_user_model.objects.get(username="ny-ansatt")
    assert _issue_links(page, new).content.decode().count("/accounts/two-factor/enrol/") == 1
    # A roleless account another made: the superuser's (or its maker's) to change.
    stranger = django_user_model.objects.create_user("uten-rolle", password="x")
    assert _set_password(page, stranger) == (403, 403, False)


@pytest.mark.parametrize("role", [Role.PROCESS_ADMIN, Role.MUNICIPAL_LEADER])
def test_a_user_administrator_takes_over_no_account_whose_role_reaches_beyond_the_agency(
    user_admin, root, django_user_model, agencies, role
):
    """A process admin (every process, its retention rules, every running case moved) or a
    municipality leader of NAV is given their role by a superuser alone
    (``rules.ROLES_BEYOND_THE_AGENCY``): NAV's access administrator, who may not give it, takes
    it no more by setting the account's password and making it an enrolment link (403, no
    password set, no link made). Until 2026-12-06 both were open to them."""
    holder = django_user_model.objects.create_user("prosess-nav", password="x")
    Membership.objects.create(user=holder, agency=agencies["nav"], role=role)
    page = signed_in(user_admin)
    assert _set_password(page, holder) == (403, 403, False)
    answer = _issue_links(page, holder)
    assert LINKS in answer.content.decode() and not EnrolmentLink.objects.exists()
    # The superuser still does both.
    assert _set_password(signed_in(root), holder) == (200, 302, True)


def test_a_caseworker_s_address_and_username_are_no_access_administrator_s_to_change(user_admin, root, users):
    """Until 2026-12-06 NAV's access administrator changed a caseworker's e-mail address alone,
    then asked for a password reset: the link came to the address they chose. Now the address
    (and the username) of a user holding a case role are read-only to anyone but a superuser:
    posted anyway, the page says so and saves nothing (since 2026-12-07; the rest was saved)."""
    nils = users["nils"]
    before = (nils.username, nils.email, nils.last_name)
    page = signed_in(user_admin)
    tampered = user_page_form(nils, email="tilgang@example.org", username="nils-ny", last_name="Berg")
    answer = page.post(reverse("admin:auth_user_change", args=[nils.pk]), tampered)
    assert answer.status_code == 200 and STALE in answer.content.decode()
    nils.refresh_from_db()
    assert (nils.username, nils.email, nils.last_name) == before
    shown = page.get(reverse("admin:auth_user_change", args=[nils.pk])).content.decode()
    assert 'name="email"' not in shown and 'name="username"' not in shown
    # A superuser still corrects it.
    answer = signed_in(root).post(
        reverse("admin:auth_user_change", args=[nils.pk]), user_page_form(nils, email="nils@nav.example.org")
    )
    assert answer.status_code == 302
    nils.refresh_from_db()
    assert nils.email == "nils@nav.example.org"


STALE = "Ingenting ble lagret: åpne siden på nytt og prøv igjen."


def _add_user(page, username):
    """The admin's add page, posted: a user with a password and no role, added by the page's user."""
    form = {"username": username, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    return page.post(reverse("admin:auth_user_add"), form)


def test_a_user_s_page_opened_before_their_first_case_role_saves_nothing_after_it(django_user_model, agencies):
    """Which of a user's fields the access administrator changes is decided when she saves, not
    when she opened the page: the user given a first case role meanwhile (a colleague's
    approval), the address and username her page still sends are a superuser's now. Until
    2026-12-07 they were dropped without a word and the rest saved; now the page says so and
    saves nothing."""
    requester = make_access_admin(django_user_model, agencies["nav"], "tilgang-med-siden-oppe")
    approver = make_access_admin(django_user_model, agencies["nav"], "tilgang-som-godkjenner-imens")
    page = signed_in(requester)
    assert _add_user(page, "ny-med-siden-oppe").status_code == 302
    newcomer = django_user_model.objects.get(username="ny-med-siden-oppe")
    url = reverse("admin:auth_user_change", args=[newcomer.pk])
    assert 'name="email"' in page.get(url).content.decode()  # hers to change, for now
    asked = role_requests.request_role(actor=requester, user=newcomer, agency=agencies["nav"], role=Role.MEMBER)
    role_requests.approve_role_request(actor=approver, request_id=asked.pk)
    newcomer.refresh_from_db()
    before = (newcomer.username, newcomer.email, newcomer.last_name)

    answer = page.post(url, user_page_form(newcomer, email="tilgang@example.org", last_name="Etter-rollen"))
    assert answer.status_code == 200 and STALE in answer.content.decode()
    newcomer.refresh_from_db()
    assert (newcomer.username, newcomer.email, newcomer.last_name) == before
    # Opened again, the page sends neither, and saves.
    assert 'name="email"' not in page.get(url).content.decode()
    fresh = user_page_form(newcomer, last_name="Etter-rollen", read_only=("email", "username"))
    assert page.post(url, fresh).status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.last_name == "Etter-rollen" and newcomer.email == before[1]


DEVICE = "Telefonen-til-en-NAV-leder"


@pytest.fixture
def nav_device(django_user_model, agencies):
    """An authenticator app of a NAV user (the leader's figures: no case data)."""
    owner = django_user_model.objects.create_user("nav-leder-med-app")
    Membership.objects.create(user=owner, agency=agencies["nav"], role=Role.LEADER)
    return TOTPDevice.objects.create(user=owner, name=DEVICE, confirmed=True)


def _device_pages(page, device_id) -> list[tuple[int, str]]:
    """What the device's own pages answer (its detail, history and deletion): status and where to."""
    names = ("change", "history", "delete")
    answers = [page.get(reverse(f"admin:otp_totp_totpdevice_{name}", args=[device_id])) for name in names]
    return [(answer.status_code, answer.get("Location", "")) for answer in answers]


def test_another_agency_s_access_administrator_reads_no_device_of_nav_s_users(django_user_model, agencies, nav_device):
    """Until 2026-12-07 any access administrator read every agency's users' authenticator apps
    (their names, whose, when used) on the device list, its search, each device's page and the
    admin's autocomplete. Now she reads those of the users she may manage, as she deletes them."""
    prison = signed_in(make_access_admin(django_user_model, agencies["prison"], "tilgang-i-fengselet"))
    changelist = reverse("admin:otp_totp_totpdevice_changelist")
    assert prison.get(changelist).status_code == 200
    assert DEVICE not in prison.get(changelist).content.decode()
    assert DEVICE not in prison.get(changelist, {"q": "nav-leder"}).content.decode()
    # Each of its pages answers as for a device that does not exist.
    assert _device_pages(prison, nav_device.pk) == _device_pages(prison, nav_device.pk + 1000)
    shown = prison.get(reverse("admin:otp_totp_totpdevice_change", args=[nav_device.pk]), follow=True)
    assert DEVICE not in shown.content.decode()
    # The admin's autocomplete answers for any relation to a device, with the user's name to search.
    for term in ("", "nav-leder"):
        found = prison.get(
            reverse("admin:autocomplete"),
            {"app_label": "accounts", "model_name": "accountrequest", "field_name": "device", "term": term},
        )
        assert found.status_code == 200 and DEVICE not in found.content.decode()

    # NAV's access administrator still reads, and deletes, her agency's users' devices.
    nav = signed_in(make_access_admin(django_user_model, agencies["nav"], "tilgang-i-nav-med-app"))
    assert DEVICE in nav.get(changelist).content.decode()
    assert DEVICE in nav.get(reverse("admin:otp_totp_totpdevice_change", args=[nav_device.pk])).content.decode()
    found = nav.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "accountrequest", "field_name": "device", "term": "nav-leder"},
    )
    assert DEVICE in found.content.decode()


def test_the_devices_listed_are_of_the_users_she_may_manage(django_user_model, agencies, root):
    """The device list's filter (``rules.users_managed_by``) and the rule its deletion asks
    (``rules.may_manage_user``) agree, user by user: her agency's, another's, both, an operator,
    herself, a user she added with no role yet and one another added."""
    admin_user = make_access_admin(django_user_model, agencies["nav"], "tilgang-som-ser-apper")
    other_admin = make_access_admin(django_user_model, agencies["prison"], "tilgang-i-fengselet-2")
    cast = {
        "hers": [(agencies["nav"], Role.MEMBER)],
        "leader": [(agencies["nav"], Role.LEADER)],
        "prison": [(agencies["prison"], Role.MEMBER)],
        "both": [(agencies["nav"], Role.MEMBER), (agencies["prison"], Role.MEMBER)],
        "beyond": [(agencies["nav"], Role.PROCESS_ADMIN)],
        "none-added-by-other": [],
    }
    for name, roles in cast.items():
        user = django_user_model.objects.create_user(f"app-{name}")
        for agency, role in roles:
            Membership.objects.create(user=user, agency=agency, role=role)
    assert _add_user(signed_in(admin_user), "app-none-added-by-her").status_code == 302
    assert _add_user(signed_in(other_admin), "app-none-added").status_code == 302
    everyone = list(django_user_model.objects.all())
    for user in everyone:
        TOTPDevice.objects.create(user=user, name=f"app-til-{user.username}", confirmed=True)
    for actor in (admin_user, other_admin, root):
        page = signed_in(actor).get(reverse("admin:otp_totp_totpdevice_changelist"), {"all": ""}).content.decode()
        listed = {user.username for user in everyone if f">app-til-{user.username}<" in page}
        assert listed == {user.username for user in everyone if rules.may_manage_user(actor, user)}, actor
    assert "app-hers" in {u.username for u in everyone if rules.may_manage_user(admin_user, u)}
    assert "app-none-added-by-her" in {u.username for u in everyone if rules.may_manage_user(admin_user, u)}
