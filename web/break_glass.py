"""Web UI: break-glass. The case page's section (the form that opens a masked category with a
written reason, posted to ``web.cases.break_glass_open``; the openings for the coordinator);
the auditors' review list and its action. The services are ``workflows.services.break_glass``."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.errors import Conflict
from core.http_methods import allow, require_POST
from permissions import rules
from web.pages import auditor_review, error_text, errors_by_field, ui_view
from workflows import selectors, services
from workflows.services.break_glass import break_glass_possible


def break_glass_section(user, case, *, values=None, errors=None) -> dict:
    """What the case page shows: the form (categories masked for the user), the user's own
    openings in force, and every opening with its reason for the coordinator and auditors."""
    access = rules.case_access(user, case)
    mine = rules.active_break_glass(case, user)
    categories = rules.break_glass_categories(
        access, selectors.case_field_rules(case), rules.active_consents(case), mine
    )
    works_case = rules.can_break_glass(user, case)
    return {
        "can_open": works_case and break_glass_possible(case) and bool(categories),
        "closed": works_case and not break_glass_possible(case),
        "categories": [(c, rules.CATEGORY_LABELS[c]) for c in categories],
        "mine": [(grant, rules.CATEGORY_LABELS.get(grant.category, grant.category)) for grant in mine],
        "hours": settings.BREAK_GLASS_HOURS,
        "all": (
            [(g, rules.CATEGORY_LABELS.get(g.category, g.category)) for g in _openings(user, case)]
            if rules.can_view_break_glass(user, case)
            else None
        ),
        "values": values or {},
        "errors": errors_by_field(errors),
    }


def _openings(user, case):
    openings = selectors.case_openings_for(actor=user, case=case)
    if openings:  # the page's other parts are logged by their categories (``case_view_for``)
        selectors.log_break_glass_read(user, case)
    return openings


REVIEW_LIST_SHOWN = 200


@allow("GET", "HEAD")
@ui_view
def review_list(request):
    """The openings waiting for review, and the reviewed ones still in force (to end one
    needed no longer: it left the list once reviewed, and only the API ended it)."""
    grants = list(selectors.break_glass_review_page(request.user)[:REVIEW_LIST_SHOWN])
    selectors.log_break_glass_review_read(request.user, grants)  # one row per case listed
    rows = [(grant, rules.CATEGORY_LABELS.get(grant.category, grant.category)) for grant in grants]
    return render(
        request,
        "cases/break_glass_review.html",
        {
            "rows": [row for row in rows if row[0].reviewed_at is None],
            "in_force": [row for row in rows if row[0].reviewed_at is not None],
        },
    )


@require_POST
@ui_view
def review(request, grant_pk):
    return auditor_review(
        request,
        lambda note: services.review_break_glass(actor=request.user, grant_id=grant_pk, note=note),
        done=_("The emergency access is marked as reviewed."),
        back="break-glass-review",
    )


@require_POST
@ui_view
def end(request, grant_pk):
    """End an opening now (``services.end_break_glass``): from the case page's section (the
    user who opened it: back to the case) or the auditors' review list (back to it)."""
    try:
        grant = services.end_break_glass(actor=request.user, grant_id=grant_pk)
    except Conflict as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("The emergency access is ended."))
        if grant.user_id == request.user.pk:
            return redirect("case", pk=grant.case_id)
        return redirect("break-glass-review")
    back = request.POST.get("case", "")
    if back.isascii() and back.isdigit():  # the case page's form names its case
        return redirect("case", pk=int(back))
    return redirect("break-glass-review")
