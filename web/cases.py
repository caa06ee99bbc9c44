"""Web UI: case list, start a case, case page, consents (design §8).

Same rules as ``views``: selectors and ``permissions.policy`` to read (logged), one
service call per change, domain errors mapped to pages and messages.
"""

from __future__ import annotations

import datetime
import functools
import secrets

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotModified, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import parse_etags, urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from core.http_methods import allow, require_GET, require_POST
from core.national_id import shown_masked
from permissions import rules
from permissions.models import AgencyKind
from web import drafts, safety, schema_forms
from web.break_glass import break_glass_section
from web.list_rows import TimeTags, id_links, shown
from web.notes import notes_section
from web.pages import (
    data_sections,
    diagram_and_waits,
    error_text,
    errors_by_field,
    field_errors,
    form_choice_labels,
    form_titles,
    refused,
    ui_view,
    works_cases,
)
from web.paging import capped_page, cursor_page_of, next_page_of, page_of
from web.swimlanes import build_chart
from workflows import selectors, services
from workflows.filters import CaseFilter, search_terms
from workflows.models import CaseStatus, EventKind
from workflows.services.consents import expiry_days
from workflows.services.follow_on import follow_on_processes

# Service field names -> the names of the start-case form's inputs.
START_FIELDS = {"process_key": "process", "person.name": "person_name", "person.national_id": "national_id"}


# --- case list ------------------------------------------------------------------------------


# The words a case list is searched for (a person's name, a date of birth) stay out of its
# address: the filter form posts them, the session keeps them under a short random key, and the
# list's address and its pager's links carry the key. An address with a name in it stays in the
# browser's history and its suggestions on a shared office computer, and in a proxy's log; the
# key means nothing outside the session that searched (another session's reader gets the list
# unsearched, with a notice). A ``q`` in the address is still read (an API client's habit, an old
# bookmark); no page of ours makes one.
SEARCHES = "case_list_searches"
SEARCHES_KEPT = 10  # the newest; a key older than that is a search to make again
FILTERS_POSTED = ("status", "process", "overdue")
SEARCH_WORDS_MAX = 200


def _remember_search(session, words: str) -> str:
    """Keep ``words`` in ``session`` under a new key, forgetting the oldest beyond
    ``SEARCHES_KEPT``; the key."""
    searches = dict(session.get(SEARCHES) or {})
    key = secrets.token_urlsafe(6)
    searches[key] = words
    for oldest in list(searches)[:-SEARCHES_KEPT]:
        del searches[oldest]
    session[SEARCHES] = searches
    return key


def _search_words(request) -> tuple[str, bool]:
    """The words the list is searched for, and whether the address named a search this session
    does not hold (forgotten, or another session's)."""
    key = request.GET.get("sok")
    if key is None:
        return request.GET.get("q", "")[:SEARCH_WORDS_MAX], False
    words = (request.session.get(SEARCHES) or {}).get(key)
    return (words, False) if isinstance(words, str) else ("", True)


def _searched(request) -> HttpResponseRedirect:
    """The posted filter form as the list's address: its filters as they are, its words by key."""
    params = {name: request.POST.get(name, "") for name in FILTERS_POSTED}
    words = request.POST.get("q", "").strip()[:SEARCH_WORDS_MAX]
    if words:
        params["sok"] = _remember_search(request.session, words)
    query = urlencode({name: value for name, value in params.items() if value})
    response = HttpResponseRedirect(reverse("cases") + (f"?{query}" if query else ""))
    response.status_code = 303  # see the list with GET (reloading it posts nothing again)
    return response


@allow("GET", "HEAD", "POST")
@ui_view
def case_list(request):
    if request.method == "POST":
        return _searched(request)
    user = request.user
    words, search_forgotten = _search_words(request)
    # The latest version of each process: its key and name (not its model, forms and diagram).
    processes = list(selectors.process_definitions_for(user).only("key", "name", "version"))
    process = request.GET.get("process", "")
    if process not in {p.key for p in processes}:
        process = ""  # only the processes offered in the form
    overdue = request.GET.get("overdue") == "1"  # a checkbox: ticked or "all"
    data = {
        "status": request.GET.get("status", ""),
        "process_key": process,
        "overdue": "true" if overdue else "",
        "responsible": request.GET.get("responsible", ""),  # the caseload page's links
        "q": words,
    }
    # A search's cases come from the search index, checked per case (``rules.listed_cases``).
    searching = bool(words) and search_terms(words) is not None
    filterset = CaseFilter(data, selectors.case_list_for(user, walk=not searching), request=request)
    # A bad filter value is ignored (``.qs`` narrows by the valid ones). No count: the page
    # and one row more ("Neste side" when it exists; README "Read paths at scale").
    page, query = next_page_of(request, filterset.qs)
    status = filterset.form.cleaned_data.get("status", "")
    return render(
        request,
        "cases/list.html",
        {
            "cases": page.object_list,  # the page's cases, as the rows show them:
            "rows": _case_rows(page.object_list, {p.key: p.name for p in processes}),
            "page": page,
            "query": query,
            "processes": processes,
            "status": status,
            "process": process,
            "q": words,
            "search_forgotten": search_forgotten,
            "overdue": overdue,
            "statuses": dict(CaseStatus.choices),
            "works_cases": works_cases(user),
        },
    )


