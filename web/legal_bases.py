"""Web UI: the list of legal bases a consent can rest on, kept by process admins (issue 11,
point 1). The services are ``workflows.services.legal_bases``; every other role gets the 403
page. The forms work without JavaScript (post, then a redirect to the list); with htmx
(``hx-boost``) a form with errors is answered 200 so that htmx shows it, 400 otherwise.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput
from core.http_methods import allow, require_POST
from permissions import rules
from permissions.models import AgencyKind
from web.pages import error_text, errors_by_field, ui_view
from workflows import selectors, services

TEXT_FIELDS = ("law", "paragraph", "title", "description")


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _choices():
    categories = [(c, str(rules.CATEGORY_LABELS[c])) for c in rules.LEGAL_BASIS_CATEGORIES]
    return categories, list(AgencyKind.choices)


def _posted(request, *, editing: bool) -> dict:
    """The form's values as the service takes them (checkboxes: absent is false)."""
    values: dict = {name: request.POST.get(name, "") for name in TEXT_FIELDS}
    values["categories"] = request.POST.getlist("categories")
    values["agency_kinds"] = request.POST.getlist("agency_kinds")
    values["is_consent"] = request.POST.get("is_consent") == "on"
    position = request.POST.get("position", "").strip()
    if position or editing:
        values["position"] = position
    if editing:
        values["active"] = request.POST.get("active") == "on"
    return values


def _form(request, *, basis=None, values=None, errors=None):
    categories, kinds = _choices()
    if values is None:
        values = (
            {
                **{name: getattr(basis, name) for name in TEXT_FIELDS},
                "categories": basis.categories,
                "agency_kinds": basis.agency_kinds,
                "is_consent": basis.is_consent,
                "position": basis.position,
                "active": basis.active,
            }
            if basis is not None
            else {"categories": [], "agency_kinds": [], "position": 100}
        )
    status = 200 if not errors or _is_htmx(request) else 400
    context = {
        "basis": basis,
        "values": values,
        "errors": errors_by_field(errors),
        "categories": categories,
        "kinds": kinds,
    }
    return render(request, "legal_bases/form.html", context, status=status)


@allow("GET", "HEAD")
@ui_view
def legal_basis_list(request):
    bases = list(selectors.legal_bases_to_manage(request.user))
    labels = dict(_choices()[0])
    kinds = dict(AgencyKind.choices)
    rows = [
        (
            basis,
            [labels.get(c, c) for c in basis.categories or []],
            [str(kinds.get(k, k)) for k in basis.agency_kinds or []],
        )
        for basis in bases
    ]
    return render(request, "legal_bases/list.html", {"rows": rows})


@allow("GET", "HEAD", "POST")
@ui_view
def legal_basis_new(request):
    if request.method != "POST":
        selectors.legal_bases_to_manage(request.user)  # 403 for everyone but process admins
        return _form(request)
    values = _posted(request, editing=False)
    try:
        basis = services.create_legal_basis(actor=request.user, values=values)
    except InvalidInput as exc:
        return _form(request, values=values, errors=exc.errors)
    messages.success(request, _("The legal basis %(name)s is added.") % {"name": f"{basis.law} {basis.paragraph}"})
    return redirect("legal-bases")


@allow("GET", "HEAD", "POST")
@ui_view
def legal_basis_edit(request, pk):
    basis = services.legal_basis_to_manage(actor=request.user, basis_id=pk)
    if request.method != "POST":
        return _form(request, basis=basis)
    values = _posted(request, editing=True)
    try:
        basis = services.update_legal_basis(actor=request.user, basis_id=pk, values=values)
    except (InvalidInput, Conflict) as exc:  # Conflict: which provision it is, fixed once in use
        return _form(request, basis=basis, values=values, errors=exc.errors)
    messages.success(request, _("The legal basis %(name)s is saved.") % {"name": f"{basis.law} {basis.paragraph}"})
    return redirect("legal-bases")


@require_POST
@ui_view
def legal_basis_retire(request, pk):
    try:
        basis = services.retire_legal_basis(actor=request.user, basis_id=pk)
    except Conflict as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("The legal basis %(name)s is retired: no new consent may rest on it.")
            % {"name": f"{basis.law} {basis.paragraph}"},
        )
    return redirect("legal-bases")


@require_POST
@ui_view
def legal_basis_delete(request, pk):
    try:
        services.delete_legal_basis(actor=request.user, basis_id=pk)
    except Conflict as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("The legal basis is deleted."))
    return redirect("legal-bases")
