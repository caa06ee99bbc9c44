"""The Django admin, its lists filtered only by their own filters.

Django's change list takes a lookup from the query string on any of the model's own fields
(``ModelAdmin.lookup_allowed`` lets every "local field filter" through: ``__startswith``,
``__regex``, JSON key paths) and answers with the rows that match and their count. A field
an admin leaves out of its pages was so read a character at a time by anyone allowed to view
the list: a TOTP device's key (``/admin/otp_totp/totpdevice/?key__startswith=3f``: "1" for
the right prefix), an agency's webhook secret, a consent's purpose, a thrown message's payload
and correlation values (the national id), a correction's old value, the person behind an
access-log row. Here a lookup must be on a field the admin's ``list_filter`` or
``date_hierarchy`` filters by (Django then checks the rest of its path as before), or one a
raw-id popup sends (``limit_choices_to``); any other is Django's ``DisallowedModelAdminLookup``
(400), for every registered admin, the libraries' (users, devices, tokens, sign-in attempts)
included."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404
from django.urls import path

from core.clear_site_data import clears_site_data


def _first(path: str | None) -> str | None:
    return path.split(LOOKUP_SEP, 1)[0] if path else None


class FiltersOnlyByItsFilters:
    """Mixed into every registered ``ModelAdmin`` (``AdminSite.register``)."""

    def filtered_fields(self, request) -> set[str]:
        """The first field of each path the list's own filters and date drill-down use."""
        items = self.get_list_filter(request) if request is not None else self.list_filter  # type: ignore[attr-defined]
        names = set()
        for item in items:
            if isinstance(item, list | tuple):
                names.add(_first(item[0]))
            elif isinstance(item, str):
                names.add(_first(item))
            else:  # a SimpleListFilter class: its own parameter
                names.add(getattr(item, "parameter_name", None))
        names.add(_first(self.date_hierarchy))  # type: ignore[attr-defined]
        return {name for name in names if name}

    def _popup_lookup(self, lookup, value) -> bool:
        """A raw-id popup's ``limit_choices_to`` (Django lets these through first)."""
        for fk_lookup in self.model._meta.related_fkey_lookups:  # type: ignore[attr-defined]
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return True
        return False

    def lookup_allowed(self, lookup, value, request=None):
        if _first(lookup) not in self.filtered_fields(request) and not self._popup_lookup(lookup, value):
            return False
        return super().lookup_allowed(lookup, value, request)


class AdminSite(admin.AdminSite):
    def logout(self, request, extra_context=None):
        response = super().logout(request, extra_context)
        return clears_site_data(response) if request.method == "POST" else response

    def get_urls(self):
        urls = super().get_urls()
        ours = path("r/<path:content_type_id>/<path:object_id>/", self.admin_view(self.view_on_site))
        for index, pattern in enumerate(urls):
            if getattr(pattern, "name", None) == "view_on_site":
                ours.name = pattern.name
                urls[index] = ours
        return urls

    def view_on_site(self, request, content_type_id, object_id):
        """Django's redirect (``contenttypes.views.shortcut``) for a row the user may view in
        its admin, else the answer of a missing row, asked before the row is looked up. Django's
        looks first and answers an existing row without a page ("... objects don't have a
        get_absolute_url() method") apart from a missing one ("... doesn't exist"): to any staff
        user, which case ids exist."""
        from django.contrib.contenttypes.models import ContentType  # models: not at the app config's import
        from django.contrib.contenttypes.views import shortcut

        try:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
        except (ObjectDoesNotExist, ValueError):
            model = None
        model_admin = self._registry.get(model) if model is not None else None
        if model_admin is None or not model_admin.has_view_permission(request):
            raise Http404
        try:
            shown = model_admin.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, ValidationError):
            shown = False
        if not shown:
            raise Http404
        return shortcut(request, content_type_id, object_id)

    def autocomplete_view(self, request):
        """Django's, a relation named from its other end (``field_name=auth_token_set`` on users:
        a reverse relation, which no form field is) refused as Django refuses a field that is no
        relation (403). Django took its far end for the model searched, then failed (500)."""
        from django.apps import apps  # models: not at the app config's import

        try:
            model = apps.get_model(request.GET["app_label"], request.GET["model_name"])
            field = model._meta.get_field(request.GET["field_name"])
        except (KeyError, LookupError, FieldDoesNotExist):
            field = None  # Django's own checks answer
        if field is not None and not field.concrete:
            raise PermissionDenied
        return super().autocomplete_view(request)

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, FiltersOnlyByItsFilters):
            admin_class = type(
                admin_class.__name__,
                (FiltersOnlyByItsFilters, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        return super().register(model_or_iterable, admin_class, **options)


class AdminConfig(DjangoAdminConfig):
    """``django.contrib.admin`` with this site as ``admin.site``."""

    default_site = "config.admin_site.AdminSite"