# A case list row's markup, as the template wrote it from the row's values (each escaped as
# ``{{ }}`` escapes it), as the inbox's (``web.tasks.INBOX_ROW_MARKUP``): written out by the
# template, its nine values and eight labels were most of the page's Python per row. The
# template writes ``row.html``; ``tests/web/test_list_rows.py`` renders the old template lines
# beside it.
CASE_ROW_MARKUP = (
    "<tr>\n"
    '      <td data-label="{label_person}"><a href="{url}" class="person">{person}</a></td>\n'
    '      <td data-label="{label_case}">{reference}</td>\n'
    '      <td data-label="{label_process}">{process}</td>\n'
    '      <td data-label="{label_status}">{status}</td>\n'
    '      <td data-label="{label_coordinator}">{coordinator}</td>\n'
    '      <td data-label="{label_opened}">{opened}</td>\n'
    '      <td data-label="{label_open_tasks}">{open_tasks}</td>\n'
    '      <td data-label="{label_next_deadline}">{next_deadline}</td>\n'
    "    </tr>"
)


def case_row_html(row: dict, labels: dict[str, str]) -> SafeString:
    """``row`` (a ``_case_rows`` dict) as its ``<tr>``; ``labels``: the column names each
    cell repeats for phones (``case_row_labels``)."""
    return mark_safe(  # noqa: S308 (every value escaped as the template escaped it)
        CASE_ROW_MARKUP.format(
            url=shown(row["url"]),
            person=shown(row["person"]),
            reference=shown(row["reference"]),
            process=shown(row["process"]),
            status=shown(row["status"]),
            coordinator=shown(row["coordinator"]),
            opened=shown(row["opened"]),
            open_tasks=shown(row["open_tasks"]),
            # the template's ``|default`` (an en dash)
            next_deadline=shown(row["next_deadline"]) if row["next_deadline"] else "\N{EN DASH}",
            **labels,
        )
    )


def case_row_labels() -> dict[str, str]:
    """The column names a case list row's cells repeat (``data-label``), translated and
    escaped once a page."""
    return {
        "label_person": shown(_("Person")),
        "label_case": shown(_("Case")),
        "label_process": shown(_("Process")),
        "label_status": shown(_("Status")),
        "label_coordinator": shown(_("Coordinator")),
        "label_opened": shown(_("Opened")),
        "label_open_tasks": shown(_("Open tasks")),
        "label_next_deadline": shown(_("Next deadline")),
    }


def _case_rows(cases, process_names: dict[str, str]) -> list[dict]:
    """Each case as its row shows it, made here rather than in the template (its link, dates
    and labels per row were most of the page's Python: ``web.list_rows``), with its markup
    (``html``, ``case_row_html``)."""
    times, link = TimeTags(), id_links("case")
    statuses = {value: str(label) for value, label in CaseStatus.choices}  # translated once
    labels = case_row_labels()
    rows = []
    for case in cases:
        row = {
            "url": link(case.pk),
            "person": case.person_name,
            "reference": case.reference,
            "process": process_names.get(case.process_key) or case.process_key,
            "status": statuses.get(case.status, case.status),
            "coordinator": case.coordinator_agency.name,
            "opened": times.day(case.opened_at),
            "open_tasks": case.open_task_count,
            "next_deadline": times.moment(selectors.next_deadline(case)),
        }
        row["html"] = case_row_html(row, labels)
        rows.append(row)
    return rows


# --- start a case ---------------------------------------------------------------------------


def _needed_kinds(definition) -> list[str]:
    kinds = []
    for kind in (definition.metadata or {}).get("lanes", {}).values():
        if kind and kind not in kinds:
            kinds.append(kind)
    return kinds


def _default_process(processes, my_kinds: set[str]):
    """The process a user most likely starts: one whose first lane is their agency's (the
    prison's release, the hospital's discharge), else one they take part in, else the first."""
    for starts_it in (True, False):
        for process in processes:
            kinds = _needed_kinds(process)
            if kinds and (kinds[0] in my_kinds if starts_it else my_kinds & set(kinds)):
                return process
    return processes[0] if processes else None


