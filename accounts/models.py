"""Sign-in data: how identity-provider groups map to agencies and roles, and which
identity-provider account a local user is."""

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.translation import gettext_lazy as _

from permissions.models import Agency, Role, SecondPersonRequest, one_pending


class GroupMapping(models.Model):
    """One identity-provider group gives one role in one agency.

    A model, not a setting: agencies are rows whose ids differ per installation, and an
    agency joins or a group is renamed without a deploy. The admin's change history
    records who changed a mapping. Applied at every single sign-on login
    (``accounts.oidc.sync_memberships``).
    """

    group = models.CharField(
        _("identity-provider group"),
        max_length=255,
        help_text=_("The exact value in the groups claim of the ID token or userinfo answer."),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="group_mappings", verbose_name=_("agency")
    )
    role = models.CharField(max_length=20, choices=Role.choices, verbose_name=_("role"))

    class Meta:
        verbose_name = _("identity-provider group mapping")
        verbose_name_plural = _("identity-provider group mappings")
        ordering = ["group", "agency__name", "role"]
        constraints = [
            models.UniqueConstraint(fields=["group", "agency", "role"], name="unique_group_mapping"),
        ]

    def __str__(self):
        return f"{self.group} → {self.get_role_display()}, {self.agency}"


class ExternalIdentity(models.Model):
    """The identity-provider account (issuer and subject) a local user signs in as.

    Users are found by the provider's stable subject, never by e-mail address: an
    address can be changed by its holder at some providers, a subject cannot.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identity", verbose_name=_("user")
    )
    issuer = models.CharField(max_length=500, verbose_name=_("issuer"))
    subject = models.CharField(max_length=255, verbose_name=_("subject"))
    last_login_groups = models.JSONField(default=list, blank=True, verbose_name=_("last login groups"))

    class Meta:
        verbose_name = _("single sign-on identity")
        verbose_name_plural = _("single sign-on identities")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="unique_external_identity"),
        ]

    def __str__(self):
        return f"{self.user} ({self.subject})"


class TokenDevice(models.Model):
    """The second-factor device whose code an API token was issued with.

    A token without this row was issued with a password alone (its user needed no second
    factor then); ``accounts.tokens.TokenAuthentication`` refuses it once the user must
    give one. Deleting the device (a lost phone) deletes this row, and so ends every
    token issued with its codes, as it ends the second factor of the user's sessions.
    """

    token = models.OneToOneField(
        "knox.AuthToken", on_delete=models.CASCADE, primary_key=True, related_name="second_factor"
    )
    device = models.ForeignKey("otp_totp.TOTPDevice", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("API token's second factor")
        verbose_name_plural = _("API tokens' second factors")

    def __str__(self):
        return f"{self.token_id[:8]}… ← {self.device}"


class EnrolmentLink(models.Model):
    """An administrator's one-time link that lets its user set up two-factor sign-in.

    The password alone does not: whoever had it before the user's first sign-in (a password
    handed over with the account, guessed, or read over a shoulder), or after an admin had
    removed the user's device (a lost phone), enrolled their own authenticator first and so
    held the account, the user locked out. The link is given to the user apart from the
    password (in person, by phone); it works once, for its user only, until ``expires_at``.
    Only a digest is stored (``accounts.enrolment``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    digest = models.CharField(max_length=64, unique=True, verbose_name=_("digest"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("two-factor enrolment link")
        verbose_name_plural = _("two-factor enrolment links")

    def __str__(self):
        return f"{self.user} ({self.expires_at:%Y-%m-%d %H:%M})"


class Deactivation(models.Model):
    """When the user was last made inactive: part of what a password-reset link is keyed to
    (``web.password_reset.ResetTokens``). Django's token holds the password, the last login
    and the address; a link mailed before the account was closed therefore worked again once
    it was made active again within the link's lifetime (``PASSWORD_RESET_TIMEOUT``, three
    days), setting the password whoever held the mail chose. Written by a trigger on the user
    table whenever ``is_active`` goes from true to false (accounts 0008): a save, a bulk
    ``update`` or plain SQL alike."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="deactivation"
    )
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("deactivation")
        verbose_name_plural = _("deactivations")

    def __str__(self):
        return f"{self.user_id} {self.at:%Y-%m-%d %H:%M}"


class UserSession(AbstractBaseSession):
    """Django's session table (``django_session``, which ``django.contrib.sessions`` owns) as
    this project's session store writes it (``accounts.sessions.SessionStore``, Django's way
    of extending the database store: ``get_model_class``, ``create_model_instance``): the
    signed-in user's id beside the signed data, written with every save of the session (0:
    nobody signed in; NULL: written before accounts 0012, or by a process that had not yet
    loaded it). Indexed: a user's sessions are found, and ended, by it (the deactivation
    trigger deletes them; ``end_deactivated_sessions`` reads a deactivated user's few) instead
    of decoding every live session (1.3-1.7 s at 20,000 sessions, once per new deactivation
    in every worker, until 2026-12-06). The column is accounts 0012's (``ALTER TABLE``):
    unmanaged, as the table is the sessions app's."""

    user_id = models.IntegerField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "django_session"
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls):
        from accounts.sessions import SessionStore

        return SessionStore


