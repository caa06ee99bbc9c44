from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from permissions import rules
from permissions.models import CATEGORIES, AccessLog, Agency, AgencyKind, Consent, LegalBasis, Membership

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
        return cleaned


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
        if not cleaned.get(name) and self.instance.pk is not None:
            stored = type(self.instance).objects.filter(pk=self.instance.pk).values_list(name, flat=True)
            cleaned[name] = stored.first() or ""
        return cleaned


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
class AgencyAdmin(admin.ModelAdmin):
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


@admin.register(Membership)
class MembershipAdmin(RoleGrantAdmin):
    form = MembershipForm
    list_display = ["user", "agency", "role"]
    list_filter = ["role", "agency"]


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed here: consents change through the services (with an event),
    the access log never changes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
