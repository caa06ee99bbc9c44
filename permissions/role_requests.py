"""A role that opens case data, given by an access administrator, takes effect only when a
second person approves it (docs/security.md, "Who gives roles"): until 2026-12-06 one access
administrator alone could add a user, give them a case role, set their password and sign in as
them. The request is its own row (``RoleRequest``); the ``Membership`` is made on approval, so
the queries that decide what a user sees read memberships as before.

A user's first role opening case data ends, in the approval's transaction, the credentials
someone else may know (``first_case_role_given``, whose receiver is in ``accounts``, which this
module may not import). Until 2026-12-06 the requester set the password and the second factor
of a user with no such role alone (allowed: it opened nothing), asked for the role, and once a
second person approved it signed in to the cases as that user."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.dispatch import Signal

from permissions import rules
from permissions.models import Membership, RequestStatus, RoleRequest
from permissions.second_person import RequestRefused, record_decision, take_pending

# Sent inside ``approve_role_request`` when the approved role is the user's first in
# ``rules.ROLES_NEEDING_A_SECOND_PERSON`` (keywords ``user_id``, ``actor``). Its receiver ends the
# user's password, devices, links, sessions and tokens and returns the address of a new
# enrolment link for the approver (``accounts.account_requests.end_credentials``).
first_case_role_given = Signal()


class RoleRequestError(RequestRefused):
    """Why a request cannot be decided by this user now: ``decided`` (someone already did) or
    ``not_allowed`` (not a second person who may: ``rules.may_decide_role_request``),
    ``requester`` (approved only: the one who asked may no longer ask, ``rules.role_request_still_asked``)."""


def request_role(*, actor, user, agency, role: str, replaces: Membership | None = None) -> RoleRequest:
    """Ask that ``user`` be given ``role`` in ``agency`` (``replaces``: the membership it widens
    or moves). The caller has checked that ``actor`` may ask (``rules.check_role_grant``)."""
    return RoleRequest.objects.create(
        user=user,
        agency=agency,
        role=role,
        replaces=replaces,
        replaces_role=replaces.role if replaces is not None else "",
        requested_by=actor,
    )


def _decide(actor, request_id: int, status: str) -> RoleRequest:
    request = take_pending(
        RoleRequest.objects.all(),
        actor=actor,
        request_id=request_id,
        status=status,
        may_decide=rules.may_decide_role_request,
        still_asked=rules.role_request_still_asked,
        refused=RoleRequestError,
    )
    record_decision(request)
    return request


@transaction.atomic
def approve_role_request(*, actor, request_id: int) -> Membership:
    """The second person's approval: the role is given (the membership it replaces, if still
    there, taken away) and the request records who approved it and when.

    The user's first role opening case data also ends every credential set before it
    (``first_case_role_given``): the membership's ``enrolment_link`` is then the address of
    their new enrolment link, for the approver alone (None otherwise; not stored)."""
    request = _decide(actor, request_id, RequestStatus.APPROVED)
    first = _lock_and_ask_first(request.user_id, request.role)
    membership, _created = Membership.objects.get_or_create(
        user_id=request.user_id, agency_id=request.agency_id, role=request.role
    )
    if request.replaces_id is not None and request.replaces_id != membership.pk:
        Membership.objects.filter(pk=request.replaces_id).delete()
    membership.enrolment_link = _end_credentials(request.user_id, actor) if first else None
    return membership


def _lock_and_ask_first(user_id: int, role: str) -> bool:
    """Whether ``role`` is the first of ``user_id``'s roles opening case data, asked with the
    user's row locked (to the end of the caller's transaction). With the lock, a credential
    changed at once (``accounts.account_requests.lock_users``) is made before the grant (and
    ended by it) or after it (and asked of a second person). Until 2026-12-06 it was read
    without: a case role the user held (taken away by the requester meanwhile) made the
    approval no first one, while the requester's password or link, checked against no case
    role at all, was written. A service account's keys are its system's, set by a superuser
    (``manage.py service_key``): never ended here."""
    lock_users([user_id])
    return (
        role in rules.ROLES_NEEDING_A_SECOND_PERSON
        and not Membership.objects.filter(user_id=user_id, role__in=rules.ROLES_NEEDING_A_SECOND_PERSON).exists()
        and not rules.holds_a_service_account({user_id})
    )


def lock_users(user_ids) -> None:
    """Lock the rows of ``user_ids`` (in the caller's transaction) in id order: whoever locks
    several users' rows takes them in that order (a page giving roles to several users, a
    bulk action on accounts: ``accounts.account_requests.lock_users``), so two such changes
    on the same users wait for each other, never in a circle."""
    ids = sorted({int(pk) for pk in user_ids if pk is not None})
    if ids:
        list(get_user_model().objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


def _end_credentials(user_id: int, actor) -> str | None:
    answers = first_case_role_given.send(sender=RoleRequest, user_id=user_id, actor=actor)
    if not answers:  # never a role opening cases with the requester's credentials still on it
        raise RuntimeError("no receiver ends the credentials of a user given a first case role")
    return next((link for _receiver, link in answers if link), None)


@transaction.atomic
def give_at_once(*, actor, user_id: int, role: str, save: Callable[[], object]) -> str | None:
    """A role given at once, with no request (a superuser's grant in the admin), saved by
    ``save``. The user's first role opening case data ends the credentials set before it as an
    approval does (``approve_role_request``): returns the address of the new enrolment link,
    for ``actor`` alone (None otherwise). Until 2026-12-06 a superuser's grant ended nothing:
    an access administrator set a new user's password and second factor alone (allowed: the
    account opened nothing), asked a superuser to give it a NAV role, and signed in as it."""
    first = _lock_and_ask_first(user_id, role)
    save()
    return _end_credentials(user_id, actor) if first else None


@transaction.atomic
def refuse_role_request(*, actor, request_id: int) -> RoleRequest:
    """The second person's refusal: nothing is given, and the request records who refused it."""
    return _decide(actor, request_id, RequestStatus.REFUSED)