def _start_form(request, *, values, errors=None, status=200):
    user = request.user
    processes = list(selectors.process_definitions_for(user))
    mine = rules.case_agency_ids(user)
    chosen = next((p for p in processes if p.key == values.get("process")), None) or _default_process(
        processes, {a.kind for a in selectors.agencies_for(user).filter(pk__in=mine)}
    )
    participants = []
    for kind in _needed_kinds(chosen) if chosen else []:
        choices = list(selectors.agencies_for(user).filter(kind=kind))
        default = next((a.pk for a in choices if a.pk in mine), choices[0].pk if len(choices) == 1 else "")
        participants.append(
            {
                "kind": kind,
                "label": AgencyKind(kind).label if kind in AgencyKind.values else kind,
                "name": f"participant_{kind}",
                "choices": choices,
                "value": str(values.get(f"participant_{kind}", default)),
            }
        )
    by_field = errors_by_field(errors, START_FIELDS)
    known = {"process", "person_name", "national_id", *(p["name"] for p in participants)}
    return render(
        request,
        "cases/new.html",
        {
            "processes": processes,
            "chosen": chosen,
            "participants": participants,
            "values": values,
            "errors": by_field,
            "other_errors": [m for name, ms in by_field.items() if name not in known for m in ms],
        },
        status=status,
    )


@allow("GET", "HEAD", "POST")
@ui_view
def case_new(request):
    if not works_cases(request.user):
        raise Forbidden("case.start_no_agency")
    if request.method != "POST":
        # The process chosen (the page's script asks for its agencies so); a name or national
        # id in the address is not read: the page never puts one there.
        return _start_form(request, values={"process": request.GET.get("process", "")})
    values = request.POST.dict()
    if values.pop("show_agencies", None):
        # Without a script, choosing the process posts the form (with the person typed so far,
        # which an address would keep in the browser's history) to show its agencies.
        return _start_form(request, values=values)
    definition = next(
        (p for p in selectors.process_definitions_for(request.user) if p.key == values.get("process")), None
    )
    participants = {}
    for kind in _needed_kinds(definition) if definition else []:
        if values.get(f"participant_{kind}"):
            participants[kind] = values[f"participant_{kind}"]
    try:
        case = services.start_case(
            actor=request.user,
            process_key=values.get("process", ""),
            person={"name": values.get("person_name", ""), "national_id": values.get("national_id", "")},
            participants=participants,
        )
    except InvalidInput as exc:
        return _start_form(request, values=values, errors=exc.errors, status=400)
    except Forbidden as exc:
        return _start_form(request, values=values, errors=[{"field": "", "message": error_text(exc)}], status=403)
    messages.success(request, _("Case %(reference)s is started.") % {"reference": case.reference})
    return redirect("case", pk=case.pk)


# --- case page ------------------------------------------------------------------------------


def _ball_holders(open_tasks) -> list[dict]:
    holders: dict[int, dict] = {}
    for task in open_tasks:
        holder = holders.setdefault(task.agency_id, {"agency": task.agency, "since": task.created_at, "tasks": []})
        holder["since"] = min(holder["since"], task.created_at)
        holder["tasks"].append(task)
    return sorted(holders.values(), key=lambda h: h["since"])


def _row_order(participants, tasks) -> list[tuple[int, str]]:
    order: dict[int, str] = {}
    for task in sorted(tasks, key=lambda t: (t.created_at, t.pk)):
        order.setdefault(task.agency_id, task.agency.name)
    for participant in participants:
        order.setdefault(participant.agency_id, participant.agency.name)
    return list(order.items())


FOLLOW_ON_CATEGORIES = ("housing", "economy", "health", "justice")  # the ones a consent opens


def _housing(participants):
    return next((p.agency for p in participants if p.kind == AgencyKind.HOUSING), None)