class RateBucket(models.Model):
    """One rate limit's state (``accounts.rate_limit``): a user's API or page requests, a username's
    failed sign-ins. In the database because it is what every web process of every node
    shares (docs/security.md, "Rate limits per user"); on PostgreSQL the table is UNLOGGED
    (no WAL write per request; emptied after a crash, which only gives full buckets)."""

    key = models.CharField(_("key"), primary_key=True, max_length=200)
    # The generic cell rate algorithm's "theoretical arrival time", in seconds since the
    # epoch: the bucket is full once it is in the past.
    tat = models.FloatField(verbose_name=_("tat"))

    class Meta:
        db_table = "accounts_rate_bucket"
        verbose_name = _("rate limit bucket")
        verbose_name_plural = _("rate limit buckets")

    def __str__(self) -> str:
        return self.key


class KnownDevice(models.Model):
    """A browser that signed in as its user (password, and the code when one is owed): its
    device cookie (``accounts.device_cookies``) names this row by a nonce whose digest alone is
    kept here. Failed sign-ins from it count against it alone, not the username's locks
    (docs/security.md, "Lockout"). Deleting the row ends the cookie: a password change, the
    user made inactive, and "sign out everywhere" delete every row of the user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    digest = models.CharField(max_length=64, unique=True, verbose_name=_("digest"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))

    class Meta:
        verbose_name = _("known browser")
        verbose_name_plural = _("known browsers")
        indexes = [models.Index(fields=["user", "expires_at"], name="known_device_user_expiry")]

    def __str__(self):
        return f"{self.user_id} {self.expires_at:%Y-%m-%d %H:%M}"


class ServiceAccount(models.Model):
    """A user that is an agency's system, not a person: it signs in with API keys only
    (``manage.py service_key``), never with a password (its password is unusable), and so no
    one's failed sign-ins against its username stop it: the keys are random 256-bit secrets,
    guessing them is hopeless, and nothing locks them (docs/security.md, "Service accounts")."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="service_account",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    created_by = models.CharField(max_length=150, blank=True, verbose_name=_("created by"))

    class Meta:
        verbose_name = _("service account")
        verbose_name_plural = _("service accounts")

    def __str__(self):
        return str(self.user_id)


class RefusedSignIn(models.Model):
    """Sign-in tries refused because a lock held (``accounts.lockout.record_refused``): they test
    no password and count toward no lock, so django-axes' log of failures leaves them out, and an
    admin could not see that a guessing attack went on while the lock held. One row per username
    and client address for as long as the tries keep coming (no gap longer than the cool-off),
    with how many there were; never the password or the code tried. Bounded: at most
    ``AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT`` rows per username (past it the tries are added to
    its newest row), a username is refused only once it has failures in axes' log (or while a try
    of it is tested), and rows older than ``LOGIN_REFUSED_LOG_DAYS`` are deleted as new ones are
    made (docs/security.md, "Lockout")."""

    username = models.CharField(_("username"), max_length=255)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=255, blank=True)
    path_info = models.CharField(_("path"), max_length=255, blank=True)
    first_at = models.DateTimeField(_("first try"))
    last_at = models.DateTimeField(_("last try"))
    tries = models.PositiveIntegerField(_("tries"), default=1)

    class Meta:
        verbose_name = _("sign-in refused during a lock")
        verbose_name_plural = _("sign-ins refused during a lock")
        ordering = ["-last_at"]
        indexes = [
            models.Index(fields=["username", "last_at"], name="refused_sign_in_username"),
            models.Index(fields=["last_at"], name="refused_sign_in_last_at"),
        ]

    def __str__(self):
        return f"{self.username} {self.last_at:%Y-%m-%d %H:%M}"


class AccountRequestKind(models.TextChoices):
    PASSWORD = "password", _("New password")
    REMOVE_DEVICE = "remove_device", _("Removal of the two-factor device")
    ENROLMENT_LINK = "enrolment_link", _("Link to set up two-factor sign-in")


class AccountRequest(SecondPersonRequest):
    """A change that takes over an account (its password set, its second factor removed, an
    enrolment link made), asked for by an access administrator for a user who holds a role
    opening case data (``rules.account_change_needs_second_person``): it takes effect only when
    a second person approves it (``accounts.account_requests``; docs/security.md, "Who may
    change users in the admin"). The sibling of ``permissions.RoleRequest`` (the same
    ``SecondPersonRequest``), here because it touches sign-in data. The password is kept only as its
    hash, until the decision; a link is made on approval and shown to the approver alone."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_requests", verbose_name=_("user")
    )
    kind = models.CharField(_("change"), max_length=20, choices=AccountRequestKind.choices)
    # The new password's hash (never its text): applied on approval, emptied on the decision.
    password_hash = models.CharField(_("password hash"), max_length=128, blank=True, editable=False)
    device = models.ForeignKey(
        "otp_totp.TOTPDevice",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("device"),
    )

    class Meta(SecondPersonRequest.Meta):
        verbose_name = _("account change request")
        verbose_name_plural = _("account change requests")
        constraints = [one_pending("user", "kind", name="one_pending_account_request")]

    def __str__(self):
        return f"{self.user}: {self.get_kind_display()}"
