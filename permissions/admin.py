from functools import partial
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from permissions import role_requests, rules
from permissions.models import (
    CATEGORIES,
    AccessLog,
    Agency,
    AgencyKind,
    Consent,
    LegalBasis,
    Membership,
    RequestStatus,
    RoleRequest,
)
from permissions.second_person import RequestRefused

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

ROLE_GRANT_REFUSED = {
    "self": _("You cannot give yourself a role or change your own roles: ask another administrator to do it."),
    "agency": _("Only the agency's access administrator or a superuser gives, changes or takes roles in this agency."),
    "beyond": _(
        "Only a superuser gives or takes the roles of process administrator and municipality leader: "
        "they reach beyond the agency."
    ),
    "service_account": _(
        "Only a superuser gives or changes the roles of a service account: its API keys read the agency's "
        "cases without a second factor."
    ),
}


def role_grant_error(
    actor, *, agency_ids, to_self: bool, roles=(), to_service_account: bool = False
) -> ValidationError | None:
    """The admin's error (bokmål) when ``actor`` may not make this change to a role
    (``rules.check_role_grant``), else None."""
    try:
        rules.check_role_grant(
            actor, agency_ids=agency_ids, to_self=to_self, roles=roles, to_service_account=to_service_account
        )
    except rules.RoleGrantRefused as refused:
        return ValidationError(ROLE_GRANT_REFUSED[refused.reason], code=f"role_grant.{refused.reason}")
    return None


class MembershipForm(forms.ModelForm):
    """A role given or changed in the admin, by its agency's access administrator or a
    superuser, never to themselves, and to a service account by a superuser only
    (``rules.check_role_grant``). Until 2026-12-06 Django's add-membership permission alone let
    a staff user give themselves any role in any agency, and with it the agency's case data;
    and an agency's access administrator could give a role to another agency's service account,
    whose keys then read the agency's cases without a second factor."""

    actor = None  # the admin sets the requesting user on the class it makes per request

    def clean(self):
        cleaned = super().clean()
        if not self.has_changed() and self.instance.pk is not None:
            return cleaned
        user = cleaned.get("user")
        agency = cleaned.get("agency") or getattr(self.instance, "agency", None)
        agency_ids = {getattr(agency, "pk", None)}
        roles = {cleaned.get("role") or self.instance.role}
        old_user_id = None
        if self.instance.pk is not None:
            agency_ids.add(self.instance.agency_id)
            roles.add(self.instance.role)
            old_user_id = self.instance.user_id
        actor_id = getattr(self.actor, "pk", None)
        holders = {getattr(user, "pk", None), old_user_id}
        to_self = actor_id is not None and actor_id in holders
        error = role_grant_error(
            self.actor,
            agency_ids=agency_ids,
            to_self=to_self,
            roles=roles,
            to_service_account=rules.holds_a_service_account(holders),
        )
        if error is not None:
            raise error
        # A role opening case data, given by a non-superuser, waits for a second person
        # (``permissions.role_requests``): ``save`` then asks for it and saves no membership.
        before = None
        if self.instance.pk is not None:
            before = (self.instance.user_id, self.instance.agency_id, self.instance.role)
        self.replaces = self.instance if self.instance.pk is not None else None
        self.needs_second_person = user is not None and rules.grant_needs_second_person(
            self.actor,
            role=cleaned.get("role"),
            user_id=user.pk,
            agency_id=getattr(agency, "pk", None),
            before=before,
        )
        if self.needs_second_person and (
            RoleRequest.objects.filter(user=user, agency=agency, role=cleaned.get("role"), status="pending").exists()
        ):
            raise ValidationError(ROLE_REQUEST_WAITING, code="role_request.waiting")
        return cleaned

    def save(self, commit=True):
        """The membership, or (``needs_second_person``) the request for it, the membership left
        unsaved (as it was, for a changed one). ``commit=False`` (the membership admin's
        ``save_model`` saves): the request is made there."""
        if not getattr(self, "needs_second_person", False):
            if not commit:
                return super().save(commit)
            return self.give_at_once(lambda: super(MembershipForm, self).save(commit))
        if commit:
            self.ask_second_person()
        else:
            self.save_m2m = lambda: None  # nothing saved, no relations to save
        return self.instance

    def give_at_once(self, save):
        """The membership saved by ``save`` (given at once: a superuser's grant), and, for the
        user's first role opening case data, the credentials set before it ended
        (``role_requests.give_at_once``): ``instance.enrolment_link`` is then the new
        enrolment link's address, for the actor alone."""
        instance = self.instance
        link = role_requests.give_at_once(actor=self.actor, user_id=instance.user_id, role=instance.role, save=save)
        instance.enrolment_link = link
        return instance

    def ask_second_person(self) -> RoleRequest:
        cleaned = self.cleaned_data
        replaces = None
        if self.replaces is not None:
            replaces = Membership.objects.filter(pk=self.replaces.pk).first()
        self.role_request = role_requests.request_role(
            actor=self.actor,
            user=cleaned["user"],
            agency=cleaned.get("agency") or self.instance.agency,
            role=cleaned["role"],
            replaces=replaces,
        )
        return self.role_request


