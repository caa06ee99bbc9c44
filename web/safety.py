"""Confirming a safety warning again, or removing it, from the case page and from a task page
(the same two answers: the agency that recorded the warning and the case's coordinator act
where they meet it). One service each, shared with the API: ``services.confirm_safety_warning``
and the correction of its value to none (``retention.services.correct_value``). 404 for a
case (or task) the user does not see, 403 for a participant who neither recorded the warning
nor coordinates the case (``rules.decide_lapsed_warning``, raised by the services)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput
from retention.services import correct_value
from web.pages import error_text
from workflows import services

# Where the answer lands: the safety section of the page the form was on (htmx picks it out).
ANCHOR = "#category-safety"


def confirm(request, case_id: int, back: str):
    """Confirm the warning named by the form's ``field`` again; back to ``back`` (a page's URL)."""
    try:
        until = services.confirm_safety_warning(actor=request.user, case=case_id, field=request.POST.get("field"))
    except (InvalidInput, Conflict) as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    messages.success(
        request,
        _("The warning is confirmed and shown to the participants until %(date)s.")
        % {"date": date_format(until, "j. F Y")},
    )
    return redirect(back + ANCHOR)


def remove(request, case_id: int, back: str):
    """Remove the warning named by the form's ``field``, with its ``reason``, as a correction."""
    try:
        correct_value(
            actor=request.user,
            case_id=case_id,
            field=request.POST.get("field", ""),
            value=None,
            reason=request.POST.get("reason", ""),
        )
    except (InvalidInput, Conflict) as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    messages.success(request, _("The warning is removed. The old value is kept only in the audit trail."))
    return redirect(back + ANCHOR)
