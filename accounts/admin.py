from datetime import UTC, datetime
from functools import reduce
from operator import or_

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import NotRelationField, get_fields_from_path, unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin as LibraryTOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.admin import AuthTokenAdmin as LibraryAuthTokenAdmin
from knox.models import AuthToken

from accounts import account_requests, enrolment
from accounts.models import (
    AccountRequest,
    AccountRequestKind,
    EnrolmentLink,
    ExternalIdentity,
    GroupMapping,
    KnownDevice,
    RateBucket,
    RefusedSignIn,
    ServiceAccount,
)
from permissions import rules
from permissions.admin import RoleGrantAdmin, SecondPersonRequestAdmin, enrolment_links_page, role_grant_error

User = get_user_model()


USER_NOT_MANAGED = _(
    "You may not choose this user: choose a user whose roles are all in agencies you are the access administrator of."
)


class UserRowsAdmin(admin.ModelAdmin):
    """The admin of rows that belong to a user (``user_field``: an authenticator app, an API
    token, a known browser, an enrolment link, ...): shown to anyone but a superuser for the
    users they may manage alone (``rules.users_managed_by``, ``may_manage_user`` as a filter),
    as those they may change. The queryset decides the list (its rows, counts, search and date
    hierarchy), each row's pages (change, history, delete: another's answers as a row that does
    not exist), the bulk actions (their rows are the list's) and the admin's autocomplete
    (any relation to the model, a user's reverse relation among them). A filter by a user offers
    the users of the rows listed (``get_list_filter``), and a form's choice of user those the
    operator may manage, another refused (``USER_NOT_MANAGED``). Until 2026-12-07 the view
    permission alone showed an access administrator every agency's users' rows."""

    user_field = "user"

    def rows_of_users(self, queryset, users):
        """``queryset``'s rows that belong to one of ``users`` (a queryset of users)."""
        return queryset.filter(**{f"{self.user_field}__in": users})

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if rules.may_give_admin_powers(request.user):
            return queryset
        return self.rows_of_users(queryset, rules.users_managed_by(request.user, User.objects.all()))

    def get_list_filter(self, request):
        return [self._users_listed(item) for item in super().get_list_filter(request)]

    def _users_listed(self, item):
        """A list filter by a user (Django's offers every user of the site) as the filter that
        offers the users of the rows the operator is shown."""
        name, filter_class = item if isinstance(item, tuple | list) else (item, None)
        if not isinstance(name, str) or filter_class not in (None, admin.RelatedFieldListFilter):
            return item
        try:
            field = get_fields_from_path(self.model, name)[-1]
        except (FieldDoesNotExist, NotRelationField):
            return item
        if getattr(field, "related_model", None) is User:
            return (name, admin.RelatedOnlyFieldListFilter)
        return item

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.related_model is User and not rules.may_give_admin_powers(request.user):
            field.queryset = rules.users_managed_by(request.user, field.queryset)
            field.error_messages = {**field.error_messages, "invalid_choice": USER_NOT_MANAGED}
        return field


class UsernameRowsAdmin(UserRowsAdmin):
    """Rows that name their user by the username tried (a refused sign-in, django-axes' attempts
    and logs): those of the users the operator may manage; a try at a name that is no user's (a
    guess) is a superuser's alone, as its rate bucket (``RateBucketAdmin.rows_of_users``)."""

    def rows_of_users(self, queryset, users):
        return queryset.filter(username__in=users.values("username"))


class GroupMappingForm(forms.ModelForm):
    """A mapping gives its role to every member of the provider group at their next single
    sign-on login: made or changed by the agency's access administrator or a superuser only,
    never for a group the actor was in at their last login (it would give them the role). Until
    2026-12-06 Django's add permission alone let a staff user map their own group to any role
    in any agency."""

    actor = None  # the admin sets the requesting user on the class it makes per request

    def clean(self):
        cleaned = super().clean()
        agency = cleaned.get("agency")
        agency_ids = {getattr(agency, "pk", None)}
        roles = {cleaned.get("role") or self.instance.role}
        if self.instance.pk is not None:
            agency_ids.add(self.instance.agency_id)
            roles.add(self.instance.role)
        group = cleaned.get("group")
        own_groups = (
            ExternalIdentity.objects.filter(user_id=getattr(self.actor, "pk", None))
            .values_list("last_login_groups", flat=True)
            .first()
        )
        to_self = bool(group) and group in (own_groups or [])
        error = role_grant_error(self.actor, agency_ids=agency_ids, to_self=to_self, roles=roles)
        if error is not None:
            raise error
        # A mapping to a role opening case data gives it to whoever the provider puts in the
        # group, with no second person: a superuser's alone (mapped, changed or re-pointed).
        if roles & rules.ROLES_NEEDING_A_SECOND_PERSON and not rules.may_give_admin_powers(self.actor):
            raise ValidationError(GROUP_MAPPING_SUPERUSER_ONLY, code="group_mapping.case_role")
        return cleaned


