"""A change that takes over an account, asked for by an access administrator for a user who holds
a role opening case data, takes effect only when a second person approves it (docs/security.md,
"Who may change users in the admin"). Until 2026-12-06 NAV's access administrator, who sees no
case data, could alone set a caseworker's password, remove their device, make them an enrolment
link and sign in as them. The sibling of ``permissions.role_requests``: same statuses, same
lock-then-re-check, an approver who may manage the user (``rules.may_decide_account_request``).

What each approval does:

- a password: the hash the requester's form made is set (its text was never stored);
- a device: deleted, if it is still the user's;
- an enrolment link: made now, and its address returned to the approver alone, who gives it to
  the user. The requester never sees it, so neither person alone holds both the password and a
  second factor."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import device_cookies, enrolment, sessions, tokens
from accounts.models import AccountRequest, AccountRequestKind
from permissions import role_requests, rules
from permissions.models import RequestStatus
from permissions.second_person import RequestRefused, record_decision, take_pending


class AccountRequestError(RequestRefused):
    """Why a request cannot be made or decided now: ``waiting`` (one of its kind already waits
    for the user), ``decided`` (someone already did), ``not_allowed`` (not a second person who
    may: ``rules.may_decide_account_request``), ``requester`` (approved only: the one who asked
    may no longer ask, ``rules.account_request_still_asked``)."""


def request_account_change(
    *, actor, user, kind: str, password: str | None = None, device: TOTPDevice | None = None
) -> AccountRequest:
    """Ask for ``kind`` on ``user``'s account. The caller has checked that ``actor`` may manage
    the user (``rules.may_manage_user``) and that it needs a second person. ``password``: the
    new one's text, kept only as its hash."""
    try:
        with transaction.atomic():
            return AccountRequest.objects.create(
                user=user,
                kind=kind,
                password_hash=make_password(password) if kind == AccountRequestKind.PASSWORD else "",
                device=device if kind == AccountRequestKind.REMOVE_DEVICE else None,
                requested_by=actor,
            )
    except IntegrityError:  # ``one_pending_account_request``
        raise AccountRequestError("waiting") from None


def lock_users(user_ids) -> None:
    """Lock the rows of ``user_ids`` (in the caller's transaction, in id order) before asking
    whether a change of their accounts needs a second person and making it at once: the
    approval of a first role opening case data locks the user's row too, before it asks
    whether the role is the first (``permissions.role_requests.approve_role_request``), and
    ends the credentials under that lock. Until 2026-12-06 the check read no lock: a password
    or an enrolment link made by the access administrator while a second person approved the
    user's first case role was checked before the approval committed and written after it
    ended the credentials, and outlived it (the requester's link beside the approver's)."""
    role_requests.lock_users(user_ids)


def _decide(actor, request_id: int, status: str) -> AccountRequest:
    return take_pending(
        AccountRequest.objects.select_related("user"),
        actor=actor,
        request_id=request_id,
        status=status,
        may_decide=rules.may_decide_account_request,
        still_asked=rules.account_request_still_asked,
        refused=AccountRequestError,
    )


@transaction.atomic
def approve_account_request(*, actor, request_id: int) -> tuple[AccountRequest, str | None]:
    """The second person's approval: the change is made. Returns the request and, for an
    enrolment link, its address (for the approver; only its digest is stored)."""
    request = _decide(actor, request_id, RequestStatus.APPROVED)
    link = None
    if request.kind == AccountRequestKind.PASSWORD:
        user = get_user_model().objects.select_for_update().get(pk=request.user_id)
        user.password = request.password_hash
        user.save(update_fields=["password"])
    elif request.kind == AccountRequestKind.REMOVE_DEVICE:
        TOTPDevice.objects.filter(pk=request.device_id, user_id=request.user_id).delete()
    else:
        link = enrolment.issue(request.user, by=actor)
    request.password_hash = ""
    record_decision(request, "password_hash")
    return request, link


@transaction.atomic
def refuse_account_request(*, actor, request_id: int) -> AccountRequest:
    """The second person's refusal: nothing changes, the request records who refused it."""
    request = _decide(actor, request_id, RequestStatus.REFUSED)
    request.password_hash = ""
    record_decision(request, "password_hash")
    return request


def end_credentials(user_id: int, *, by) -> str:
    """The credentials of ``user_id`` that someone other than the user may know, ended (in the
    caller's transaction): the password made unusable, the e-mail address emptied, every TOTP
    device and enrolment link deleted, every session, API token and device cookie ended.
    Returns the address of a new enrolment link, for ``by`` alone. Called when a user's first
    role opening case data is approved (``permissions.role_requests.first_case_role_given``):
    until then whoever manages the account set all of these alone.

    The password goes whoever set it: whether the user changed it after an administrator last
    set it is recorded nowhere reliable (the user's own change page, ``manage.py
    changepassword`` and a shell leave no trace). A single sign-on user has none to lose and
    signs in as before; anyone else is given one as any caseworker is (an account change
    request, or a superuser). The address goes the same way: the password reset mails it a
    link that sets the password, and who set it last is recorded nowhere reliable either (until
    2026-12-07 the requester's own address outlived the approval, and once the user had a
    password again the reset mailed her a link). A caseworker's address is then a superuser's
    to set (``accounts.admin.UserAdmin.get_readonly_fields``); a single sign-on user's is
    copied from the provider again at their next sign-in."""
    user = get_user_model().objects.select_for_update().get(pk=user_id)
    if user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])  # a password change (``accounts.signals``)
    if user.email:
        user.email = ""
        user.save(update_fields=["email"])
    TOTPDevice.objects.filter(user_id=user_id).delete()
    sessions.end_sessions_of(user)
    tokens.revoke_all(user)
    device_cookies.revoke_all(user)
    return enrolment.issue(user, by=by)  # ends the earlier links