def _case_page(
    request,
    pk,
    *,
    consent_values=None,
    consent_errors=None,
    responsible_errors=None,
    follow_on_errors=None,
    break_glass_values=None,
    break_glass_errors=None,
    withdraw_values=None,
    withdraw_errors=None,
    status=200,
):
    # The sections all decide from the same consents and break-glass openings, read once.
    with rules.read_once():
        user = request.user
        view = selectors.case_view_for(user, pk, every_task=True)
        case = view.case
        path_view = view.path_view
        handoffs = path_view.events(selectors.case_handoffs_for(case, user))
        tasks = view.tasks
        now = timezone.now()
        diagram, waiting = diagram_and_waits(case, user, path_view=path_view)
        housing = _housing(view.participants)
        reassigns = case.status == CaseStatus.OPEN and rules.can_assign_responsible(user, case, housing)
        consents = selectors.case_consents_for(actor=user, case=case)
        for consent in consents:
            consent.case = case  # the rule below asks about the case already checked
        revocable = {consent.pk for consent in consents if rules.can_revoke_consent(user, consent)}
        if consents:  # the page's other parts are logged by their categories (``case_view_for``)
            selectors.log_consents_read(user, case)
        participants = view.participants
        erased = functools.cache(lambda: selectors.case_is_erased(case))  # asked once, if at all
        # The folded sections come when opened (``case_section``); one sent back with its
        # errors comes open, filled in.
        return render(
            request,
            "cases/detail.html",
            {
                "case": case,
                "process_name": selectors.process_name(case.process_key),
                "follows": selectors.followed_case_for(user, case),
                "view": view,
                "person": view.person,
                "status_label": case.get_status_display(),
                "holders": _ball_holders(view.open_tasks),
                "chart": build_chart(
                    agencies=_row_order(view.participants, tasks),
                    tasks=tasks,
                    handoffs=handoffs,
                    start=case.opened_at,
                    now=now,
                ),
                "sections": data_sections(
                    view.data,
                    form_titles(case),
                    form_choice_labels(case),
                    safety_urls=(
                        reverse("case-safety-confirm", args=[case.pk]),
                        reverse("case-safety-remove", args=[case.pk]),
                    ),
                ),
                "diagram": diagram,
                "waiting": waiting,
                "message_forms": _message_forms(user, case, waiting),
                "consents": consents,
                "can_record_consent": rules.can_record_consent(user, case),
                # An erased case takes no new sharing (its consents are still withdrawn here).
                "can_add_consent": rules.can_record_consent(user, case) and not erased(),
                "revocable": revocable,
                "consent_form": (
                    _consent_form(user, case, participants, consent_values, consent_errors) if consent_errors else None
                ),
                "access_log": rules.can_view_access_log(user, case),
                "notes_section": notes_section(request, case),
                "retention_link": rules.is_case_coordinator(user, case),
                "break_glass": break_glass_section(user, case, values=break_glass_values, errors=break_glass_errors),
                "responsible_choices": list(rules.housing_contacts(housing)) if reassigns else [],
                # An erased case's person is gone: no next case of their path starts from it
                # (shown only to say so, to a form sent from an older page).
                "follow_on": rules.can_start_follow_on(user, case, housing)
                and (bool(follow_on_errors) or not erased()),
                "follow_on_form": (
                    _follow_on_form(user, case, participants, follow_on_errors) if follow_on_errors else None
                ),
                "withdraw": _withdraws(user, case),
                "withdraw_form": (
                    _withdraw_form(user, case, participants, withdraw_values, withdraw_errors)
                    if withdraw_errors
                    else None
                ),
                "responsible_errors": [str(e.get("message", "")) for e in field_errors(responsible_errors)],
                "now": now,
            },
            status=status,
        )


# --- the case page's folded sections ----------------------------------------------------------
# What the page shows folded away comes when it is opened: htmx asks for it on the fold's
# toggle, from ``case_section``, which reads it through the same selectors and rules as the
# page did (the case through ``case_for``, then the section's own check; every read logged
# as before); without JavaScript the fold's link opens it as a page. The first answer
# is then what a reader looks at (the case, who holds the ball, the timeline, the data).


def _follow_on_form(user, case, participants, errors=None) -> dict | None:
    """The follow-on form of the case page, for a housing contact of the case."""
    if not rules.can_start_follow_on(user, case, _housing(participants)):
        return None
    if selectors.case_is_erased(case):  # the section opened directly: it says why there is no form
        return {"erased": True}
    processes = follow_on_processes()
    present = {p.kind for p in participants}
    missing = sorted({kind for d in processes for kind in (d.metadata or {}).get("lanes", {}).values()} - present)
    choices = {kind: list(selectors.agencies_for(user).filter(kind=kind)) for kind in missing}
    return {
        "processes": processes,
        "missing": [
            {
                "kind": kind,
                "label": AgencyKind(kind).label if kind in AgencyKind.values else kind,
                "choices": choices[kind],
                # Chosen only when there is one: the new case, the person and what is carried
                # go to this agency, so the housing contact picks it (as on the start form).
                "value": choices[kind][0].pk if len(choices[kind]) == 1 else None,
            }
            for kind in missing
        ],
        "categories": [(c, rules.CATEGORY_LABELS[c]) for c in FOLLOW_ON_CATEGORIES],
        "errors": [str(e.get("message", "")) for e in field_errors(errors)],
    }


def _withdraws(user, case) -> bool:
    return case.status == CaseStatus.OPEN and rules.can_withdraw_agency(user, case)


def _withdraw_form(user, case, participants, values=None, errors=None) -> dict | None:
    """The coordinator's form that withdraws an agency from the open case (the agencies are
    the participants, the coordinating one left out)."""
    if not _withdraws(user, case):
        return None
    return {
        "choices": [p for p in participants if p.agency_id != case.coordinator_agency_id],
        "values": values or {},
        "errors": errors_by_field(errors),
    }


