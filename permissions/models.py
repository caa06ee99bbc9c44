from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase


class AgencyKind(models.TextChoices):
    PRISON = "prison", _("Correctional service")
    NAV = "nav", _("NAV")
    HEALTH = "health", _("Health")
    HOUSING = "housing", _("Housing contact")
    HOSPITAL = "hospital", _("Hospital")
    MUNICIPALITY = "municipality", _("Municipality")


# A webhook's or a service connector's secret keys the HMAC-SHA256 of every call
# (``X-Brobygger-Signature``): without one anybody could sign a forged call, and a short one
# can be guessed from a signed body. What an operator types or generates (``python -c
# "import secrets; print(secrets.token_urlsafe(32))"`` gives 43 characters).
MIN_SIGNING_SECRET_CHARS = 32


def signing_secret_error(secret: str) -> ValidationError | None:
    """Why a given ``secret`` is too weak to sign calls (a form error that never quotes it), or None."""
    if len(secret.strip()) < MIN_SIGNING_SECRET_CHARS:
        return ValidationError(
            _("The secret must be at least %(min)s characters long."),
            code="secret_too_short",
            params={"min": MIN_SIGNING_SECRET_CHARS},
        )
    return None


class Agency(models.Model):
    """An organisation that works cases: a prison, a NAV office, a health service..."""

    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    kind = models.CharField(max_length=20, choices=AgencyKind.choices, verbose_name=_("kind"))
    municipality = models.CharField(max_length=100, blank=True, verbose_name=_("municipality"))
    notification_email = models.EmailField(blank=True, verbose_name=_("notification email"))
    # Optional: the agency's own system is called (signed with HMAC-SHA256) when a task
    # lands in its inbox or runs late. Carries only the case reference and a link.
    webhook_url = models.URLField(blank=True, verbose_name=_("webhook url"))
    webhook_secret = models.CharField(max_length=200, blank=True, verbose_name=_("webhook secret"))
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="agency", verbose_name=_("group"))

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        """A webhook is signed: its URL needs a secret (``signing_secret_error``), in every
        form that creates or changes an agency (the admin's among them)."""
        super().clean()
        if not self.webhook_url:
            return
        if not self.webhook_secret.strip():
            raise ValidationError(
                {
                    "webhook_secret": ValidationError(
                        _("A webhook needs a secret: the receiver checks the signature of each call with it."),
                        code="webhook_without_secret",
                    )
                }
            )
        error = signing_secret_error(self.webhook_secret)
        if error is not None:
            raise ValidationError({"webhook_secret": error})


class Role(models.TextChoices):
    MEMBER = "member", _("Member")
    LEAD = "lead", _("Lead")
    COORDINATOR = "coordinator", _("Coordinator")
    PROCESS_ADMIN = "process_admin", _("Process admin")
    AUDITOR = "auditor", _("Auditor")
    # Aggregates only, never a case or a person: the figures of the cases the agency takes
    # part in, or (municipality leader) of every case of the municipality.
    LEADER = "leader", _("Leader")
    MUNICIPAL_LEADER = "municipal_leader", _("Municipality leader")
    # Gives, changes and takes the agency's roles (memberships, identity-provider group
    # mappings) in the admin, never their own; sees no case data (docs/security.md).
    ACCESS_ADMIN = "access_admin", _("Access administrator")


# Roles that work cases; process admins and auditors never see case data.
CASE_ROLES = (Role.MEMBER, Role.LEAD, Role.COORDINATOR)


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("agency"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    # Not stored: set by ``role_requests.approve_role_request`` on the membership it gives, the
    # address of the user's new enrolment link when the role was their first opening case data.
    enrolment_link: str | None = None

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "agency", "role"], name="unique_membership_role"),
        ]

    def __str__(self):
        return f"{self.user}: {self.get_role_display()}, {self.agency}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class SecondPersonRequest(models.Model):
    """A change one person asks for and a second person approves or refuses
    (``permissions.second_person``): who asked and when, its status, who decided and when.
    Abstract: each request keeps its own table (``RoleRequest`` here,
    ``accounts.AccountRequest``), its own fields and its own constraint of one waiting request
    (``one_pending``). Kept after the decision."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-requested_at", "-id"]


def one_pending(*fields: str, name: str) -> models.UniqueConstraint:
    """At most one request waiting for these ``fields`` (a second one is refused by the database)."""
    return models.UniqueConstraint(fields=list(fields), condition=models.Q(status="pending"), name=name)


class RoleRequest(SecondPersonRequest):
    """A role that opens case data, asked for by an agency's access administrator: it takes
    effect (its ``Membership`` is made) only when a second person approves it
    (``permissions.role_requests``; docs/security.md, "Who gives roles"). Apart from
    ``Membership`` so that every visibility query, which joins memberships, stays as it was:
    a request waiting gives nothing. Kept after the decision: who asked, who decided, when."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_requests", verbose_name=_("user")
    )
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="role_requests", verbose_name=_("agency"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    # The role this one widens or moves (a changed membership): taken away when approved.
    replaces = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("replaces")
    )
    replaces_role = models.CharField(_("role before"), max_length=20, choices=Role.choices, blank=True)

    class Meta(SecondPersonRequest.Meta):
        verbose_name = _("role request")
        verbose_name_plural = _("role requests")
        constraints = [one_pending("user", "agency", "role", name="one_pending_role_request")]

    def __str__(self):
        return f"{self.user}: {self.get_role_display()}, {self.agency}"


