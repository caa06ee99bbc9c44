"""The demo cast of design §9: agencies, users and memberships. Idempotent."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

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
    ("oscar", "Oscar Uten Etat", None, None),
]


@transaction.atomic
def seed_demo_cast(password: str) -> list[tuple[str, str, str | None]]:
    """Create or refresh the cast; returns (username, agency, role) rows for printing."""
    agencies: dict[str, Agency] = {}
    for name, kind, municipality, email in AGENCIES:
        group, _ = Group.objects.get_or_create(name=f"agency:{name}")
        agency, _ = Agency.objects.update_or_create(
            name=name,
            defaults={"kind": kind, "municipality": municipality, "notification_email": email, "group": group},
        )
        agencies[kind] = agency

    user_model = get_user_model()
    rows: list[tuple[str, str, str | None]] = []
    for username, full_name, agency_kind, role in USERS:
        first, _, last = full_name.partition(" ")
        user, _ = user_model.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@brobygger.example"
        user.set_password(password)
        user.save()
        if agency_kind is None:
            rows.append((username, "-", "no agency"))
            continue
        agency = agencies[agency_kind]
        Membership.objects.get_or_create(user=user, agency=agency, role=role)
        user.groups.add(agency.group)
        rows.append((username, agency.name, role))
    return rows