def _consent_form(user, case, participants, values=None, errors=None) -> dict | None:
    """The form that records a consent: the recipients are the other participating agencies,
    the categories those the process can share, the bases the admins' list."""
    if not rules.can_record_consent(user, case) or selectors.case_is_erased(case):
        return None
    bases = list(selectors.legal_bases_for(user))
    mine = rules.case_access(user, case).agency_ids
    default_basis = next((b.pk for b in bases if b.is_consent), "")
    first_day, last_day = expiry_days()
    return {
        "expiry_days": (first_day.isoformat(), last_day.isoformat()),
        "recipients": [p for p in participants if p.agency_id not in mine],
        "categories": [
            (c, rules.CATEGORY_LABELS[c]) for c in rules.consentable_categories(selectors.case_field_rules(case))
        ],
        "legal_bases": bases,
        "values": values or {"legal_basis": str(default_basis), "categories": []},
        "errors": errors_by_field(errors),
    }


def _events_section(request, case, participants) -> dict:
    """The latest events of the timeline as a list (``selectors.CASE_EVENTS_SHOWN``), as the
    reader's path view shows them; whether there are older ones (the API's timeline pages
    through them all)."""
    user = request.user
    path_view = selectors.path_view_for(user, case)  # not logged: it decides, shows nothing
    latest, older = selectors.latest_case_events_for(case, user, path_view)
    events = path_view.events(latest)
    selectors.log_timeline_read(user, case)
    for event in events:
        if event.kind == EventKind.AGENCY_WITHDRAWN:  # its reason only to the coordinating agency
            event.detail = selectors.event_detail_for(event, user)
        elif (event.detail or {}).get(selectors.ON_BEHALF_KEY):
            # A note or file changed by its agency's lead or coordinator, its writer gone: who,
            # and that it was on the agency's behalf, only to whom the lists name its writer.
            event.detail = selectors.event_detail_for(event, user)
            event.on_behalf_by = event.actor if selectors.event_actor_for(event, user) else None
    return {
        "rows": [(event, event.get_kind_display()) for event in events],
        "older": older,
        "shown": selectors.CASE_EVENTS_SHOWN,
    }


def _access_log_section(request, case, participants):
    if not rules.can_view_access_log(request.user, case):
        return None
    rows = selectors.access_log_for_case(actor=request.user, case=case).order_by("-at", "-id")
    page = capped_page(rows, request.GET.get("log_page"), ACCESS_LOG_PAGE_SIZE)
    # The log as it was before this read, without the service tasks the reader may not see.
    page.object_list = selectors.mask_hidden_bases(request.user, page.object_list, case)
    selectors.log_access_log_read(request.user, case)
    return page


# name -> (what it shows, None for a reader the page does not show it to; its template; its
# title; the refusal then, as the route that writes through the section gives it)
CASE_SECTIONS = {
    "events": (_events_section, "cases/_events.html", gettext_lazy("The events as a list"), ""),
    "access-log": (
        _access_log_section,
        "cases/_access_log.html",
        gettext_lazy("Access log"),
        "access_log.forbidden",
    ),
    "consent-form": (
        lambda request, case, participants: _consent_form(request.user, case, participants),
        "cases/_consent_form.html",
        gettext_lazy("Record the person's consent"),
        "consent.record_forbidden",
    ),
    "follow-on": (
        lambda request, case, participants: _follow_on_form(request.user, case, participants),
        "cases/_follow_on_form.html",
        gettext_lazy("Start the next case of the person's path"),
        "case.follow_on_forbidden",
    ),
    "withdraw": (
        lambda request, case, participants: _withdraw_form(request.user, case, participants),
        "cases/_withdraw_form.html",
        gettext_lazy("Withdraw an agency from the case"),
        "participant.withdraw_forbidden",
    ),
}
# The name each section's template gives what it shows.
# How a section reads its case: by default, whoever sees the case. The access log by its own
# rule, as the API reads it (``selectors.case_whose_access_log_reads``): an auditor reads the
# log of a case they do not see.
SECTION_CASE = {"access-log": selectors.case_whose_access_log_reads}

SECTION_CONTEXT = {
    "events": "events",
    "access-log": "access_log",
    "consent-form": "consent_form",
    "follow-on": "follow_on_form",
    "withdraw": "withdraw_form",
}