class CaseParticipant(models.Model):
    """Which agency plays each agency kind (lane) in a case: an access fact (with the grant
    of ``permissions.grants`` it decides who sees the case), so it lives here."""

    case = models.ForeignKey("workflows.Case", on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField(max_length=20)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="participations")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "workflows_caseparticipant"  # the table it had in workflows; moved in state only
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="unique_case_kind")]
        # The case list of an agency, newest first: its participations in case order, each
        # row's own id beside them (the list takes one participation per case: read from
        # the index alone, walking past a thousand participations costs a few pages).
        indexes = [models.Index(fields=["agency", "case"], include=["id"], name="participant_agency_case")]

    def __str__(self):
        kind = AgencyKind(self.kind).label if self.kind in AgencyKind.values else self.kind
        return gettext("case {case}, {kind}: {agency}").format(case=self.case_id, kind=kind, agency=self.agency)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """django-guardian's object permission on a case, with a real foreign key (guardian's
    "direct foreign keys"): every list joins it on integer keys, where the generic
    ``GroupObjectPermission`` kept the case id as text (``object_pk``) that each row cast.
    guardian's own ``assign_perm``/``get_perms`` find this model for cases."""

    content_object = models.ForeignKey("workflows.Case", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


# --- data categories -------------------------------------------------------------------

# The categories of design §6 / domain.md. Kept here (not imported from bpmn.engine) so
# that the access rules do not depend on the engine; a test keeps both lists equal.
CATEGORIES = ("identity", "housing", "economy", "health", "justice", "coordination", "safety")
# A form field without x-category: only the agency that wrote it and the coordinator see it.
RESTRICTED = "restricted"
ALL_CATEGORIES = (*CATEGORIES, RESTRICTED)
# Their names, as every page (and a row's name in the admin) says them.
CATEGORY_LABELS = {
    "identity": _("identity"),
    "housing": _("housing"),
    "economy": _("economy"),
    "health": _("health"),
    "justice": _("justice"),
    "coordination": _("coordination"),
    "safety": _("safety"),
    RESTRICTED: _("restricted"),
}
# The categories a form field may share with every participant ("x-share": "participants"):
# only justice, of which the law gives every participant the release date and the housing
# conditions of parole by default (domain.md); the engine's lint refuses the rest.
SHAREABLE_CATEGORIES = ("justice",)


# --- consent and legal bases ----------------------------------------------------------


class LegalBasis(models.Model):
    """A named provision under which case data may be shared across agencies: the person's
    consent (``is_consent``) or a provision of law. The list is kept by process admins (their
    page ``/legal-bases/`` and the API: ``workflows.services.legal_bases``), seeded with
    common Norwegian provisions by a data migration; a consent is
    recorded on one of them, never on free text.

    ``categories`` and ``agency_kinds`` say what the provision covers: which data categories
    it lets an agency of which kinds receive (the recipients). A provision is retired
    (``active`` off), never deleted: recorded consents keep it.
    """

    law = models.CharField(_("law"), max_length=200, help_text=_("e.g. forvaltningsloven"))
    paragraph = models.CharField(_("paragraph"), max_length=100, help_text=_("e.g. § 13 b første ledd nr. 5"))
    title = models.CharField(_("title"), max_length=200, help_text=_("what it allows, in a few words"))
    is_consent = models.BooleanField(
        _("the person's consent"),
        default=False,
        help_text=_(
            "the person consents: the coordinator or the agency that holds the data records it; "
            "otherwise only the agency that holds the data may share under this provision"
        ),
    )
    categories = models.JSONField(_("categories"), default=list, help_text=_("the data categories it covers"))
    agency_kinds = models.JSONField(
        _("agency kinds"), default=list, help_text=_("the kinds of agency that may receive data under it")
    )
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True, help_text=_("offered for new consents"))
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    # Which provision it is: once a consent rests on it, these say what that consent rested on
    # (the person's report names them; ``is_consent`` decides who may record its end), so they
    # are not rewritten under it (the page, the API and the admin). Retire it and add another.
    FIXED_WHEN_IN_USE = ("law", "paragraph", "is_consent")

    class Meta:
        verbose_name = _("legal basis")
        verbose_name_plural = _("legal bases")
        ordering = ["position", "law", "paragraph"]
        constraints = [models.UniqueConstraint(fields=["law", "paragraph"], name="unique_legal_basis")]

    def __str__(self):
        return f"{self.law} {self.paragraph}: {self.title}"

    def covers(self, kind: str, category: str) -> bool:
        return kind in (self.agency_kinds or []) and category in (self.categories or [])


