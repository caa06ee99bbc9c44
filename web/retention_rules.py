"""Web UI: the retention rules, kept by process admins (issue 17, point 1): how long each
process's data and access log are kept after the case closes, and which categories go
into the case file the archive receives. Auditors read the list (without its buttons);
every other role gets the 403 page. The services are in ``retention.services`` (shared with
the API; they log every change for the auditor). As the legal bases' pages: post, then a
redirect; a form with errors is answered 400 (200 to htmx, which shows it). A form carries
the version of the rule it was read at: a rule changed meanwhile is not overwritten."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput, NotFound
from core.http_methods import allow, require_POST
from permissions import rules
from permissions.models import ALL_CATEGORIES
from retention import services
from retention.rules import conf
from web.pages import error_text, errors_by_field, ui_view
from workflows import selectors

FIELDS = ("process_key", "category", "keep_years", "access_log_years", "legal_basis")


def _category_choices() -> list[tuple[str, str]]:
    return [(c, str(rules.CATEGORY_LABELS.get(c, c))) for c in ALL_CATEGORIES]


def _posted(request) -> dict:
    values: dict = {name: request.POST.get(name, "") for name in FIELDS}
    values["in_case_file"] = request.POST.get("in_case_file") == "on"
    values[services.VERSION] = request.POST.get(services.VERSION, "")
    return values


def _form(request, *, rule=None, values=None, errors=None):
    if values is None:
        values = (
            {name: getattr(rule, name) for name in (*FIELDS, "in_case_file")}
            if rule is not None
            else {"keep_years": conf("RETENTION_CASE_YEARS"), "access_log_years": conf("RETENTION_ACCESS_LOG_YEARS")}
        )
    htmx = request.headers.get("HX-Request") == "true"
    context = {
        "rule": rule,
        "values": values,
        "errors": errors_by_field(errors),
        "processes": selectors.process_choices(),
        "categories": _category_choices(),
    }
    return render(request, "retention/rule_form.html", context, status=200 if not errors or htmx else 400)


@allow("GET", "HEAD")
@ui_view
def rule_list(request):
    rules_ = services.retention_rules_for(request.user)
    processes = dict(selectors.process_choices())
    categories = dict(_category_choices())
    rows = [(rule, processes.get(rule.process_key, rule.process_key), categories.get(rule.category)) for rule in rules_]
    defaults = {
        "keep_years": conf("RETENTION_CASE_YEARS"),
        "access_log_years": conf("RETENTION_ACCESS_LOG_YEARS"),
        "case_file": [categories.get(c, c) for c in conf("RETENTION_CASE_FILE_CATEGORIES")],
    }
    context = {
        "rows": rows,
        "defaults": defaults,
        "can_manage": rules.can_manage_retention_rules(request.user),
        "can_view_changes": rules.can_view_retention_rule_changes(request.user),
    }
    return render(request, "retention/rules.html", context)


@allow("GET", "HEAD", "POST")
@ui_view
def rule_new(request):
    if request.method != "POST":
        services.retention_rules_to_manage(request.user)  # 403 for everyone but process admins
        return _form(request)
    values = _posted(request)
    try:
        services.save_retention_rule(actor=request.user, values=values)
    except InvalidInput as exc:
        return _form(request, values=values, errors=exc.errors)
    messages.success(request, _("The retention rule is saved. The retention job uses it from its next run."))
    return redirect("retention-rules")


@allow("GET", "HEAD", "POST")
@ui_view
def rule_edit(request, pk):
    rule = services.retention_rule_to_manage(actor=request.user, rule_id=pk)
    if request.method != "POST":
        return _form(request, rule=rule)
    values = _posted(request)
    try:
        services.save_retention_rule(actor=request.user, values=values, rule_id=pk)
    except InvalidInput as exc:
        return _form(request, rule=rule, values=values, errors=exc.errors)
    except Conflict as exc:  # changed by someone else since the form was read: show theirs
        messages.error(request, error_text(exc))
        return redirect("retention-rule", pk=pk)
    messages.success(request, _("The retention rule is saved. The retention job uses it from its next run."))
    return redirect("retention-rules")


@require_POST
@ui_view
def rule_delete(request, pk):
    try:
        services.delete_retention_rule(actor=request.user, rule_id=pk, version=request.POST.get(services.VERSION))
    except (NotFound, Conflict, InvalidInput) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("The retention rule is deleted: its cases follow the next rule or the default."))
    return redirect("retention-rules")
