"""What every page shares: login and refusals, errors in the user's language, the pieces
the task, case and process pages all show.

Domain errors become pages in one place: ``NotFound`` -> the 404 page, ``Forbidden`` ->
the 403 page (``ui_view``), the others a message or the form again (each view decides,
through ``error_text`` and ``field_errors``). Errors are translated by their code with
their params (``core.messages``), never by their English text.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext

from bpmn import form_labels, form_values
from core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, ServiceError, in_language
from core.messages import render as render_message
from permissions import rules
from workflows import selectors


def error_text(exc: ServiceError) -> str:
    """The error's message in the user's language."""
    return translate(exc.code, exc.params)


def auditor_review(request, review: Callable[[str], object], *, done: str, back: str):
    """An auditor marks a row of their review list as reviewed: ``review(note)`` is the
    service; its refusal (already reviewed, too long a note) becomes a message, and either
    way the auditor is sent back to the list (the url name ``back``)."""
    try:
        review(request.POST.get("note", ""))
    except (Conflict, InvalidInput) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, done)
    return redirect(back)


def translate(code: str, params=None) -> str:
    return render_message(code, params or {}, translate=gettext)


def field_errors(errors: list[FieldError] | None) -> list[FieldError]:
    """The errors with each ``message`` in the user's language (those with a code)."""
    return in_language(errors, gettext)


def errors_by_field(errors: list[FieldError] | None, rename: dict[str, str] | None = None) -> dict[str, list[str]]:
    """The errors' messages (in the user's language) by the form field they belong to: a
    nested field (``participants.0.agency``) is its form's top field (``participant_0``
    for the participant rows); ``rename`` maps a service field to its form field."""
    by_field: dict[str, list[str]] = {}
    for error in field_errors(errors):
        name = str(error.get("field") or "")
        name = (rename or {}).get(name, name)
        if name.startswith("participants."):
            name = "participant_" + name.split(".", 1)[1]
        by_field.setdefault(name.split(".")[0], []).append(str(error.get("message", "")))
    return by_field


def refused(request, exc: ServiceError):
    status = exc.status_code if isinstance(exc, NotFound | Forbidden) else 403
    return render(request, "errors/refused.html", {"status": status, "detail": error_text(exc)}, status=status)


def csrf_failure(request, reason=""):
    """Django's ``CSRF_FAILURE_VIEW``: a form or a call sent without a valid token (a page
    left open, the user signed in again in another tab). A page in the reader's language
    saying that nothing was saved, or for a JSON call (the editor's) the error shape its
    script reads; never Django's technical page in English (until h-attack28), which the
    editor's script could not read either. ``reason`` (Django's words) is not shown."""
    if request.content_type == "application/json" or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": translate("csrf.failed"), "code": "csrf.failed", "errors": []}, status=403)
    return render(request, "errors/refused.html", {"status": 403, "csrf": True}, status=403)


def not_found(request, exception=None):
    """The site's HTML 404 page (``config.urls`` sends paths under ``/api/`` to the API's)."""
    return render(request, "404.html", {"status": 404}, status=404)


def ui_view(view):
    """Login required; invisible objects answer 404, forbidden actions 403."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (NotFound, Forbidden) as exc:
            return refused(request, exc)

    return login_required(wrapper)


def works_cases(user) -> bool:
    return bool(rules.case_agency_ids(user))


# --- pieces of the task and case pages ----------------------------------------------------


def form_titles(case) -> dict[str, str]:
    runtime = selectors.case_runtime(case)
    return form_labels.field_titles(runtime.forms if runtime else {})


def form_choice_labels(case) -> dict[str, dict[str, str]]:
    runtime = selectors.case_runtime(case)
    return form_labels.field_choice_labels(runtime.forms if runtime else {})


def data_sections(
    case_data: dict,
    titles: dict[str, str],
    labels: dict | None = None,
    day: datetime.date | None = None,
    *,
    safety_urls: tuple[str, str] | None = None,
) -> list[dict]:
    """The policy's category views, ready to show: titles and readable values (a choice by
    its label where the form gives one, a time of day in Oslo's time read for ``day``:
    ``form_values.display_value``). ``safety_urls``: where the page's forms confirm a safety
    warning again and remove it (``web.safety``; the case page's, a task page's), for the
    agency that recorded each and the coordinator (``CategoryView.confirmable``)."""
    labels = labels or {}
    sections = []
    for category, view in case_data.items():
        title_of = functools.partial(_title, titles)
        sections.append(
            {
                "category": category,
                "label": rules.CATEGORY_LABELS.get(category, category),
                "visible": view.visible,
                "values": [
                    (
                        titles.get(name, form_labels.option_label(name)),
                        form_values.display_value(value, day, labels.get(name)),
                    )
                    for name, value in view.values.items()
                ],
                # Values the reader's agency recorded before a step on a branch it sees wrote
                # over them (``policy.case_data_for(show_earlier=)``): theirs to correct.
                "earlier": [
                    (titles.get(name, form_labels.option_label(name)), form_values.display_value(value, day))
                    for name, value in view.earlier.items()
                ],
                # Safety warnings (``policy.warning_dates``): each lapsed one, its value shown
                # only to those who may confirm or remove it; those in force, until when.
                "warnings": [
                    {
                        "name": name,
                        "title": title_of(name),
                        "lapsed_on": view.lapsed.get(name),
                        "valid_until": view.valid_until.get(name),
                        "shown": name in view.values,
                        "confirmable": safety_urls is not None and name in view.confirmable,
                    }
                    for name in [*view.values, *(n for n in view.lapsed if n not in view.values)]
                    if name in view.lapsed or name in view.valid_until
                ],
                "confirm_url": safety_urls[0] if safety_urls else "",
                "remove_url": safety_urls[1] if safety_urls else "",
                "reason": view.reason,
                "basis": view.basis,
                # A form's "consent_..." answer is not a registered consent: the page says so.
                "has_consent_answers": any(name.startswith("consent_") for name in view.values),
            }
        )
    return sections


def _title(titles: dict[str, str], name: str) -> str:
    return titles.get(name, form_labels.option_label(name))


def diagram_data(case, user, current: str | None = None) -> dict | None:
    """What the diagram script draws (JSON); ``diagram_and_waits`` adds what the case waits on."""
    return diagram_and_waits(case, user, current)[0]


def diagram_and_waits(case, user, current: str | None = None, path_view=None) -> tuple[dict | None, list]:
    try:
        diagram = selectors.case_diagram_for(case, user, path_view)
    except NotFound:
        return None, []
    # The model comes from its version's URL, kept by the browser (``web.cases.process_model``);
    # the page carries only what is this case's: the elements done and active, for its reader.
    drawn = {
        "model": reverse("process-model", args=[diagram.definition_id]),
        "completed": diagram.completed,
        "active": diagram.active,
        "current": current,
    }
    return drawn, list(diagram.waiting)