@require_GET
@ui_view
def case_section(request, pk, section):
    """One folded section of the case page: the section alone for htmx, else as a page."""
    if section not in CASE_SECTIONS:
        raise NotFound("case.not_found")
    build, template, title, refusal = CASE_SECTIONS[section]
    with rules.read_once():
        # 404 for whoever may not read the case for it (403 for some: ``SECTION_CASE``)
        case = SECTION_CASE.get(section, selectors.case_for)(request.user, pk)
        shown = build(request, case, list(selectors.case_participants(case)))
        if shown is None:
            raise Forbidden(refusal)
        context = {"case": case, SECTION_CONTEXT[section]: shown}
        if request.headers.get("HX-Request"):
            return render(request, template, context)
        # The way back: to the case page for those who see it; an auditor, to the audit list.
        sees_case = rules.can_view_case(request.user, case)
        return render(
            request, "cases/section.html", {**context, "template": template, "title": title, "sees_case": sees_case}
        )


# The case page shows the access log a page at a time, folded away (it is long, and read
# by coordinators and auditors only now and then).
ACCESS_LOG_PAGE_SIZE = 20


@allow("GET", "HEAD")
@ui_view
def case_detail(request, pk):
    # A consent form with errors is shown again after a redirect (Post/Redirect/Get): a
    # reload of the page then shows it, and never records the consent a second time. Its
    # values are this request's alone (``web.drafts``).
    kept = drafts.taken(request, drafts.CONSENT_FORM)
    if kept and kept.get("case") == pk:
        return _case_page(request, pk, consent_values=kept["values"], consent_errors=kept["errors"])
    return _case_page(request, pk)


# A deployed version never changes (a change is a new version, with its own URL): a year.
MODEL_CACHE_CONTROL = "private, max-age=31536000, immutable"
# A model is markup a process admin wrote, fetched by the diagram's script: opened as a page
# of the site, an XHTML <script src> in it ran the site's own files in the reader's session.
# So it is a file (a download) with no script, style or plugin, in an origin of its own.
MODEL_HEADERS = {"Content-Security-Policy": "default-src 'none'; sandbox", "Content-Disposition": "attachment"}


@allow("GET", "HEAD")
@ui_view
def process_model(request, definition_id):
    """The BPMN model of one deployed version, drawn by the diagram of the case and task
    pages: fetched once and kept by the browser (private: the reader's own cache, as only
    the readers of its cases may have it). Who may is decided before anything is answered,
    a 304 included."""
    runtime = selectors.process_model_for(request.user, definition_id)
    if runtime.model_etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(runtime.bpmn_xml, content_type="application/xml; charset=utf-8")
    response["ETag"] = runtime.model_etag
    response["Cache-Control"] = MODEL_CACHE_CONTROL
    for header, value in MODEL_HEADERS.items():
        response[header] = value
    return response


def _message_forms(user, case, waiting) -> list[dict]:
    """The messages the case waits for that the user's agency may send (the prison's changed
    release date, the hospital's changed discharge date), each a small form of its fields."""
    runtime = selectors.case_runtime(case)
    if runtime is None or case.status != CaseStatus.OPEN:
        return []
    forms = []
    titles = {w.message: w.name for w in waiting if w.message}
    for name, title in titles.items():
        declared = runtime.message_rules.get(name) or {}
        if not rules.can_send_message(user, case, declared.get("senders")):
            continue
        forms.append(
            {
                "name": name,
                "title": title or name,
                "fields": schema_forms.fields_for(_message_schema(runtime, declared)),
            }
        )
    return forms


def _message_schema(runtime, declared) -> dict:
    """The message's fields as a form: each as the process's forms define it, all required."""
    names = list(declared.get("fields") or ())
    properties: dict[str, dict] = {}
    for schema in runtime.forms.values():
        for name, prop in (schema.get("properties") or {}).items():
            if name in names:
                properties.setdefault(name, prop)
    return {"type": "object", "properties": {n: properties[n] for n in names if n in properties}, "required": names}


@require_POST
@ui_view
def message_send(request, pk):
    """Send a message the case waits for, through the same service as the API's /messages/."""
    case = selectors.case_for(request.user, pk)
    name = request.POST.get("message", "")
    runtime = selectors.case_runtime(case)
    declared = (runtime.message_rules.get(name) if runtime else None) or {}
    data, errors, _raw = schema_forms.data_from_post(
        _message_schema(runtime, declared) if runtime else {}, request.POST
    )
    # The page sends the whole change: an empty date is no news (the API may send less).
    errors += [field_error(name, "field.required") for name in declared.get("fields") or () if name not in data]
    if not errors:
        try:
            services.correlate_message(actor=request.user, name=name, case_reference=case.reference, payload=data)
        except InvalidInput as exc:
            errors = exc.errors
        except Conflict as exc:
            messages.error(
                request,
                _(
                    "The case already has an open task from this message, and what you sent changes nothing in it. "
                    "Nothing was sent. When that task is done, a new message opens a new task."
                )
                if exc.code == "message.task_still_open"
                else error_text(exc),
            )
            return HttpResponseRedirect(reverse("case", args=[pk]) + "#send-message")
        else:
            messages.success(request, _("The message is sent, and the case goes on from it."))
            return redirect("case", pk=pk)
    messages.error(request, " ".join(str(e.get("message", "")) for e in field_errors(errors)))
    return HttpResponseRedirect(reverse("case", args=[pk]) + "#send-message")