GROUP_MAPPING_SUPERUSER_ONLY = _(
    "Only a superuser maps a provider group to a role that opens case data (or to the roles of "
    "auditor and access administrator): the mapping gives the role to everyone in the group, with "
    "no second person to approve it."
)


@admin.register(GroupMapping)
class GroupMappingAdmin(RoleGrantAdmin):
    form = GroupMappingForm
    list_display = ("group", "agency", "role")
    list_filter = ("role", "agency")
    search_fields = ("group", "agency__name")


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(UserRowsAdmin):
    list_display = ("user", "issuer", "subject", "last_login_groups")
    search_fields = ("user__username", "subject")
    readonly_fields = ("user", "issuer", "subject", "last_login_groups")

    def has_add_permission(self, request):
        # Rows the engine or a sign-in writes: the add page's form has none of their fields
        # (all read-only), and saving it was a 500.
        return False


@admin.register(EnrolmentLink)
class EnrolmentLinkAdmin(UserRowsAdmin):
    """The live and expired links (never their address: only a digest is stored). Made by
    the action on users; deleting one ends it."""

    list_display = ("user", "created_at", "expires_at", "created_by")
    list_select_related = ("user", "created_by")  # one statement a page, not one a link (its maker may be none)
    readonly_fields = ("user", "created_at", "expires_at", "created_by")
    exclude = ("digest",)
    search_fields = ("user__username",)

    def has_add_permission(self, request):
        return False


USER_ADMIN_REFUSED = {
    "powers": _("Only a superuser gives or changes staff status, superuser status, groups and permissions."),
    "links": _(
        "Only a superuser, or the access administrator of every agency the user has a role in, "
        "makes a link to set up two-factor sign-in for this user. No link was made."
    ),
    "case_role": _(
        "The e-mail address and username of a user holding a role that opens case data are changed "
        "by a superuser only (the user may have been given such a role after this page was opened). "
        "Nothing was saved: open the page again and try again."
    ),
}


# A user's fields that are a superuser's to change once the user holds a role opening case
# data (``UserAdmin.get_readonly_fields``): the address the password reset mails, the name it goes with.
CASE_ROLE_USER_FIELDS = ("username", "email")


