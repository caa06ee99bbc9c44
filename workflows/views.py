"""Web UI: inbox and task page (design §8). Case pages are in ``views_cases``.

Thin like the API views: every read is a selector or ``permissions.policy`` call (which
writes the access log), every change one service call. Domain errors become pages:
``NotFound`` -> 404, ``Forbidden`` -> 403, ``Conflict`` -> a message, ``InvalidInput``
-> the form again with each error next to its field.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bpmn.registry import runtime_for
from permissions import rules

from . import forms_ui, selectors, services
from .errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from .filters import TASK_STATUS_ACTIVE, TaskFilter
from .forms import form_errors
from .models import ProcessInstance, TaskStatus
from .paging import page_of

INBOX_TABS = ("mine", "agency", "overdue")
INBOX_FILTERS = {  # each tab is the API's task list with fixed filters
    "mine": {"assigned": "me", "status": TASK_STATUS_ACTIVE},
    "agency": {"assigned": "agency", "status": TASK_STATUS_ACTIVE},
    "overdue": {"overdue": "true"},
}


def refused(request, exc: ServiceError):
    status = 404 if isinstance(exc, NotFound) else 403
    return render(request, "errors/refused.html", {"status": status, "detail": _(exc.detail)}, status=status)


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


# --- shared pieces of the task and case pages -------------------------------------------


def runtime_of_case(case):
    definition_id = (
        ProcessInstance.objects.filter(case=case).order_by("-id").values_list("definition_id", flat=True).first()
    )
    return runtime_for(definition_id) if definition_id else None


def data_sections(case_data: dict, titles: dict[str, str], labels: dict | None = None) -> list[dict]:
    """The policy's category views, ready to show: titles and readable values (a choice
    by its label where the form gives one)."""
    labels = labels or {}
    sections = []
    for category, view in case_data.items():
        sections.append({
            "category": category,
            "label": rules.CATEGORY_LABELS.get(category, category),
            "visible": view.visible,
            "values": [(titles.get(name, forms_ui.option_label(name)),
                        forms_ui.display_value(labels.get(name, {}).get(value, value) if isinstance(value, str)
                                               else value))
                       for name, value in view.values.items()],
            "reason": view.reason,
            "basis": view.basis,
        })
    return sections


def diagram_data(case, user, current: str | None = None) -> dict | None:
    try:
        diagram = selectors.case_diagram_for(case, user)
    except NotFound:
        return None
    return {"xml": diagram.bpmn_xml, "completed": diagram.completed, "active": diagram.active, "current": current}


# --- inbox --------------------------------------------------------------------------------


@ui_view
def inbox(request):
    user = request.user
    tab = request.GET.get("tab") if request.GET.get("tab") in INBOX_TABS else "agency"
    descending = request.GET.get("sort") == "-due"
    tasks, page, query = [], None, ""
    if works_cases(user):
        queryset = TaskFilter(INBOX_FILTERS[tab], selectors.task_inbox_for(user), request=request).qs
        queryset = queryset.select_related("handed_over_by")
        if descending:
            queryset = queryset.order_by("-due_at", "-id")
        page, query = page_of(request, queryset)
        tasks = page.object_list
    return render(request, "tasks/inbox.html", {
        "tab": tab, "tabs": INBOX_TABS, "tasks": tasks, "page": page, "query": query, "descending": descending,
        "now": timezone.now(), "works_cases": works_cases(user),
    })


# --- task page ----------------------------------------------------------------------------


def _task_page(request, task_id, *, values=None, errors=None, status=200):
    user = request.user
    view = selectors.task_view_for(user, task_id)
    task = view.task
    runtime = runtime_of_case(task.case)
    fields = forms_ui.fields_for(view.form_schema, values if values is not None else {}, errors)
    return render(request, "tasks/detail.html", {
        "task": task,
        "person": view.person,
        "sections": data_sections(view.case_data, forms_ui.field_titles(runtime.forms if runtime else {}),
                                  forms_ui.field_choice_labels(runtime.forms if runtime else {})),
        "form_schema": view.form_schema,
        "fields": fields,
        "form_errors": forms_ui.form_level_errors(errors, fields),
        "can_work": rules.can_work_task(user, task),
        "claimed_by_me": task.status == TaskStatus.CLAIMED and task.assignee_id == user.pk,
        "diagram": diagram_data(task.case, user, current=task.element_id),
        "now": timezone.now(),
    }, status=status)


@ui_view
def task_detail(request, pk):
    if request.method != "POST":
        return _task_page(request, pk)
    return _complete(request, pk)


def _complete(request, pk):
    task = selectors.task_for(request.user, pk)
    runtime = runtime_of_case(task.case)
    schema, validator = runtime.form_for(task.element_id) if runtime else (None, None)
    data, conversion_errors, raw = forms_ui.data_from_post(schema, request.POST)
    if conversion_errors:
        bad = {e["field"] for e in conversion_errors}
        others = [e for e in form_errors(schema, validator, data) if e["field"] not in bad]
        return _task_page(request, pk, values=raw, errors=conversion_errors + others, status=400)
    try:
        services.complete_task(actor=request.user, task_id=pk, data=data)
    except InvalidInput as exc:
        return _task_page(request, pk, values=raw, errors=exc.errors, status=400)
    except Conflict as exc:
        messages.error(request, _(exc.detail))
        return redirect("task", pk=pk)
    case = selectors.case_for(request.user, task.case_id)
    next_agencies = sorted({t.agency.name for t in selectors.case_tasks(case)})
    if next_agencies:
        messages.success(request, _("“%(task)s” is completed. The case is now with: %(agencies)s.")
                         % {"task": task.name, "agencies": ", ".join(next_agencies)})
    else:
        messages.success(request, _("“%(task)s” is completed.") % {"task": task.name})
    return redirect("tasks")


def _task_action(request, pk, action, done_message):
    try:
        task = action(actor=request.user, task_id=pk)
    except Conflict as exc:
        messages.error(request, _(exc.detail))
    else:
        messages.success(request, done_message % {"task": task.name})
    return redirect("task", pk=pk)


@require_POST
@ui_view
def task_claim(request, pk):
    return _task_action(request, pk, services.claim_task, _("You have taken “%(task)s”."))


@require_POST
@ui_view
def task_unclaim(request, pk):
    return _task_action(request, pk, services.unclaim_task, _("You have released “%(task)s” to your agency."))