class ConsentQuerySet(models.QuerySet):
    def active(self, at=None):
        """Consents in force at ``at`` (default: now): given, not expired, not revoked.
        Time-based: an expired consent stops counting at its expiry, no job needed."""
        at = at or timezone.now()
        return self.filter(given_at__lte=at).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=at),
            models.Q(revoked_at__isnull=True) | models.Q(revoked_at__gt=at),
        )


class Consent(models.Model):
    """The person's consent (or a recorded legal basis) to share categories with an agency.

    The recipient is either one agency or every agency of a kind (a DB check constraint
    keeps exactly one of the two). A consent is recorded in a case and covers that case
    only: the purpose limits it (domain.md: consent covers agency, category and purpose).
    ``legal_basis`` is the provision it rests on (the person's consent or a provision of
    law), from the process admins' list. Never deleted: it is revoked.
    """

    person = models.ForeignKey(
        "workflows.Person", on_delete=models.PROTECT, related_name="consents", verbose_name=_("person")
    )
    case = models.ForeignKey(
        "workflows.Case", on_delete=models.PROTECT, related_name="consents", verbose_name=_("case")
    )
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="consents", verbose_name=_("agency")
    )
    agency_kind = models.CharField(max_length=20, choices=AgencyKind.choices, blank=True, verbose_name=_("agency kind"))
    categories = models.JSONField(
        default=list, help_text=_("Names of the data categories covered"), verbose_name=_("categories")
    )
    purpose = models.TextField(verbose_name=_("purpose"))
    legal_basis = models.ForeignKey(
        LegalBasis, on_delete=models.PROTECT, related_name="consents", verbose_name=_("legal basis")
    )
    note = models.TextField(blank=True, verbose_name=_("note"))
    given_at = models.DateTimeField(default=timezone.now, verbose_name=_("given at"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    # The agency the recorder recorded it for (their acting agency then): its people read the
    # purpose and the note (``rules.consent_note_shown``), wherever the recorder works later.
    recorded_by_agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by agency")
    )

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    (models.Q(agency__isnull=False) & models.Q(agency_kind=""))
                    | (models.Q(agency__isnull=True) & ~models.Q(agency_kind=""))
                ),
                name="consent_agency_xor_kind",
            ),
            models.CheckConstraint(
                condition=(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=models.F("given_at"))),
                name="consent_expires_after_given",
            ),
        ]
        indexes = [models.Index(fields=["case", "person"], name="consent_case_person")]

    def __str__(self):
        recipient = self.agency.name if self.agency_id else AgencyKind(self.agency_kind).label
        categories = ", ".join(str(CATEGORY_LABELS.get(category, category)) for category in self.categories)
        return gettext("{basis}: {categories} to {recipient}").format(
            basis=self.legal_basis, categories=categories or "?", recipient=recipient
        )

    @property
    def is_legal_basis(self) -> bool:
        """A provision of law rather than the person's consent."""
        return not self.legal_basis.is_consent

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        if self.given_at > at:
            return False
        if self.expires_at is not None and self.expires_at <= at:
            return False
        return self.revoked_at is None or self.revoked_at > at

    def covers(self, agency: Agency, category: str) -> bool:
        """Whether this consent names ``agency`` (or its kind) and ``category``."""
        if category not in (self.categories or []):
            return False
        if self.agency_id is not None:
            return self.agency_id == agency.pk
        return self.agency_kind == agency.kind

    @property
    def access_basis(self) -> str:
        """How an access granted through this consent is written in the access log."""
        if self.is_legal_basis:
            return f"legal:{self.legal_basis.law} {self.legal_basis.paragraph} (#{self.pk})"
        return f"consent:{self.pk}"


# --- break-glass -----------------------------------------------------------------------