class UserChangeForm(auth_forms.UserChangeForm):
    """Django's, with the admin's powers (``rules.ADMIN_POWER_FIELDS``) a superuser's alone:
    for anyone else they are read-only on the page, and a request that sends one anyway is the
    form's error, nothing saved. So is a request that sends a field the page now shows
    read-only (``CASE_ROLE_USER_FIELDS``): the page was opened before the user's first case
    role (or the request was made by hand); its other fields are not saved either."""

    actor = None  # the admin sets the requesting user on the class it makes per request

    def clean(self):
        cleaned = super().clean()
        sent = any(name in self.data for name in rules.ADMIN_POWER_FIELDS)
        if sent and not rules.may_give_admin_powers(self.actor):
            raise ValidationError(USER_ADMIN_REFUSED["powers"], code="user_admin.powers")
        if any(name in self.data and name not in self.fields for name in CASE_ROLE_USER_FIELDS):
            raise ValidationError(USER_ADMIN_REFUSED["case_role"], code="user_admin.case_role")
        return cleaned


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    """Django's, with the action that issues two-factor enrolment links, and no password for
    a single sign-on user (``accounts.signals``: one saved is made unusable).

    Django lets whoever may change users take over any account (docs/security.md, "Who may
    change users in the admin"). Here staff and superuser status, groups and permissions
    are changed by a superuser alone (``rules.may_give_admin_powers``); an account is changed
    (its password set, an enrolment link made, deleted) only by who may manage it
    (``rules.may_manage_user``): a superuser, or the access administrator of every agency the
    user has a role in, never on an operator's account or their own. Other accounts' pages are
    shown read-only to them, and their change, password and delete pages answer 403."""

    form = UserChangeForm
    actions = ["issue_enrolment_links"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not rules.may_give_admin_powers(request.user):
            readonly += (*rules.ADMIN_POWER_FIELDS, "last_login", "date_joined")
        # The address (and the name it goes with) of a user holding a case role: changed by
        # anyone but a superuser, the password reset mailed the new address a link to the
        # account. A field read-only is left out of the form: one posted anyway is not saved.
        if rules.account_change_needs_second_person(request.user, obj):
            readonly += CASE_ROLE_USER_FIELDS
        return readonly

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A user's page saved with the user's row locked (``account_requests.lock_users``) from
        before it is read to the commit: which fields the operator may change, and the values
        the save writes back (every field of the row, the password hash among them), are read
        under the lock the approval of a first case role takes before it ends the user's
        credentials. Until 2026-12-07 they were read without: the approval ended the password
        and the address between the page's read and its save, and the save wrote back the
        password and the address the access administrator had set (the fields, decided before
        the role, open to her)."""
        if object_id is None or request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        with transaction.atomic():
            account_requests.lock_users(_user_ids(object_id))
            return super().changeform_view(request, object_id, form_url, extra_context)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or rules.may_manage_user(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or rules.may_manage_user(request.user, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not rules.may_give_admin_powers(request.user):
            actions.pop("delete_selected", None)
        return actions

    @transaction.atomic
    def user_change_password(self, request, id, form_url=""):
        if ExternalIdentity.objects.filter(user_id=id).exists():
            messages.error(request, _("This user signs in through single sign-on only: they have no password here."))
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[id]))
        user = self.get_object(request, unquote(id))
        if user is not None:
            account_requests.lock_users([user.pk])  # until the password is saved (``lock_users``)
        if (
            user is not None
            and self.has_change_permission(request, user)
            and rules.account_change_needs_second_person(request.user, user)
        ):
            if request.method == "POST":
                asked = self._ask_for_password(request, user)
                if asked is not None:
                    return asked
            else:  # said before the password is typed, on the page itself
                messages.info(request, ACCOUNT_REQUESTED % _names(user, AccountRequestKind.PASSWORD))
        return super().user_change_password(request, id, form_url)

    def _ask_for_password(self, request, user):
        """A usable password for a user holding a case role, set by anyone but a superuser: a
        request (its hash kept), the password unchanged until a second person approves it. None:
        Django's page goes on (the form's errors, or a password made unusable, which locks the
        account and opens nothing)."""
        form = self.change_password_form(user, request.POST)
        if not form.is_valid() or not form.cleaned_data.get("set_usable_password", True):
            return None
        return _asked(
            request,
            actor=request.user,
            user=user,
            kind=AccountRequestKind.PASSWORD,
            password=form.cleaned_data["password1"],
        )

    @admin.action(description=_("Make a link to set up two-factor sign-in"), permissions=["change"])
    def issue_enrolment_links(self, request, queryset):
        """A one-time link per selected user, shown on this page only: give it to the user
        apart from their password. Their earlier links stop working. None is made unless
        the operator may manage every selected user (``rules.may_manage_user``). For a user
        holding a case role, anyone but a superuser asks instead (``AccountRequest``): the link
        is made on a second person's approval and shown to them alone."""
        with transaction.atomic():
            account_requests.lock_users(queryset.values_list("pk", flat=True))  # until the links are made
            return self._issue_enrolment_links(request, queryset)

    def _issue_enrolment_links(self, request, queryset):
        chosen = list(queryset.order_by("username"))
        if not all(rules.may_manage_user(request.user, user) for user in chosen):
            messages.error(request, USER_ADMIN_REFUSED["links"])
            return None
        asked = [user for user in chosen if rules.account_change_needs_second_person(request.user, user)]
        for user in asked:
            _ask(request, actor=request.user, user=user, kind=AccountRequestKind.ENROLMENT_LINK)
        now = [user for user in chosen if user not in asked]
        if not now:
            return HttpResponseRedirect(reverse("admin:accounts_accountrequest_changelist"))
        links = [(user, enrolment.issue(user, by=request.user)) for user in now]
        return enrolment_links_page(self, request, links)


def _user_ids(object_id) -> list[int]:
    """The id a user's admin page names, if it is one (else the page answers a missing user)."""
    try:
        return [int(unquote(object_id))]
    except (TypeError, ValueError):
        return []


ACCOUNT_REQUESTED = _(
    "%(user)s: the change (%(change)s) takes effect when another access administrator of the user's "
    "agencies, or a superuser, approves it: see Account change requests."
)
ACCOUNT_REQUEST_WAITING = _("%(user)s: a request for this change is already waiting for approval.")


