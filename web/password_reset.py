"""Password reset by e-mail, sent by the job workers (``manage.py worker``), not by the request.

Django's page looked the address up and sent the mail inside the request: an address with
an account answered as late as the mail server took, one without at once, so the page told
anyone which addresses have accounts. The request now only writes a job with the typed
address (the same work whatever it is); the worker finds the accounts, makes the link and
sends (``send``). Nothing the page answers, nor when, depends on the address.

The link goes to ``SITE_URL``, never to the request's ``Host``. The address stays in the job
row only until the mail is sent.

How many (``limit``): within ``PASSWORD_RESET_WINDOW_MINUTES``, at most
``PASSWORD_RESET_MAILS_PER_ADDRESS`` requests for one address queue a job, whether it has an
account or not; the others answer the same page and queue nothing (so one address's inbox is
not flooded, and the answer still tells nothing of the address). One client makes at most
``PASSWORD_RESET_REQUESTS_PER_CLIENT`` requests that queue a job; the next answer 429 (which
depends on the client only). The counts are the job rows themselves: each keeps keyed
digests of its address and its client (``address``, ``client``) after its mail is sent."""

from __future__ import annotations

import ipaddress
import smtplib
import unicodedata
from datetime import timedelta
from urllib.parse import urlsplit

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.shortcuts import render
from django.template import loader
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from accounts.models import Deactivation
from workflows.jobs import queue
from workflows.jobs.errors import mail_failure
from workflows.jobs.models import password_reset_key
from workflows.models import Job, JobKind

LIMITED_STATUS = 429


class TooManyRequests(Exception):
    """The client has made its ``PASSWORD_RESET_REQUESTS_PER_CLIENT`` requests of the window."""


def address_key(email: str) -> str:
    """A keyed digest of the address as Django's reset compares it (NFKC, case folded): the
    same for ``Nils@…`` and ``nils@…``, which reach one account."""
    folded = unicodedata.normalize("NFKC", email).casefold()
    return salted_hmac("web.password_reset.address", folded).hexdigest()[:32]


def client_key(request) -> str:
    """A keyed digest of the client's address, as django-axes reads it
    (``accounts.lockout.client_ip``: behind the proxy, the address it saw). An IPv6 client
    counts by its /64, the block one connection is given (else each of its addresses would
    have a limit of its own)."""
    client = (get_client_ip_address(request) or "") if request is not None else ""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        client = str(ipaddress.ip_network(f"{address}/64", strict=False))
    return salted_hmac("web.password_reset.client", client).hexdigest()[:32]


def _lock(*keys: str) -> None:
    """Requests with the same keys count one after the other (PostgreSQL; SQLite runs one
    writing transaction at a time anyway): two at once each counted one short of the limit
    and both queued. Always in the order given (client, then address): no deadlock."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(key[:15], 16)])


def _recent(field: str, key: str) -> int:
    since = timezone.now() - timedelta(minutes=queue.conf("PASSWORD_RESET_WINDOW_MINUTES"))
    # The digest and ``created_at``: the partial indexes ``job_reset_address``/``_client``.
    return (
        Job.objects.alias(key=password_reset_key(field))
        .filter(kind=JobKind.PASSWORD_RESET, key=key, created_at__gte=since)
        .count()
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    def save(self, request=None, **_options) -> None:  # type: ignore[override]
        """Queue the mail; the worker sends it (``send``). Within the limits only: a client
        past its own raises ``TooManyRequests``; an address past its own queues nothing, and
        the page answers as if it had (the same for an address with an account or without)."""
        client, address = client_key(request), address_key(self.cleaned_data["email"])
        with transaction.atomic():
            _lock(client, address)
            if _recent("client", client) >= queue.conf("PASSWORD_RESET_REQUESTS_PER_CLIENT"):
                raise TooManyRequests
            if _recent("address", address) >= queue.conf("PASSWORD_RESET_MAILS_PER_ADDRESS"):
                return
            Job.objects.create(
                kind=JobKind.PASSWORD_RESET,
                due_at=queue.now(),
                max_attempts=queue.conf("JOB_MAX_ATTEMPTS"),
                payload={
                    "email": self.cleaned_data["email"],
                    "language": translation.get_language(),
                    "address": address,
                    "client": client,
                },
            )
            queue.wake_workers()  # PostgreSQL delivers the NOTIFY at the commit

    def deliver(self) -> None:
        """Django's ``save``: a mail with a link to ``SITE_URL`` for each account of the address."""
        site = urlsplit(settings.BROBYGGER["SITE_URL"])
        # The host and any path the site is served under, as the notifications' links
        super().save(
            domain_override=site.netloc + site.path.rstrip("/"),
            use_https=site.scheme == "https",
            token_generator=TOKENS,
        )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ) -> None:
        """Django's, but a mail server's failure is raised: the job tries again later
        (Django's logs it and carries on, and the mail is never sent)."""
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        try:
            EmailMultiAlternatives(subject, body, from_email, [to_email]).send()
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            # A refusal is recorded with its reply codes (``handlers.run_one``: any other
            # failure by its class), never the address it names.
            exc.job_error = mail_failure(exc)  # type: ignore[union-attr]
            raise


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except TooManyRequests:
            minutes = queue.conf("PASSWORD_RESET_WINDOW_MINUTES")
            response = render(
                self.request, "registration/password_reset_limited.html", {"minutes": minutes}, status=LIMITED_STATUS
            )
            response["Retry-After"] = str(minutes * 60)
            return response


class ResetTokens(PasswordResetTokenGenerator):
    """Django's tokens, keyed to the user's last deactivation too (``accounts.Deactivation``):
    a link mailed before the account was made inactive stays dead once it is made active
    again. Django's hash holds the password, the last login and the address, none of which
    a deactivation changes, so the link worked again within its three days. A user never
    made inactive has the hash Django gives (links mailed before this change still work)."""

    def _make_hash_value(self, user, timestamp):
        value = super()._make_hash_value(user, timestamp)
        at = Deactivation.objects.filter(user_id=user.pk).values_list("at", flat=True).first()
        return value if at is None else f"{value}deactivated{at.timestamp()}"


TOKENS = ResetTokens()


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's, but a link to an inactive account is one that does not work ("Lenken virker
    ikke"). Django's token holds the password, the last login and the address, not whether
    the account is active, and its view finds the user by id whatever they are: a link mailed
    before the user was made inactive set the password of the closed account, and the user
    made active again held the password whoever had the link chose. Asked on every request
    (the form's page and its post alike), so an account made inactive between them is refused
    too."""

    token_generator = TOKENS

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None


def send(job: Job) -> None:
    """The job handler (``workflows.jobs.handlers``): a reset link for every active account
    with a password whose address is the job's (Django's rules), none for any other."""
    payload = job.payload or {}
    form = PasswordResetForm(data={"email": payload.get("email", "")})
    if form.is_valid():
        with translation.override(payload.get("language") or settings.LANGUAGE_CODE):
            form.deliver()
    # The address is kept no longer than needed; its digests are counted by the page.
    kept = {key: payload[key] for key in ("address", "client") if key in payload}
    Job.objects.filter(pk=job.pk).update(payload=kept)
