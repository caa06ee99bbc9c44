"""The demo cast of design §9: agencies, users and memberships. Idempotent."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from permissions.models import Agency, AgencyKind, Membership, Role

AGENCIES: list[tuple[str, str, str, str]] = [
    ("Halden fengsel", AgencyKind.PRISON, "Halden", "post.halden@kriminalomsorg.example"),
    ("NAV Sarpsborg", AgencyKind.NAV, "Sarpsborg", "nav.sarpsborg@nav.example"),
    ("Sarpsborg kommune rus og psykisk helse", AgencyKind.HEALTH, "Sarpsborg", "rus.psykisk@sarpsborg.example"),
    ("Boligkontaktene Sarpsborg", AgencyKind.HOUSING, "Sarpsborg", "boligkontakt@sarpsborg.example"),
    ("Sykehuset Østfold", AgencyKind.HOSPITAL, "Sarpsborg", "utskriving@so-hf.example"),
    # Allocation of municipal homes, startlån, tilskudd and bostøtte: the decisions (enkeltvedtak).
    ("Sarpsborg kommune tildelingskontor", AgencyKind.MUNICIPALITY, "Sarpsborg", "tildeling@sarpsborg.example"),
]

# username, full name, agency kind (None: no agency), role
USERS: list[tuple[str, str, str | None, str | None]] = [
    ("kari", "Kari Fengselsbetjent", AgencyKind.PRISON, Role.MEMBER),
    ("nils", "Nils NAV-veileder", AgencyKind.NAV, Role.MEMBER),
    ("nora", "Nora NAV-veileder", AgencyKind.NAV, Role.MEMBER),
    ("helga", "Helga Helsearbeider", AgencyKind.HEALTH, Role.MEMBER),
    ("bjorn", "Bjørn Boligkontakt", AgencyKind.HOUSING, Role.COORDINATOR),
    ("hanne", "Hanne Boligkontakt", AgencyKind.HOUSING, Role.MEMBER),
    ("tore", "Tore Boligkontakt", AgencyKind.HOUSING, Role.MEMBER),
    # Leads the housing contacts: reassigns cases, sees each contact's caseload.
    ("lise", "Lise Leder", AgencyKind.HOUSING, Role.LEAD),
    ("siri", "Siri Sykepleier", AgencyKind.HOSPITAL, Role.MEMBER),
    ("mona", "Mona Saksbehandler", AgencyKind.MUNICIPALITY, Role.MEMBER),
    ("ada", "Ada Prosessadministrator", AgencyKind.HOUSING, Role.PROCESS_ADMIN),
    ("aud", "Aud Revisor", AgencyKind.HOUSING, Role.AUDITOR),
    ("leif", "Leif Kommunalsjef", AgencyKind.MUNICIPALITY, Role.MUNICIPAL_LEADER),
    ("nina", "Nina NAV-leder", AgencyKind.NAV, Role.LEADER),
    # Gives, changes and takes NAV's roles in the Django admin (staff, with the permissions
    # below); sees no case data.
    ("tove", "Tove Tilgangsadministrator", AgencyKind.NAV, Role.ACCESS_ADMIN),
    ("oscar", "Oscar Uten Etat", None, None),
]


# An access administrator's Django permissions (docs/security.md, "Who gives roles", "Who may
# change users in the admin"): the pages where roles are kept, their agency's page and its
# users' accounts. Which rows they may change there is decided by ``permissions.rules``.
ACCESS_ADMIN_PERMISSIONS: list[tuple[str, str]] = [
    *[("permissions", f"{action}_membership") for action in ("add", "change", "delete", "view")],
    ("permissions", "view_agency"),
    ("permissions", "change_agency"),
    *[("accounts", f"{action}_groupmapping") for action in ("add", "change", "delete", "view")],
    *[("auth", f"{action}_user") for action in ("add", "change", "view")],
    ("otp_totp", "view_totpdevice"),
    ("otp_totp", "delete_totpdevice"),
]


@transaction.atomic
def seed_demo_cast(password: str) -> list[tuple[str, str, str | None]]:
    """Create or refresh the cast; returns (username, agency, role) rows for printing.

    What is missing is created in one statement per table (a fresh database: six
    statements, where a row at a time took about 200; the test suite seeds the cast some
    2,000 times). Users already there are saved one by one, as a refresh must send the
    password-change signal that ends their tokens and sessions (``accounts.signals``)."""
    agencies = _seed_agencies()
    user_model = get_user_model()
    existing = {user.username: user for user in user_model.objects.filter(username__in=[row[0] for row in USERS])}
    new_users: list = []
    for username, full_name, _, role in USERS:
        first, _, last = full_name.partition(" ")
        user = existing.get(username) or user_model(username=username)
        user.first_name, user.last_name = first, last
        user.is_staff = role == Role.ACCESS_ADMIN  # the admin is where they work
        user.email = f"{username}@brobygger.example"
        user.set_password(password)
        if user.pk is None:
            new_users.append(user)
        else:
            user.save()
    # New users have no token or session a password change would end: no signal is owed.
    user_model.objects.bulk_create(new_users)
    users = {user.username: user for user in [*existing.values(), *new_users]}

    memberships = set(Membership.objects.filter(user__in=users.values()).values_list("user_id", "agency_id", "role"))
    in_groups = set(
        user_model.groups.through.objects.filter(user_id__in=[user.pk for user in users.values()]).values_list(
            "user_id", "group_id"
        )
    )
    new_memberships, new_group_rows = [], []
    rows: list[tuple[str, str, str | None]] = []
    for username, _, agency_kind, role in USERS:
        user = users[username]
        if agency_kind is None or role is None:
            rows.append((username, "-", "no agency"))
            continue
        agency = agencies[agency_kind]
        if (user.pk, agency.pk, role) not in memberships:
            new_memberships.append(Membership(user=user, agency=agency, role=role))
        if (user.pk, agency.group_id) not in in_groups:
            new_group_rows.append(user_model.groups.through(user_id=user.pk, group_id=agency.group_id))
            in_groups.add((user.pk, agency.group_id))
        rows.append((username, agency.name, role))
    Membership.objects.bulk_create(new_memberships)
    user_model.groups.through.objects.bulk_create(new_group_rows)
    _give_admin_permissions([users[row[0]] for row in USERS if row[3] == Role.ACCESS_ADMIN])
    return rows


def _give_admin_permissions(admins) -> None:
    """The access administrators' Django permissions (``ACCESS_ADMIN_PERMISSIONS``), the
    missing ones added: two statements."""
    wanted = Q()
    for app_label, codename in ACCESS_ADMIN_PERMISSIONS:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    permission_ids = list(Permission.objects.filter(wanted).values_list("pk", flat=True))
    through = get_user_model().user_permissions.through
    # The pair is unique: a permission held already is left as it is.
    through.objects.bulk_create(
        [through(user_id=user.pk, permission_id=pk) for user in admins for pk in permission_ids],
        ignore_conflicts=True,
    )


def _seed_agencies() -> dict[str, Agency]:
    """The cast's agencies with their groups, by kind: created or brought back to the list."""
    names = [f"agency:{name}" for name, _, _, _ in AGENCIES]
    groups = {group.name: group for group in Group.objects.filter(name__in=names)}
    created_groups = Group.objects.bulk_create([Group(name=name) for name in names if name not in groups])
    groups.update({group.name: group for group in created_groups})
    existing = {agency.name: agency for agency in Agency.objects.filter(name__in=[row[0] for row in AGENCIES])}
    agencies: dict[str, Agency] = {}
    changed, created = [], []
    for name, kind, municipality, email in AGENCIES:
        values = {
            "kind": kind,
            "municipality": municipality,
            "notification_email": email,
            "group_id": groups[f"agency:{name}"].pk,
        }
        agency = existing.get(name)
        if agency is None:
            agency = Agency(name=name, **values)
            created.append(agency)
        elif any(getattr(agency, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(agency, field, value)
            changed.append(agency)
        agencies[kind] = agency
    Agency.objects.bulk_create(created)
    Agency.objects.bulk_update(changed, ["kind", "municipality", "notification_email", "group"])
    return agencies