def _names(user, kind) -> dict:
    return {"user": user.get_username(), "change": AccountRequestKind(kind).label}


def _ask(request, **kwargs) -> bool:
    """Make the request and say so on the next page (or that one already waits)."""
    names = _names(kwargs["user"], kwargs["kind"])
    try:
        account_requests.request_account_change(**kwargs)
    except account_requests.AccountRequestError:
        messages.error(request, ACCOUNT_REQUEST_WAITING % names)
        return False
    messages.info(request, ACCOUNT_REQUESTED % names)
    return True


def _asked(request, **kwargs):
    """``_ask``, then the list of account requests (nothing was changed)."""
    _ask(request, **kwargs)
    return HttpResponseRedirect(reverse("admin:accounts_accountrequest_changelist"))


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(auth_admin.GroupAdmin):
    """Django's, a group added, changed or deleted by a superuser alone
    (``rules.may_give_admin_powers``): a group's permissions are its members' powers in the
    admin, and ``auth.change_group`` let an operator give their own group any of them."""

    def has_add_permission(self, request):
        return rules.may_give_admin_powers(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return rules.may_give_admin_powers(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return rules.may_give_admin_powers(request.user) and super().has_delete_permission(request, obj)


def titled(filter_class: type[admin.FieldListFilter], title) -> type[admin.FieldListFilter]:
    """``filter_class`` under ``title`` instead of its field's name: for a field of a sign-in
    library, whose names the library does not mark for translation ("By created at" in the
    list of authenticator apps). ``list_filter = [("created_at", titled(DateFieldListFilter,
    _("created at")))]``."""

    def __init__(self, *args, **kwargs):
        filter_class.__init__(self, *args, **kwargs)
        self.title = title

    return type(filter_class.__name__, (filter_class,), {"__init__": __init__, "__module__": __name__})


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(UserRowsAdmin, LibraryTOTPDeviceAdmin):
    """django-otp's, listed, shown (without the key: ``OTP_ADMIN_HIDE_SENSITIVE_DATA``) and
    deleted (a lost phone), never added or changed here. Added, its adder chose the key; its
    user changed, an operator's own authenticator made codes for another user's account (and
    a tolerance or throttling changed weakens the user's second factor): either way the
    operator held it. A device is enrolled by its user, through an administrator's link.
    Listed, shown and offered by the autocomplete for the users the operator may manage
    (``UserRowsAdmin``), as she deletes them: until 2026-12-07 any access administrator read
    every agency's users' authenticator apps, their names and when they were last used."""

    # The library's columns are its fields, whose names it does not mark for translation.
    list_display = ["owner", "device_name", "created_on", "last_used_on", "is_confirmed"]
    list_filter = [
        ("created_at", titled(admin.DateFieldListFilter, _("created at"))),
        ("last_used_at", titled(admin.DateFieldListFilter, _("last used at"))),
        ("confirmed", titled(admin.BooleanFieldListFilter, _("confirmed"))),
    ]
    ordering = ["user__username", "pk"]  # the autocomplete pages the admin's queryset as it is

    @admin.display(description=_("user"), ordering="user__username")
    def owner(self, device):
        return device.user

    @admin.display(description=_("name"), ordering="name")
    def device_name(self, device):
        return device.name

    @admin.display(description=_("created at"), ordering="created_at")
    def created_on(self, device):
        return device.created_at

    @admin.display(description=_("last used at"), ordering="last_used_at")
    def last_used_on(self, device):
        return device.last_used_at

    @admin.display(description=_("confirmed"), boolean=True, ordering="confirmed")
    def is_confirmed(self, device):
        return device.confirmed

    # The device's page is read-only (no change permission, above), its fields and the
    # library's headings ("Identity", "Throttling") shown by our names; the key stays hidden.
    DETAIL = [
        (_("Device"), ["owner", "device_name", "is_confirmed"]),
        (_("Times"), ["created_on", "last_used_on"]),
        (_("Settings"), ["time_step", "counting_from", "code_digits", "tolerance_steps"]),
        (_("Clock and failed tries"), ["clock_drift", "failed_at", "failures"]),
    ]

    def get_fieldsets(self, request, obj=None):
        return [(heading, {"fields": fields}) for heading, fields in self.DETAIL]

    def get_readonly_fields(self, request, obj=None):
        return [field for _heading, fields in self.DETAIL for field in fields]

    @admin.display(description=_("time step in seconds"))
    def time_step(self, device):
        return device.step

    @admin.display(description=_("steps counted from (Unix time)"))
    def counting_from(self, device):
        return device.t0

    @admin.display(description=_("digits in a code"))
    def code_digits(self, device):
        return device.digits

    @admin.display(description=_("time steps allowed before or after"))
    def tolerance_steps(self, device):
        return device.tolerance

    @admin.display(description=_("the phone's clock, in time steps off"))
    def clock_drift(self, device):
        return device.drift

    @admin.display(description=_("last failed try"))
    def failed_at(self, device):
        return device.throttling_failure_timestamp

    @admin.display(description=_("failed tries in a row"))
    def failures(self, device):
        return device.throttling_failure_count

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        """A device is deleted (a lost phone) by who may manage its user
        (``rules.may_manage_user``): its deletion and a new enrolment link took the account
        over. The bulk delete is the superusers'."""
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or rules.may_manage_user(request.user, obj.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not rules.may_give_admin_powers(request.user):
            actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        """The deletion confirmed, of the device of a user holding a case role, by anyone but a
        superuser: a request (``AccountRequest``), the device kept until a second person
        approves it."""
        if request.method == "POST" and request.POST:
            device = self.get_object(request, unquote(object_id))
            if (
                device is not None
                and self.has_delete_permission(request, device)
                and rules.account_change_needs_second_person(request.user, device.user)
            ):
                return _asked(
                    request, actor=request.user, user=device.user, kind=AccountRequestKind.REMOVE_DEVICE, device=device
                )
        return super().delete_view(request, object_id, extra_context)


@admin.register(AccountRequest)
class AccountRequestAdmin(SecondPersonRequestAdmin):
    """Account changes asked for (``accounts.account_requests``) on the user's password page, the
    device's delete page and the user list's link action: shown to the access administrators
    of the user's agencies. An approved link is shown to the approver, on the page the action
    answers with."""

    list_display = ["user", "kind", "requested_by", "requested_at", "status", "decided_by", "decided_at"]
    list_filter = ["status", "kind"]
    exclude = ["device"]
    refused_texts = {
        "not_allowed": _(
            "%(request)s: a request is approved or refused by another access administrator of every agency "
            "the user has a role in, neither the one who asked nor the user it is for, or by a superuser."
        ),
        "requester": _(
            "%(request)s: the one who asked may no longer ask for it (no longer an active access administrator "
            "of the user's agencies): refuse it, and ask again if it is still wanted."
        ),
    }
    approve_request = staticmethod(account_requests.approve_account_request)
    refuse_request = staticmethod(account_requests.refuse_account_request)

    def requests_of_agencies(self, queryset, agency_ids):
        return queryset.filter(user__memberships__agency_id__in=agency_ids).distinct()

    def record_approval(self, request, asked, approved):
        decided, link = approved
        # The user's history names the approver and who asked, as a change made on its page.
        note = gettext("Approved account change request %(id)s (%(change)s), asked for by %(requester)s.")
        requester = getattr(decided.requested_by, "username", "")
        names = {"id": decided.pk, "change": decided.get_kind_display(), "requester": requester}
        self.log_change(request, decided.user, note % names)
        return None if link is None else (decided.user, link)


admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(UserRowsAdmin, LibraryAuthTokenAdmin):
    """django-rest-knox's, listed and revoked (deleted) here, never made: its add page made a
    token for any user and showed it to the operator, the API as that user without their
    password or one-time code (a token of a user who must give one is refused, but not one
    of a user who need not, nor any under ``make run``). Tokens come from a sign-in only."""

    # The library's columns are its fields, whose names it does not mark for translation.
    list_display = ["token_digest", "owner", "created_on", "expires_on"]
    list_select_related = ["user"]  # ``owner``: one statement a page, not one a token
    ordering = ["user__username", "digest"]  # the autocomplete pages the admin's queryset as it is

    @admin.display(description=_("digest"), ordering="digest")
    def token_digest(self, token):
        return token.digest

    @admin.display(description=_("user"), ordering="user__username")
    def owner(self, token):
        return token.user

    @admin.display(description=_("created at"), ordering="created")
    def created_on(self, token):
        return token.created

    @admin.display(description=_("expires at"), ordering="expiry")
    def expires_on(self, token):
        return token.expiry

    def has_add_permission(self, request):
        return False


@admin.register(RateBucket)
class RateBucketAdmin(UserRowsAdmin):
    """The rate limits' buckets (``accounts.rate_limit``): ``login:<username>`` is a username's
    failed sign-ins from every address; deleting it lifts that lock (docs/security.md)."""

    list_display = ("key", "full_again_at")
    search_fields = ("key",)

    def rows_of_users(self, queryset, users):
        """The buckets of ``users``: their usernames' failed sign-ins (``login:<username>``), their
        page and API requests (``web:<id>``, ``api:<scope>:<id>`` for a scope with a rate of its own
        in ``API_THROTTLE_RATES``: one without, the superusers') and their known browsers'
        failures (``login-device:<id>``). Not a bucket keyed by a name that is no user's (a
        guess, a typo) nor another's: a superuser's alone. A bucket says when its user was busy
        or under attack, and deleting it lifts a lock: the access administrator lifts her users'."""
        # Each form of key as a set the database hashes (``key IN (...)``): a correlated test of
        # every bucket against every user took a minute for 20,000 buckets and 4,000 users.
        user_id = Cast("pk", CharField())
        shapes = [Concat(Value("login:"), "username"), Concat(Value("web:"), user_id)]
        shapes += [Concat(Value(f"api:{scope}:"), user_id) for scope in sorted(settings.API_THROTTLE_RATES)]
        keys = [users.annotate(bucket=shape).values("bucket") for shape in shapes]
        devices = KnownDevice.objects.filter(user__in=users)
        keys.append(devices.annotate(bucket=Concat(Value("login-device:"), Cast("pk", CharField()))).values("bucket"))
        return queryset.filter(reduce(or_, (Q(key__in=some) for some in keys)))

    @admin.display(description=_("full again at"))
    def full_again_at(self, bucket: RateBucket) -> datetime:
        return datetime.fromtimestamp(bucket.tat, tz=UTC)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(KnownDevice)
class KnownDeviceAdmin(UserRowsAdmin):
    """Browsers that signed in as their user (``accounts.device_cookies``; only a digest of the
    cookie's nonce is stored): their failures lock them alone. Deleting one ends its cookie;
    ``login-device:<id>`` in the rate buckets is its count."""

    list_display = ("id", "user", "created_at", "expires_at")
    readonly_fields = ("user", "created_at", "expires_at")
    exclude = ("digest",)
    search_fields = ("user__username",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ServiceAccount)
class ServiceAccountAdmin(UserRowsAdmin):
    """Agencies' systems (``accounts.service_accounts``): API keys only, no password. Made with
    ``manage.py service_key USERNAME``, which prints a key; deleting the row ends every key of
    the account (it stays without a password: give it one to make it a person's again)."""

    list_display = ("user", "created_at", "created_by")
    readonly_fields = ("user", "created_at", "created_by")
    search_fields = ("user__username",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting the row makes the account a person's again, whose password whoever may
        # manage the user could then set; a superuser alone gives a service account its roles.
        return rules.may_give_admin_powers(request.user) and super().has_delete_permission(request, obj)


@admin.register(RefusedSignIn)
class RefusedSignInAdmin(UsernameRowsAdmin):
    """Sign-in tries refused because a lock held (``accounts.lockout.record_refused``), beside
    django-axes' log of failures (*Axes > Access failures*): a guessing attack that went on while
    the lock held. Read only: a log, written by the sign-in alone."""

    list_display = ("username", "ip_address", "path_info", "tries", "first_at", "last_at")
    readonly_fields = ("username", "ip_address", "user_agent", "path_info", "tries", "first_at", "last_at")
    search_fields = ("username", "ip_address")
    date_hierarchy = "last_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AxesRowsAdmin(UsernameRowsAdmin):
    """django-axes' admins, limited as ``UsernameRowsAdmin``, without the library's bulk action
    "Clean up expired attempts": it ignores the rows chosen (``clean_expired_user_attempts``
    deletes every expired attempt of the site, every agency's users' among them) and reads a
    time axes sets on a sign-in's request only, so it answered every operator with a 500 (until
    h-review). An attempt is deleted as any row is (the rows chosen, those one may manage)."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("cleanup_expired_attempts", None)
        return actions


# django-axes registers its own admins (a lock is lifted under *Axes > Access attempts*): the same
# pages, limited to the users the operator may manage. Until 2026-12-07 the view permission
# showed every agency's usernames and addresses.
for _model, _library_admin in (
    (AccessAttempt, axes_admin.AccessAttemptAdmin),
    (AxesAccessLog, axes_admin.AccessLogAdmin),
    (AccessFailureLog, axes_admin.AccessFailureLogAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, type(_library_admin.__name__, (AxesRowsAdmin, _library_admin), {}))