class BreakGlassQuerySet(models.QuerySet):
    def active(self, at=None):
        """Openings in force at ``at`` (default: now). Time-based: no job ends them."""
        at = at or timezone.now()
        return self.filter(opened_at__lte=at, expires_at__gt=at)


class BreakGlass(models.Model):
    """An emergency opening of one masked category of a case for one user of a participating
    agency, to avert danger to life or health (domain.md): with a written reason, for
    ``BREAK_GLASS_HOURS`` hours, logged, shown to the case's coordinator and in the person's
    access report, and reviewed by an auditor afterwards. Never deleted or changed, except
    for the review."""

    case = models.ForeignKey("workflows.Case", on_delete=models.PROTECT, related_name="break_glass")
    person = models.ForeignKey("workflows.Person", on_delete=models.PROTECT, related_name="break_glass")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=20)
    reason = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField(blank=True)
    # Ended before its time by the user who opened it or by a reviewing auditor
    # (``services.end_break_glass``): ``expires_at`` is then the moment it ended.
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = BreakGlassQuerySet.as_manager()

    class Meta:
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("opened_at")), name="break_glass_expires_after_opened"
            ),
        ]
        indexes = [models.Index(fields=["reviewed_at", "opened_at"], name="break_glass_review")]

    def __str__(self):
        return gettext("emergency access to {category} in case {case} until {until}").format(
            category=CATEGORY_LABELS.get(self.category, self.category),
            case=self.case_id,
            until=f"{self.expires_at:%Y-%m-%d %H:%M}",
        )

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return self.opened_at <= at < self.expires_at

    @property
    def access_basis(self) -> str:
        return f"break-glass:{self.pk}"


# --- access log ------------------------------------------------------------------------


class AppendOnlyError(Exception):
    """An access-log row was about to be changed or deleted: the log is append-only."""