ROLE_REQUEST_WAITING = _("A request for this role is already waiting for approval.")
ROLE_REQUESTED = _(
    "The role takes effect when another access administrator of the agency, or a superuser, "
    "approves it: see Role requests."
)


class MembershipFormSet(forms.BaseInlineFormSet):
    """An agency's memberships on its page: each row as ``MembershipForm``, and a row deleted
    only by who may take roles in the agency (a deleted row's own errors are not asked)."""

    actor = None

    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk is None:
                continue
            error = role_grant_error(
                self.actor, agency_ids={form.instance.agency_id}, to_self=False, roles={form.instance.role}
            )
            if error is not None:
                raise error


class RoleGrantAdmin(admin.ModelAdmin):
    """A model whose rows give roles in an agency (``agency``): its form is checked with the
    requesting user, a row is deleted only by who may take roles in its agency, and the list
    has no bulk delete but for superusers."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or rules.may_grant_roles_in(request.user, obj.agency_id, {obj.role})

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("delete_selected", None)
        return actions


class WriteOnlySecretForm(forms.ModelForm):
    """An admin form whose ``write_only_field`` (a secret that signs calls) is write-only: the page
    never renders the stored value (whoever may merely view the row would read it, and could
    sign calls to the agency's system as us); a new value replaces it, left blank it stays.
    The model's ``clean`` still checks what is saved (``signing_secret_error``)."""

    write_only_field = ""
    write_only_required = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.write_only_field not in self.fields:
            return  # a page shown read-only (``WriteOnlySecretAdmin``): the secret is not on it
        stored = bool(getattr(self.instance, self.write_only_field, ""))
        field = self.fields[self.write_only_field]
        field.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        field.required = self.write_only_required and not stored
        field.strip = False
        if stored:
            field.help_text = _("A secret is set; it is not shown. Type a new one to replace it.")

    def clean(self):
        cleaned = super().clean()
        name = self.write_only_field
        if name in self.fields and not cleaned.get(name) and self.instance.pk is not None:
            stored = type(self.instance).objects.filter(pk=self.instance.pk).values_list(name, flat=True)
            cleaned[name] = stored.first() or ""
        return cleaned


class WriteOnlySecretAdmin(admin.ModelAdmin):
    """The admin of a ``WriteOnlySecretForm``: to whoever may view a row but not change it,
    Django shows every field of the page read-only, the model's own value, the secret in clear
    among them (the form's password box is not used then). Left out of such a page. Until
    2026-12-06 an agency's access administrator, who may view every agency's page but change
    their own only, got a 500 on another agency's page (the form asked for the field the
    read-only page leaves out); without that error they read its webhook secret."""

    def get_exclude(self, request, obj=None):
        excluded = tuple(super().get_exclude(request, obj) or ())
        if obj is None or self.has_change_permission(request, obj):
            return excluded  # the add page (its own permission) and a page that changes the row
        return (*excluded, self.form.write_only_field)


class AgencyForm(WriteOnlySecretForm):
    write_only_field = "webhook_secret"


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    formset = MembershipFormSet
    extra = 0
    autocomplete_fields = ["user"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.actor = formset.form.actor = request.user
        return formset


@admin.register(Agency)
class AgencyAdmin(WriteOnlySecretAdmin):
    form = AgencyForm
    list_display = ["name", "kind", "municipality", "notification_email"]
    list_filter = ["kind"]
    search_fields = ["name"]
    inlines = [MembershipInline]
    # What an agency's roles open: its kind (the categories it holds as its own service, read
    # without consent: a "health" agency reads every health value of its cases) and its group
    # (the object permissions on every case it takes part in). Changed by a superuser only, and
    # not one who holds a role in the agency, as a role is given (``rules.check_role_grant``):
    # until 2026-12-06 the change-agency permission alone, which an access administrator holds
    # to keep the agency's memberships on this page, made NAV a health service for every NAV
    # member.
    SUPERUSER_ONLY = ("kind", "group")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        user = request.user
        if user.is_superuser and not Membership.objects.filter(user_id=user.pk, agency_id=obj.pk).exists():
            return fields
        return fields + self.SUPERUSER_ONLY

    # The rest of an agency's page (its notification address and webhook: where its case
    # references and links are sent) is kept by the agency's own access administrator or a
    # superuser. Until 2026-12-06 the change-agency permission let NAV's access administrator
    # point the prison's notifications at a mailbox of their choice, and with them the
    # reference of every prison case given a task; and deleting an agency (its memberships
    # with it) asked no role-grant rule.
    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or rules.may_grant_roles_in(request.user, obj.pk))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and request.user.is_superuser

    # A new agency's group is its own new group unless a superuser picks one: until 2026-12-06
    # whoever could add agencies chose it, and with it any group of the site (an admin group
    # holding Django permissions, or one kept for an agency to come).
    def get_exclude(self, request, obj=None):
        exclude = tuple(super().get_exclude(request, obj) or ())
        if obj is None and not rules.may_give_admin_powers(request.user):
            exclude += ("group",)
        return exclude

    def save_model(self, request, obj, form, change):
        if obj.group_id is None:
            obj.group = Group.objects.create(name=_new_group_name(obj.name))
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        # Every user a row gives a role to (or moves one from) locked at once, in id order,
        # before any row is saved: each grant at once locks its user (``role_requests.give_at_once``),
        # and row by row, in the page's order, two pages (or a page and a bulk action on the
        # accounts) giving roles to the same two users in opposite orders waited on each other
        # until PostgreSQL failed one (until 2026-12-07).
        role_requests.lock_users(
            pk
            for row in formset.forms
            if row.has_changed() and not formset._should_delete_form(row)
            for pk in (getattr(row.cleaned_data.get("user"), "pk", None), row.initial.get("user"))
        )
        super().save_formset(request, form, formset, change)
        if any(getattr(row, "role_request", None) is not None for row in formset.forms):
            messages.info(request, ROLE_REQUESTED)
        given = [row.instance for row in formset.forms if getattr(row.instance, "enrolment_link", None)]
        request.first_case_role_links = [*getattr(request, "first_case_role_links", []), *given]

    def response_change(self, request, obj):
        given = getattr(request, "first_case_role_links", [])
        if given:
            return first_case_role_links_page(self, request, given)
        return super().response_change(request, obj)


def _new_group_name(agency_name: str) -> str:
    """``agency:<name>`` as the demo's agencies have it, or with a number if a group has it."""
    name = f"agency:{agency_name}"[:150]
    taken = set(Group.objects.filter(name__startswith=name[:140]).values_list("name", flat=True))
    number = 1
    candidate = name
    while candidate in taken:
        number += 1
        candidate = f"{name[:140]} ({number})"
    return candidate


@admin.register(Membership)
class MembershipAdmin(RoleGrantAdmin):
    """Memberships, given at once by a superuser; a role opening case data given by anyone else
    is a request (``MembershipForm.needs_second_person``): no membership is saved or logged
    here, and the page goes to the role requests, where a second person decides."""

    form = MembershipForm
    list_display = ["user", "agency", "role"]
    list_filter = ["role", "agency"]

    def save_model(self, request, obj, form, change):
        if getattr(form, "needs_second_person", False):
            form.ask_second_person()
            obj.role_requested = True  # nothing saved: no history, and the page goes to the requests
            return
        form.give_at_once(lambda: super(MembershipAdmin, self).save_model(request, obj, form, change))

    def log_addition(self, request, obj, message):
        return None if getattr(obj, "role_requested", False) else super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        return None if getattr(obj, "role_requested", False) else super().log_change(request, obj, message)

    def _to_requests(self, request, obj, default):
        if getattr(obj, "enrolment_link", None):
            return first_case_role_links_page(self, request, [obj])
        if not getattr(obj, "role_requested", False):
            return default()
        messages.info(request, ROLE_REQUESTED)
        return HttpResponseRedirect(reverse("admin:permissions_rolerequest_changelist"))

    def response_add(self, request, obj, post_url_continue=None):
        return self._to_requests(request, obj, lambda: super(MembershipAdmin, self).response_add(request, obj))

    def response_change(self, request, obj):
        return self._to_requests(request, obj, lambda: super(MembershipAdmin, self).response_change(request, obj))


FIRST_CASE_ROLE_NOTE = _(
    "First role opening case data (role request %(id)s): password made unusable, e-mail address "
    "emptied, two-factor devices, enrolment links, sessions and API keys ended; a new "
    "enrolment link shown to %(approver)s."
)
FIRST_CASE_ROLE_GIVEN_NOTE = _(
    "First role opening case data (given at once): password made unusable, e-mail address emptied, "
    "two-factor devices, enrolment links, sessions and API keys ended; a new enrolment link shown to "
    "%(approver)s."
)


def enrolment_links_page(model_admin, request, links):
    """The links made for users, as (user, address), shown to the user who made or approved
    them alone, who gives each to its user."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Links to set up two-factor sign-in"),
        "links": links,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/accounts/enrolment_links.html", context)


def first_case_role_links_page(model_admin, request, memberships):
    """The page of the new enrolment links of users given their first role opening case data
    at once (``MembershipForm.give_at_once``), for the giver alone; each user's history says
    what ended, as an approval's does."""
    links = []
    for membership in memberships:
        note = str(FIRST_CASE_ROLE_GIVEN_NOTE) % {"approver": request.user.get_username()}
        model_admin.log_change(request, membership.user, note)
        links.append((membership.user, membership.enrolment_link))
    return enrolment_links_page(model_admin, request, links)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed or deleted here: consents change through the services (with an
    event), requests for a second person through their decision (``SecondPersonRequestAdmin``),
    retention's records (``retention.admin``) and the access log never change."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


REQUEST_DECIDED = _("%(request)s: already decided.")


class SecondPersonRequestAdmin(ReadOnlyAdmin):
    """Requests waiting for a second person (``SecondPersonRequest``), and those decided (who
    asked, who decided, when): shown to access administrators (the requests of their agencies,
    ``requests_of_agencies``) and to superusers, approved or refused with the list's actions
    (``approve_request``/``refuse_request``, each in its own transaction). Never written here
    but by the actions. A subclass says what an approval leaves in the admin's history
    (``record_approval``) and why a decision was refused (``refused_texts``)."""

    search_fields = ["user__username"]
    actions = ["approve", "refuse"]
    # reason (``second_person.take_pending``) -> the error shown, with the request as %(request)s;
    # ``decided`` is the same for every request (``REQUEST_DECIDED``).
    refused_texts: dict[str, "StrPromise"] = {}

    # The services, kept static: a function set on a class is otherwise bound, given ``self``.
    approve_request: staticmethod
    refuse_request: staticmethod

    def requests_of_agencies(self, queryset, agency_ids: set[int]):
        raise NotImplementedError

    def record_approval(self, request, asked, approved) -> tuple | None:
        """The admin's history of an approval; the (user, link address) to show, if one was made."""
        raise NotImplementedError

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("user", "requested_by", "decided_by")
        agency_ids = rules.role_request_agency_ids(request.user)
        return queryset if agency_ids is None else self.requests_of_agencies(queryset, agency_ids)

    def _shown_to(self, user) -> bool:
        agency_ids = rules.role_request_agency_ids(user)
        return bool(user.is_staff) and (agency_ids is None or bool(agency_ids))

    def has_module_permission(self, request):
        return self._shown_to(request.user)

    def has_view_permission(self, request, obj=None):
        return self._shown_to(request.user)

    def has_decide_permission(self, request):
        return self._shown_to(request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _decide_chosen(self, request, queryset, decide, then) -> list:
        """Each chosen request still waiting decided by ``decide`` (a service, its own
        transaction), then ``then(row chosen, what the service returned)`` at once (the
        history of a decision made is written even if a later one fails); each refusal said.
        What ``then`` returned, for each decision made."""
        done = []
        for asked in queryset.filter(status=RequestStatus.PENDING).order_by("pk"):
            try:
                outcome = decide(actor=request.user, request_id=asked.pk)
            except RequestRefused as refused:
                text = REQUEST_DECIDED if refused.reason == "decided" else self.refused_texts[refused.reason]
                messages.error(request, text % {"request": asked})
                continue
            done.append(then(asked, outcome))
        return done

    @admin.action(description=_("Approve the chosen requests"), permissions=["decide"])
    def approve(self, request, queryset):
        approved = self._decide_chosen(request, queryset, self.approve_request, partial(self.record_approval, request))
        if approved:
            messages.success(request, gettext("Approved: %(count)s.") % {"count": len(approved)})
        # Shown to the approver alone, who gives it to the user: the requester, who may have
        # set the account up, never sees it.
        links = [link for link in approved if link is not None]
        return enrolment_links_page(self, request, links) if links else None

    @admin.action(description=_("Refuse the chosen requests"), permissions=["decide"])
    def refuse(self, request, queryset):
        refused = self._decide_chosen(request, queryset, self.refuse_request, lambda asked, outcome: None)
        if refused:
            messages.success(request, gettext("Refused: %(count)s.") % {"count": len(refused)})


@admin.register(RoleRequest)
class RoleRequestAdmin(SecondPersonRequestAdmin):
    """Roles asked for (``permissions.role_requests``) on the membership pages: shown to the
    access administrators of the request's agency."""

    list_display = [
        "user",
        "agency",
        "role",
        "replaces_role",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "role"]
    refused_texts = {
        "not_allowed": _(
            "%(request)s: a request is approved or refused by another access administrator of the agency, "
            "neither the one who asked nor the user it is for, or by a superuser."
        ),
        "requester": _(
            "%(request)s: the one who asked may no longer ask for it (no longer an active access administrator "
            "of the agency): refuse it, and ask again if it is still wanted."
        ),
    }
    approve_request = staticmethod(role_requests.approve_role_request)
    refuse_request = staticmethod(role_requests.refuse_role_request)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agency")

    def requests_of_agencies(self, queryset, agency_ids):
        return queryset.filter(agency_id__in=agency_ids)

    def record_approval(self, request, asked, approved):
        # The membership's history names its giver, as for one given on its own page.
        asked_by = getattr(asked.requested_by, "username", "")
        note = gettext("Approved role request %(id)s, asked for by %(requester)s.")
        self.log_addition(request, approved, note % {"id": asked.pk, "requester": asked_by})
        if approved.enrolment_link is None:
            return None
        # The user's first role opening case data (``role_requests.first_case_role_given``):
        # their history says what the approval ended, as a change on its page.
        names = {"id": asked.pk, "approver": request.user.get_username()}
        self.log_change(request, approved.user, str(FIRST_CASE_ROLE_NOTE) % names)
        return approved.user, approved.enrolment_link


class GatedAdmin(admin.ModelAdmin):
    """Rows that name cases (which agency read, shared, corrected, failed or wrote to which
    case) are shown to whom ``shown_to`` allows; Django's view permission alone showed any
    staff user every agency's rows. For anyone else the list, the pages and the history
    answer 403 (``tests/permissions/test_admin_incidents.py``)."""

    @staticmethod
    def shown_to(user) -> bool:
        return rules.may_give_admin_powers(user)  # an active superuser

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if self.shown_to(request.user) else queryset.none()

    def has_view_permission(self, request, obj=None):
        return self.shown_to(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.shown_to(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.shown_to(request.user) and super().has_delete_permission(request, obj)

    def history_view(self, request, object_id, extra_context=None):
        if not self.has_view_permission(request):  # before the row is looked for (Django's order)
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)


@admin.register(Consent)
class ConsentAdmin(GatedAdmin, ReadOnlyAdmin):
    """Which provision a sharing rests on, to assess the list of legal bases. Not whom it is
    about, nor its purpose and note (free text about the person): that is case data, read on
    the case page by those who work the case (superusers get no silent access either)."""

    list_display = [
        "id",
        "case",
        "agency",
        "agency_kind",
        "legal_basis",
        "given_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["legal_basis", "agency_kind"]
    raw_id_fields = ["case"]
    # Free texts about the person (the purpose, the recording service's note): case data,
    # which operators do not read (design §2); the case page and the API show them by the rules.
    # Nor the person: a consent to share health data names them a client of the health service.
    exclude = ["person", "purpose", "note"]


@admin.register(AccessLog)
class AccessLogAdmin(GatedAdmin, ReadOnlyAdmin):
    """Who read which category of which case. Not the person (their name ties a case
    reference to someone: the auditors' pages and the person's report give that, to those
    who may), nor the keyed hash that links an erased person's rows across cases."""

    list_display = ["at", "username", "role", "agency", "case", "category", "action", "basis"]
    list_filter = ["action", "category", "role"]
    search_fields = ["username", "basis"]
    date_hierarchy = "at"
    # Rows by case and category, never by person: a health read names them a client of the
    # health service (the person's own report names them, to those who give it).
    exclude = ["person", "person_key"]


class LegalBasisForm(forms.ModelForm):
    """Categories and recipient kinds as checkboxes: only known values can be saved."""

    categories = forms.MultipleChoiceField(choices=[(c, c) for c in CATEGORIES], widget=forms.CheckboxSelectMultiple)
    agency_kinds = forms.MultipleChoiceField(choices=AgencyKind.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = LegalBasis
        fields = ["law", "paragraph", "title", "is_consent", "categories", "agency_kinds", "description", "active"]


@admin.register(LegalBasis)
class LegalBasisAdmin(admin.ModelAdmin):
    """The provisions a sharing can rest on. Retired (``active`` off), never deleted: recorded
    consents keep theirs. Changing one does not change consents already recorded on it."""

    form = LegalBasisForm
    list_display = ["law", "paragraph", "title", "is_consent", "active", "position"]
    list_editable = ["active", "position"]
    list_filter = ["active", "is_consent"]
    search_fields = ["law", "paragraph", "title"]

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.consents.exists():
            return LegalBasis.FIXED_WHEN_IN_USE
        return ()