@allow("GET", "HEAD")
@ui_view
def today(request):
    """The housing contact's day on one screen (a phone at a meeting with the person): the
    cases they coordinate, who holds the ball, what is overdue, what waits on a date."""
    if not rules.can_use_today(request.user):
        raise Forbidden("today.not_housing_contact")
    page, query = page_of(request, selectors.today_for(request.user))
    return render(
        request, "cases/today.html", {"cases": page.object_list, "page": page, "query": query, "now": timezone.now()}
    )


@allow("GET", "HEAD")
@ui_view
def audit_list(request):
    """An auditor's way in: the cases whose access log they read, each with its report."""
    page, query = page_of(request, selectors.audited_cases_for(request.user))
    return render(request, "cases/audit.html", {"cases": page.object_list, "page": page, "query": query})


@allow("GET", "HEAD")
@ui_view
def person_access_report(request, pk):
    """The person's access report, for the coordinator to give them (printable): its reads
    grouped (``selectors.access_groups``), in the API's keyset pages (``cursor_page_of``,
    "Nyere"/"Eldre" links), each bounded to the days it shows (``AccessLines.narrow_page``):
    page 5 costs what page 1 does, where ``?page=5`` grouped the four pages before it again."""
    report = selectors.person_access_report(actor=request.user, case=pk, log=False)
    try:  # ``last_id``: a line's newest row, which ends the lines' order (``access_groups``)
        page = cursor_page_of(
            request,
            report.entries,
            unique="last_id",
            narrow=report.lines.narrow_page,
            # Logged once the cursor is read: until h-lists a refused one (400) was logged too.
            before_read=lambda: selectors.log_person_access_report(request.user, report),
        )
    except InvalidInput as exc:
        detail = "; ".join(str(error.get("message", "")) for error in field_errors(exc.errors))
        return render(request, "errors/refused.html", {"status": 400, "unreadable": True, "detail": detail}, status=400)
    groups = selectors.access_groups_shown(request.user, page.object_list, report.cases)
    page.object_list = groups
    return render(
        request,
        "cases/person_access_report.html",
        {
            "report": report,
            "case_pk": pk,
            "sees_case": rules.can_view_case(request.user, report.cases[0]) if report.cases else False,
            "national_id": shown_masked(report.person.national_id),
            "entries": [(group, rules.CATEGORY_LABELS.get(group.category, group.category)) for group in groups],
            "page": page,
        },
    )


def _expiry(text: str):
    """The consent form's expiry day (the service says when on it a consent expires)."""
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return text  # the service reports it


@require_POST
@ui_view
def case_responsible(request, pk):
    """The lead makes another housing contact responsible (``services.assign_responsible``)."""
    try:
        case = services.assign_responsible(actor=request.user, case=pk, responsible=request.POST.get("responsible"))
    except InvalidInput as exc:
        return _case_page(request, pk, responsible_errors=exc.errors, status=400)
    except Conflict as exc:
        messages.error(request, error_text(exc))
        return redirect("case", pk=pk)
    name = case.responsible.get_full_name() or case.responsible.get_username()
    messages.success(request, _("%(name)s is now responsible for the case.") % {"name": name})
    return redirect("case", pk=pk)


@require_POST
@ui_view
def case_withdraw_agency(request, pk):
    """The coordinator withdraws an agency from the case (``services.withdraw_agency``)."""
    post = request.POST
    try:
        event = services.withdraw_agency(
            actor=request.user, case=pk, agency=post.get("agency"), reason=post.get("reason")
        )
    except InvalidInput as exc:
        values = {"agency": post.get("agency", ""), "reason": post.get("reason", "")}
        return _case_page(request, pk, withdraw_values=values, withdraw_errors=exc.errors, status=400)
    except Conflict as exc:
        messages.error(request, error_text(exc))
        return redirect("case", pk=pk)
    messages.success(
        request, _("%(agency)s is withdrawn from the case and no longer sees it.") % {"agency": event.agency.name}
    )
    return redirect("case", pk=pk)


@require_POST
@ui_view
def case_safety_confirm(request, pk):
    """The agency that recorded a safety warning, or the coordinator, confirms it again."""
    return safety.confirm(request, pk, reverse("case", args=[pk]))