class AccessAction(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")
    EXPORT = "export", _("Export")
    BREAK_GLASS = "break_glass", _("Emergency access")
    REVIEW = "review", _("Review")
    BREAK_GLASS_END = "break_glass_end", _("Emergency access ended")
    WITHDRAW_AGENCY = "withdraw_agency", _("Agency's access withdrawn")


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("the access log is append-only: rows cannot be updated")

    def delete(self):
        raise AppendOnlyError("the access log is append-only: rows cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("the access log is append-only: rows cannot be updated")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError("the access log is append-only: rows cannot be updated")

    def pseudonymise(self, person_key: str) -> int:
        """The one change the log allows: the person of rows that still name one is replaced
        by ``person_key``, a keyed hash of their national id (``retention.pseudonyms``), when
        the data the rows describe is erased. Everything else of the rows stays; the
        PostgreSQL trigger refuses any other update. Returns the number of rows changed."""
        if not person_key:
            raise AppendOnlyError("pseudonymising needs a key")
        rows = self.filter(person__isnull=False, person_key="")
        return models.QuerySet.update(rows, person=None, person_key=person_key)

    def merge_person(
        self, merged_id: int, holder_id: int, old_key: str, new_key: str, *, case_ids: list[int] | None = None
    ) -> int:
        """The one move the log allows: when an auditor merges two person rows that are one
        person (``retention.services.merge_persons``), the merged person's rows name the
        holder, and the rows of their erased cases carry the holder's key instead of the old
        number's. The PostgreSQL trigger lets exactly these two changes through, only while
        this transaction has named the pair in ``brobygger.person_merge`` (set here, and unset
        again at once). ``case_ids``: only the rows of these cases move, and no key changes
        (the person keeps their other cases and their number). Returns the number of rows changed."""
        if not connection.in_atomic_block or not new_key:
            raise AppendOnlyError("merging persons needs the merge's transaction and the holder's key")
        postgres = connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            if postgres:
                merge = f"{int(merged_id)} {int(holder_id)} {old_key} {new_key}"
                cursor.execute("SELECT set_config('brobygger.person_merge', %s, true)", [merge])
            rows = self.model.objects.filter(person_id=merged_id)
            if case_ids is not None:
                rows = rows.filter(case_id__in=case_ids)
            changed = models.QuerySet.update(rows, person_id=holder_id)
            if case_ids is None:
                keyed = self.model.objects.filter(person_id=None, person_key=old_key)
                changed += models.QuerySet.update(keyed, person_key=new_key)
            if postgres:
                cursor.execute("SELECT set_config('brobygger.person_merge', '', true)")
        return changed

    def delete_past_retention(self) -> int:
        """The one deletion the log allows: rows of an erased case whose access-log period
        has ended (``retention.erasure.delete_access_log``, run by the retention job). The
        PostgreSQL trigger lets a DELETE through only while this transaction has set
        ``brobygger.access_log_purge`` (set here, and unset again at once) and only for
        rows whose case's erasure record says their period is over; any other row makes
        the statement fail. Returns the number of rows deleted."""
        if not connection.in_atomic_block:
            raise AppendOnlyError("deleting access-log rows needs the job's transaction")
        postgres = connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            # Transaction-local: a failed statement rolls the setting back with it.
            if postgres:
                cursor.execute("SELECT set_config('brobygger.access_log_purge', 'on', true)")
            deleted = self._raw_delete(self.db)
            if postgres:
                cursor.execute("SELECT set_config('brobygger.access_log_purge', 'off', true)")
        return deleted


class AccessLog(models.Model):
    """Who saw which category of whose data, when and on what basis. Append-only.

    The model refuses to update or delete rows (also through the queryset), the admin
    is read-only, and on PostgreSQL a trigger refuses UPDATE and DELETE as well.
    Foreign keys PROTECT: a user, case or person with access-log rows cannot be
    deleted (deactivate users instead). The one exception is erasure (issue 17): when a
    case's data is erased, its rows keep who, when, what and why, and the person becomes
    ``person_key`` (``AccessLogQuerySet.pseudonymise``); the trigger allows exactly that.
    """

    # None for a disclosure no person made: a service task's HTTP connector sending case
    # fields to an agency's system (``username`` is then the connector's name).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=150, help_text=_("Copied: the log outlives renames"))
    role = models.CharField(_("role"), max_length=20, blank=True)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    # The largest table (a row for every read): each index below is written for every row,
    # so none is kept twice (permissions 0018). The case's and the person's are the first
    # columns of the Meta indexes.
    case = models.ForeignKey(
        "workflows.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_log",
        db_index=False,
        verbose_name=_("case"),
    )
    person = models.ForeignKey(
        "workflows.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_log",
        db_index=False,
        verbose_name=_("person"),
    )
    # Set (and ``person`` cleared) when the data this row describes was erased: a keyed
    # hash of the person's national id, so the person can still learn who saw their data.
    person_key = models.CharField(max_length=64, blank=True, verbose_name=_("person key"))
    category = models.CharField(_("category"), max_length=20)
    action = models.CharField(_("action"), max_length=20, choices=AccessAction.choices, default=AccessAction.READ)
    basis = models.CharField(_("basis"), max_length=300, help_text=_('e.g. "consent:12", "own-data", "own-service"'))
    consent = models.ForeignKey(
        Consent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("consent"),
    )
    break_glass = models.ForeignKey(
        BreakGlass,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("with its reason"),
        db_index=False,
        verbose_name=_("break glass"),
    )
    item = models.CharField(
        max_length=40,
        blank=True,
        help_text=_('what was read when not the case data: "notes", "attachment:12"'),
        verbose_name=_("item"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        # Not "access log": the sign-in library's log (axes) is called so, and would be
        # translated with it.
        verbose_name = _("access log row")
        verbose_name_plural = _("access log of cases")
        indexes = [
            models.Index(fields=["case", "at", "id"], name="accesslog_case_time_id"),
            models.Index(fields=["person", "at"], name="accesslog_person_time"),
            # Equality only (erasure, a person merge): no second index for LIKE.
            models.Index(fields=["person_key"], name="accesslog_person_key"),
            # Most rows were read under no consent and no emergency access: only the rows
            # that name one (what a consent's or an opening's deletion looks for).
            models.Index(fields=["consent"], name="accesslog_consent", condition=models.Q(consent__isnull=False)),
            models.Index(
                fields=["break_glass"], name="accesslog_break_glass", condition=models.Q(break_glass__isnull=False)
            ),
            # The few rows whose basis names a task, which a reader's path view may hide
            # (``workflows.selectors.shown_bases`` asks of each case of a report whether it has one).
            models.Index(
                fields=["case", "person"],
                name="accesslog_task_basis",
                condition=models.Q(basis__startswith="external-task:") | models.Q(basis__startswith="service-task:"),
            ),
        ]

    def __str__(self):
        from permissions.rules import basis_label

        category, basis = CATEGORY_LABELS.get(self.category, self.category), basis_label(self.basis)
        return f"{self.at:%Y-%m-%d %H:%M} {self.username}: {self.get_action_display()}, {category} ({basis})"

    def save(self, *args, **kwargs):
        if not self._state.adding or kwargs.get("force_update"):
            raise AppendOnlyError("the access log is append-only: rows cannot be updated")
        # Always INSERT: an explicit pk of an existing row must not turn into an UPDATE.
        kwargs["force_insert"] = True
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the access log is append-only: rows cannot be deleted")
