"""Every access rule, as a named predicate. Nothing else in the code base decides access.

Views, API permission classes and services call these; they never inspect memberships
themselves. Superusers get no bypass: case data is sensitive and the law asks for a
role and an assignment, not a flag.
"""

from __future__ import annotations

from .models import CASE_ROLES, Agency, Membership, Role


def case_agency_ids(user) -> set[int]:
    """Agencies in which the user works cases (member, lead or coordinator)."""
    if not user or not user.is_authenticated:
        return set()
    cache = getattr(user, "_case_agency_ids", None)
    if cache is None:
        cache = set(
            Membership.objects.filter(user=user, role__in=CASE_ROLES).values_list("agency_id", flat=True)
        )
        user._case_agency_ids = cache
    return cache


def is_process_admin(user) -> bool:
    return bool(user and user.is_authenticated) and Membership.objects.filter(
        user=user, role=Role.PROCESS_ADMIN
    ).exists()


def can_deploy_process(user) -> bool:
    return is_process_admin(user)


def can_start_case(user, participant_agencies: list[Agency]) -> bool:
    """A case is started by someone who works cases in one of its participating agencies."""
    mine = case_agency_ids(user)
    return any(agency.pk in mine for agency in participant_agencies)


def can_view_case(user, case) -> bool:
    """The user's agency participates in the case and the user has a case role there."""
    mine = case_agency_ids(user)
    if not mine:
        return False
    return case.participants.filter(agency_id__in=mine).exists()


def can_view_task(user, task) -> bool:
    return can_view_case(user, task.case)


def can_work_task(user, task) -> bool:
    """Claim, unclaim and complete: only people of the agency the task landed on."""
    return task.agency_id in case_agency_ids(user)


def can_retry_incident(user) -> bool:
    return is_process_admin(user)