@require_POST
@ui_view
def case_safety_remove(request, pk):
    """A safety warning removed: the correction of its value to none, with its reason."""
    return safety.remove(request, pk, reverse("case", args=[pk]))


@require_POST
@ui_view
def case_follow_on(request, pk):
    """A housing contact starts the next case of the person's path (``services.start_follow_on``)."""
    post = request.POST
    participants = {key.removeprefix("participant_"): v for key, v in post.items() if key.startswith("participant_")}
    try:
        result = services.start_follow_on(
            actor=request.user,
            case=pk,
            process_key=post.get("process", ""),
            participants=participants,
            consent_categories=post.getlist("consent_categories"),
        )
    except (InvalidInput, Conflict) as exc:
        return _case_page(request, pk, follow_on_errors=exc.errors, status=exc.status_code)
    messages.success(request, _("Case %(reference)s is started.") % {"reference": result.case.reference})
    if result.withheld:
        titles = form_titles(result.case)
        names = ", ".join(str(titles.get(name, name)) for name in result.withheld)
        messages.warning(request, _("Not carried over without the person's consent: %(fields)s") % {"fields": names})
    return redirect("case", pk=result.case.pk)


@allow("GET", "HEAD")
@ui_view
def case_person_page(request, pk):
    """The person's cases over time that the user may see (logged per case), for the person of
    case ``pk``: there is no page by the person's id. Person ids are sequential, so a page
    taking one would tell the starter of a case that its person was on file before (an id
    older than the one a new person gets), a client of another service, whatever name they
    typed."""
    case = selectors.case_for(request.user, pk)
    return render(request, "cases/person.html", {"path": selectors.person_path_for(request.user, case.person_id)})


@allow("GET", "HEAD")
@ui_view
def caseload(request):
    """Each housing contact's caseload, for the lead: counts only."""
    return render(request, "cases/caseload.html", {"loads": selectors.caseload_for(request.user)})


@require_POST
@ui_view
def consent_record(request, pk):
    post = request.POST
    values = {
        "agency": post.get("agency", ""),
        "categories": post.getlist("categories"),
        "purpose": post.get("purpose", ""),
        "legal_basis": post.get("legal_basis", ""),
        "expires": post.get("expires", ""),
        "note": post.get("note", ""),
    }
    try:
        services.record_consent(
            actor=request.user,
            case=pk,
            agency=values["agency"] or None,
            categories=values["categories"],
            purpose=values["purpose"],
            legal_basis=values["legal_basis"],
            expires_at=_expiry(values["expires"]),
            note=values["note"],
        )
    except InvalidInput as exc:
        drafts.keep(request, drafts.CONSENT_FORM, {"case": pk, "values": values, "errors": exc.errors})
        return HttpResponseRedirect(reverse("case", args=[pk]) + "#consents")
    except Forbidden as exc:
        errors = [{"field": "agency", "message": error_text(exc)}]
        return _case_page(request, pk, consent_values=values, consent_errors=errors, status=403)
    messages.success(request, _("The consent is recorded and applies at once."))
    return redirect("case", pk=pk)


@allow("GET", "POST")
@ui_view
def consent_revoke(request, pk, consent_pk):
    """GET: ask "withdraw this consent?"; POST: withdraw it."""
    case = selectors.case_for(request.user, pk)
    if request.method != "POST":
        consent = selectors.consents_for_case(actor=request.user, case=case).filter(pk=consent_pk).first()
        if consent is None or not rules.can_revoke_consent(request.user, consent) or consent.revoked_at:
            raise NotFound("consent.not_found")
        return render(request, "cases/consent_revoke.html", {"case": case, "consent": consent})
    try:
        services.revoke_consent(actor=request.user, consent_id=consent_pk, case=case.pk)
    except Conflict as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("The consent is withdrawn and no longer applies."))
    return redirect("case", pk=pk)


@require_POST
@ui_view
def break_glass_open(request, pk):
    """Open a masked category in an emergency (``services.open_break_glass``); errors on the case page."""
    values = {"category": request.POST.get("category", ""), "reason": request.POST.get("reason", "")}
    try:
        services.open_break_glass(actor=request.user, case=pk, category=values["category"], reason=values["reason"])
    except InvalidInput as exc:
        return _case_page(request, pk, break_glass_values=values, break_glass_errors=exc.errors, status=400)
    except Conflict as exc:
        messages.error(request, error_text(exc))
        return redirect("case", pk=pk)
    messages.warning(
        request,
        _("Emergency access is open for %(hours)s hours. It is logged with your reason and reviewed by an auditor.")
        % {"hours": settings.BREAK_GLASS_HOURS},
    )
    return redirect("case", pk=pk)


__all__ = ["break_glass_open", "case_detail", "case_list", "case_new", "consent_record", "consent_revoke", "refused"]
