"""Two-factor enrolment only through an administrator's one-time link (``EnrolmentLink``).

Until 2026-12-05 the first password sign-in of a user without a device showed the
enrolment page: whoever had the password first (before the user's first sign-in, or after
an admin removed a lost phone's device) enrolled their own authenticator and held the
account; the user, asked for a code they could not give, was locked out of it.

Now the administrator issues a link (the admin's action on users, or
``manage.py enrolment_link USERNAME``), shown once and given to the user apart from the
password. Opened in a session signed in as its user, the link lets that session enrol
(``open_link``); the first device confirmed uses it up. A link expires after
``TWO_FACTOR_ENROLMENT_HOURS``; issuing a new one ends the user's earlier ones."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import EnrolmentLink

SESSION_KEY = "two_factor_enrolment_link"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user, by=None) -> str:
    """A new link for ``user`` (the address to give them; not stored), ending any earlier one."""
    token = secrets.token_urlsafe(32)
    EnrolmentLink.objects.filter(user=user).delete()
    EnrolmentLink.objects.create(
        user=user,
        digest=_digest(token),
        expires_at=timezone.now() + timedelta(hours=settings.TWO_FACTOR_ENROLMENT_HOURS),
        created_by=by if by is not None and by.is_authenticated else None,
    )
    site = settings.BROBYGGER["SITE_URL"].rstrip("/")
    return site + reverse("two-factor-enrol", kwargs={"token": token})


def open_link(request, token: str) -> bool:
    """The signed-in session opens ``token``: True, and the session may enrol, when it is
    a live link of the session's own user."""
    if not isinstance(token, str) or len(token) > 100:
        return False
    link = EnrolmentLink.objects.filter(
        digest=_digest(token), user_id=request.user.pk, expires_at__gt=timezone.now()
    ).first()
    if link is None:
        return False
    request.session[SESSION_KEY] = link.pk
    return True


def opened_link(request) -> EnrolmentLink | None:
    """The live link this session opened, if any (for the session's own user)."""
    link_id = request.session.get(SESSION_KEY)
    if not isinstance(link_id, int):
        return None
    return EnrolmentLink.objects.filter(pk=link_id, user_id=request.user.pk, expires_at__gt=timezone.now()).first()


def use_up(request, link: EnrolmentLink) -> None:
    EnrolmentLink.objects.filter(pk=link.pk).delete()
    request.session.pop(SESSION_KEY, None)
