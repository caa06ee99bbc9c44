"""Password reset by e-mail, sent by the job workers (``manage.py worker``), not by the request.

Django's page looked the address up and sent the mail inside the request: an address with
an account answered as late as the mail server took, one without at once, so the page told
anyone which addresses have accounts. The request now only writes a job with the typed
address (the same work whatever it is); the worker finds the accounts, makes the link and
sends (``send``). Nothing the page answers, nor when, depends on the address.

The link goes to ``SITE_URL``, never to the request's ``Host``. The address stays in the job
row only until the mail is sent."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import loader
from django.utils import translation

from workflows.jobs import queue
from workflows.models import Job, JobKind


class PasswordResetForm(auth_forms.PasswordResetForm):
    def save(self, **_options) -> None:  # type: ignore[override]
        """Queue the mail; the worker sends it (``send``)."""
        with transaction.atomic():
            Job.objects.create(
                kind=JobKind.PASSWORD_RESET,
                due_at=queue.now(),
                max_attempts=queue.conf("JOB_MAX_ATTEMPTS"),
                payload={"email": self.cleaned_data["email"], "language": translation.get_language()},
            )
            queue.wake_workers()  # PostgreSQL delivers the NOTIFY at the commit

    def deliver(self) -> None:
        """Django's ``save``: a mail with a link to ``SITE_URL`` for each account of the address."""
        site = urlsplit(settings.BROBYGGER["SITE_URL"])
        # The host and any path the site is served under, as the notifications' links
        super().save(domain_override=site.netloc + site.path.rstrip("/"), use_https=site.scheme == "https")

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
        EmailMultiAlternatives(subject, body, from_email, [to_email]).send()


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm


def send(job: Job) -> None:
    """The job handler (``workflows.jobs.handlers``): a reset link for every active account
    with a password whose address is the job's (Django's rules), none for any other."""
    payload = job.payload or {}
    form = PasswordResetForm(data={"email": payload.get("email", "")})
    if form.is_valid():
        with translation.override(payload.get("language") or settings.LANGUAGE_CODE):
            form.deliver()
    Job.objects.filter(pk=job.pk).update(payload={})  # the address is kept no longer than needed
