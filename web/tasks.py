"""Web UI: inbox and task page (design §8). Case pages are in ``web.cases``.

Thin like the API views: every read is a selector (which writes the access log through
``permissions.policy``), every change one service call. Domain errors become pages
(``web.pages``): ``NotFound`` -> 404, ``Forbidden`` -> 403, ``Conflict`` -> a message,
``InvalidInput`` -> the form again with each error next to its field.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from bpmn.registry import runtimes_for
from core.errors import Conflict, InvalidInput
from core.http_methods import allow, require_POST
from permissions import rules
from web import safety, schema_forms
from web.list_rows import TimeTags, id_links, shown
from web.pages import (
    data_sections,
    diagram_data,
    error_text,
    field_errors,
    form_choice_labels,
    form_titles,
    ui_view,
    works_cases,
)
from web.paging import next_page_of
from workflows import selectors, services
from workflows.filters import TASK_STATUS_ACTIVE, TaskFilter
from workflows.forms import form_errors
from workflows.models import Task, TaskStatus
from workflows.task_lists import TaskListing

INBOX_TABS = ("mine", "agency", "responsible", "overdue")
# What an inbox row shows (``_inbox_rows``): read nothing else (``task_lists.shown_only``).
INBOX_ROW_FIELDS = (
    "name",
    "status",
    "due_at",
    "created_at",
    "case__reference",
    "case__person_name",
    "agency__name",
    "handed_over_by__name",
    "element_id",  # with its version's model: whether "handed over by" tells a branch
    "instance__definition",
    "case__coordinator_agency",
    "case__safety_since",  # with the coordinator: whether "handed over by" tells a lapsed warning's branch
    "case__safety_until",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)
INBOX_FILTERS = {  # each tab is the API's task list with fixed filters
    "mine": {"assigned": "me", "status": TASK_STATUS_ACTIVE},
    "responsible": {"responsible": "me", "status": TASK_STATUS_ACTIVE},
    "agency": {"assigned": "agency", "status": TASK_STATUS_ACTIVE},
    "overdue": {"overdue": "true"},
}


# --- inbox --------------------------------------------------------------------------------


@allow("GET", "HEAD")
@ui_view
def inbox(request):
    user = request.user
    tab = request.GET.get("tab") if request.GET.get("tab") in INBOX_TABS else "agency"
    descending = request.GET.get("sort") == "-due"
    tasks, rows, page, query = [], [], None, ""
    if works_cases(user):
        filterset = TaskFilter(INBOX_FILTERS[tab], queryset=Task.objects.none(), request=request)
        filterset.is_valid()  # the tabs' own filters: always valid
        listing = TaskListing(user, filterset, descending=descending, fields=INBOX_ROW_FIELDS)
        # No count: the page and one row more ("Neste side" when it exists; README).
        page, query = next_page_of(request, listing)
        tasks = page.object_list
        rows = _inbox_rows(tasks, timezone.now(), user)
    return render(
        request,
        "tasks/inbox.html",
        {
            "tab": tab,
            "tabs": INBOX_TABS,
            "tasks": tasks,  # the page's tasks, as the rows show them:
            "rows": rows,
            "page": page,
            "query": query,
            "descending": descending,
            "works_cases": works_cases(user),
            "is_auditor": rules.is_auditor(user),
            "is_process_admin": rules.is_process_admin(user),
        },
    )


# An inbox row's markup, as the template wrote it from the row's values (each value escaped
# as ``{{ }}`` escapes it): written out by the template, its sixteen values were more than half
# of the page's Python per row (about 500 of 900 function calls; README "Read paths at scale").
# The template writes ``row.html``; ``tests/web/test_list_rows.py`` renders the old template
# lines beside it.
INBOX_ROW_MARKUP = (
    "<tr{overdue}>\n"
    '      <td data-label="{label_case}"><a href="{case_url}" class="person">{person}</a>'
    '<br><span class="muted">{reference}</span></td>\n'
    '      <td data-label="{label_task}"><a href="{task_url}" class="task-link">{name}</a></td>\n'
    '      <td data-label="{label_agency}">{agency}</td>\n'
    '      <td data-label="{label_handed_over}">{handed_over_by}<br><span class="muted">{created}</span></td>\n'
    '      <td data-label="{label_due}">{due}{late}</td>\n'
    '      <td data-label="{label_status}">{status}</td>\n'
    "    </tr>"
)


def inbox_row_html(row: dict, labels: dict[str, str]) -> SafeString:
    """``row`` (an ``_inbox_rows`` dict) as its ``<tr>``; ``labels``: the column names each
    cell repeats for phones (``inbox_row_labels``)."""
    late = row["late"]
    return mark_safe(  # noqa: S308 (every value escaped as the template escaped it)
        INBOX_ROW_MARKUP.format(
            overdue=' class="overdue"' if row["overdue"] else "",
            case_url=shown(row["case_url"]),
            person=shown(row["person"]),
            reference=shown(row["reference"]),
            task_url=shown(row["task_url"]),
            name=shown(row["name"]),
            agency=shown(row["agency"]),
            handed_over_by=shown(row["handed_over_by"]),
            created=shown(row["created"]),
            due=shown(row["due"]) if row["due"] else "\N{EN DASH}",  # the template's ``|default``
            late=f' <strong class="badge late">{shown(late)}</strong>' if late else "",
            status=shown(row["status"]),
            **labels,
        )
    )


def inbox_row_labels() -> dict[str, str]:
    """The column names an inbox row's cells repeat (``data-label``), translated and escaped
    once a page."""
    return {
        "label_case": shown(_("Case")),
        "label_task": shown(_("Task")),
        "label_agency": shown(_("Agency")),
        "label_handed_over": shown(_("Handed over by")),
        "label_due": shown(_("Due")),
        "label_status": shown(_("Status")),
    }


def _inbox_rows(tasks, now, user) -> list[dict]:
    """Each task as its row shows it, made here rather than in the template (its links,
    dates and phrases per row were most of the page's Python: ``web.list_rows``), with its
    markup (``html``, ``inbox_row_html``). Dicts: the template reads a key at the first try,
    an object's attribute at the second.
    "Handed over by" is left blank where it would tell a gateway's branch the reader may not
    infer (``rules.handed_over_by_listed``)."""
    times, case_link, task_link = TimeTags(), id_links("case"), id_links("task", "task")
    labels = inbox_row_labels()
    case_start, overdue_badge = _("(case start)"), _("overdue")
    # Who handed it over would tell a gateway's branch the reader may not infer.
    not_shown = _("(not shown)")
    # ``get_status_display`` hashes every translated choice for each row: once a page here.
    statuses = {value: str(label) for value, label in TaskStatus.choices}
    runtimes = runtimes_for({task.instance.definition_id for task in tasks})
    rows = []
    for task in tasks:
        late = task.is_active and task.due_at is not None and task.due_at < now
        if task.status == TaskStatus.CLAIMED:
            assignee = task.assignee
            name = (assignee.get_full_name() or assignee.get_username()) if assignee else ""
            status = _("taken by %(name)s") % {"name": name}
        else:
            status = statuses.get(task.status, task.status)
        rows.append(
            {
                "overdue": late,
                "case_url": case_link(task.case_id),
                "person": task.case.person_name,
                "reference": task.case.reference,
                "task_url": task_link(task.pk),
                "name": task.name,
                "agency": task.agency.name,
                "handed_over_by": (
                    (task.handed_over_by.name if task.handed_over_by else case_start)
                    if rules.handed_over_by_listed(user, task, runtimes[task.instance.definition_id])
                    else not_shown
                ),
                "created": times.moment(task.created_at),
                "due": times.day(task.due_at),
                "late": overdue_badge if late else "",
                "status": status,
            }
        )
        rows[-1]["html"] = inbox_row_html(rows[-1], labels)
    return rows


# --- task page ----------------------------------------------------------------------------


def task_day(task) -> datetime.date:
    """The day in Oslo a task's times of day are read for: the day it was completed, else today
    (it is done today). Not the server's UTC date: from midnight to 01:00 or 02:00 in Oslo that
    is the day before, on the last Sunday of March a day of another offset."""
    return timezone.localdate(task.completed_at) if task.completed_at else timezone.localdate()


def _task_page(request, task_id, *, values=None, errors=None, status=200):
    user = request.user
    view = selectors.task_view_for(user, task_id)
    task = view.task
    errors = field_errors(errors)
    day = task_day(task)
    fields = schema_forms.fields_for(view.form_schema, values if values is not None else {}, errors, day)
    return render(
        request,
        "tasks/detail.html",
        {
            "task": task,
            "person": view.person,
            "sections": data_sections(
                view.case_data,
                form_titles(task.case),
                form_choice_labels(task.case),
                day,
                safety_urls=(
                    reverse("task-safety-confirm", args=[task.pk]),
                    reverse("task-safety-remove", args=[task.pk]),
                ),
            ),
            "form_schema": view.form_schema,
            "fields": fields,
            "form_errors": schema_forms.form_level_errors(errors, fields),
            "can_work": rules.can_work_task(user, task),
            "claimed_by_me": task.status == TaskStatus.CLAIMED and task.assignee_id == user.pk,
            "colleagues": selectors.task_colleagues_for(user, task),
            "diagram": diagram_data(task.case, user, current=task.element_id),
            "now": timezone.now(),
        },
        status=status,
    )


@allow("GET", "HEAD", "POST")
@ui_view
def task_detail(request, pk):
    if request.method != "POST":
        return _task_page(request, pk)
    return _complete(request, pk)


def _complete(request, pk):
    task = selectors.task_for(request.user, pk)
    schema, validator = selectors.task_runtime(task).form_for(task.element_id)
    # a time of day is sent with Oslo's offset on the task's day: today, the day it is done
    data, conversion_errors, raw = schema_forms.data_from_post(schema, request.POST, task_day(task))
    if conversion_errors:
        bad = {e["field"] for e in conversion_errors}
        others = [e for e in form_errors(schema, validator, data) if e["field"] not in bad]
        return _task_page(request, pk, values=raw, errors=conversion_errors + others, status=400)
    try:
        services.complete_task(actor=request.user, task_id=pk, data=data)
    except InvalidInput as exc:
        return _task_page(request, pk, values=raw, errors=exc.errors, status=400)
    except Conflict as exc:
        messages.error(request, error_text(exc))
        return redirect("task", pk=pk)
    case = selectors.case_for(request.user, task.case_id)  # read again: with the data just written
    # The reader's own view of the case's path (own data and consents count here).
    open_tasks = selectors.path_view_for(request.user, case).tasks(selectors.case_tasks(case))
    next_agencies = sorted({t.agency.name for t in open_tasks})
    if next_agencies:
        messages.success(
            request,
            _("“%(task)s” is completed. The case is now with: %(agencies)s.")
            % {"task": task.name, "agencies": ", ".join(next_agencies)},
        )
    else:
        messages.success(request, _("“%(task)s” is completed.") % {"task": task.name})
    return redirect("tasks")


def _task_action(request, pk, action, done_message):
    try:
        task = action(actor=request.user, task_id=pk)
    except Conflict as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, done_message % {"task": task.name})
    if request.headers.get("HX-Request") == "true":
        return _task_actions_answer(request, pk)
    return redirect("task", pk=pk)


def _task_actions_answer(request, pk):
    """The answer to taking or releasing a task in place (htmx): the actions, the status and
    the message, nothing of the case's data. It reads none, so it writes no access-log row:
    the page around it, which did, is unchanged (the full page without htmx is a new view)."""
    user = request.user
    task = selectors.task_for(user, pk)
    return render(
        request,
        "tasks/_actions_answer.html",
        {
            "task": task,
            "can_work": task.is_active and rules.can_work_task(user, task),
            "claimed_by_me": task.status == TaskStatus.CLAIMED and task.assignee_id == user.pk,
        },
    )


@require_POST
@ui_view
def task_safety_confirm(request, pk):
    """The agency that recorded a safety warning of the task's case, or the coordinator,
    confirms it again from the task page (``web.safety``: as on the case page)."""
    task = selectors.task_for(request.user, pk)
    return safety.confirm(request, task.case_id, reverse("task", args=[pk]))


@require_POST
@ui_view
def task_safety_remove(request, pk):
    """A safety warning of the task's case removed from the task page (``web.safety``)."""
    task = selectors.task_for(request.user, pk)
    return safety.remove(request, task.case_id, reverse("task", args=[pk]))


@require_POST
@ui_view
def task_claim(request, pk):
    return _task_action(request, pk, services.claim_task, _("You have taken “%(task)s”."))


@require_POST
@ui_view
def task_reassign(request, pk):
    """Take over a claimed task, or (the agency's lead) give it to the colleague chosen."""
    assignee = request.POST.get("assignee") or None
    try:
        task = services.reassign_task(actor=request.user, task_id=pk, assignee=assignee)
    except Conflict as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("“%(task)s” is now with %(name)s.")
            % {"task": task.name, "name": task.assignee.get_full_name() or task.assignee.get_username()},
        )
    return redirect("task", pk=pk)


@require_POST
@ui_view
def task_unclaim(request, pk):
    return _task_action(request, pk, services.unclaim_task, _("You have released “%(task)s” to your agency."))
