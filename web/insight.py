"""The insight pages: figures for leaders, their exports, the annual report and the
heatmap on the diagram. Aggregates only: every number comes from ``insight.figures``,
already made safe to show; no case, task or person is read here.

Leaders (``rules.insight_scopes``) see their scope's figures; process admins see the
heatmap of the whole municipality on their process pages. A filter that would narrow a
group below five, or to one whose count the table hides, answers 400 with the reason, on
the page and for the exports alike.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
from dataclasses import dataclass
from html import escape
from typing import TypeVar

from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from bpmn.models import ProcessDefinition
from core.errors import Forbidden, InvalidInput, NotFound, field_error
from core.http_methods import require_GET
from insight import figures, periods, replica
from insight.models import WHOLE_MUNICIPALITY
from insight.privacy import SMALL
from permissions import rules
from permissions.models import Agency
from web import charts
from web.pages import error_text, field_errors, ui_view

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Filters:
    scope: int
    version: int  # of the scope's figures, read once for every figure of the page
    year: int
    years: list[int]
    agency_id: int | None = None
    # The other scopes read with the reader's (``figures.read_together``): each figure is
    # suppressed with theirs (``privacy.joint``).
    together: tuple[int, ...] = ()


def insight_view(view):
    """Signed in, GET only; refusals as everywhere (``ui_view``), and a filter that cannot be
    used answers 400 naming it. The figures are read from the read replica when one is
    configured and current (``insight.replica``)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return replica.reading_reports(lambda: view(request, *args, **kwargs))
        except InvalidInput as exc:
            context = {"error": error_text(exc), "errors": field_errors(exc.errors)}
            return render(request, "insight/invalid.html", context, status=400)

    return require_GET(ui_view(wrapper))


# The default of a filter: a number, or None where "all" is a choice.
_Default = TypeVar("_Default", int, None)


def _choice(request, name: str, allowed: list[int], default: _Default) -> int | _Default:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput("insight.invalid_filter", errors=[field_error(name, "insight.unknown_choice")]) from None
    if value not in allowed:
        raise InvalidInput("insight.invalid_filter", errors=[field_error(name, "insight.unknown_choice")])
    return value


def _filters(request, scopes: list[int]) -> Filters:
    scope = _choice(request, "scope", scopes, scopes[0])
    version = figures.version_of(scope)
    years = figures.years_with_figures(scope, version)
    # The year of the last finished month (figures count finished months only).
    last_finished = (periods.finished_before() - datetime.timedelta(days=1)).year
    year = _choice(request, "year", years, max((y for y in years if y <= last_finished), default=years[0]))
    together = tuple(other for other in figures.read_together(scopes) if other != scope)
    return Filters(scope, version, year, years, together=together)


def _leader_scopes(user) -> list[int]:
    scopes = rules.insight_scopes(user)
    if not scopes:
        raise Forbidden("insight.forbidden")
    return scopes


def _too_small(field: str) -> InvalidInput:
    return InvalidInput("insight.invalid_filter", errors=[field_error(field, "insight.group_too_small", limit=SMALL)])


def _hidden(field: str) -> InvalidInput:
    return InvalidInput("insight.invalid_filter", errors=[field_error(field, "insight.group_hidden")])


def _agency_filter(request, filters: Filters, tasks: figures.TaskFamily) -> None:
    """The agency filter: one of the agencies with tasks, whose count of tasks the table
    shows, and not narrower than five tasks."""
    filters.agency_id = _choice(request, "agency", tasks.agency_ids, None)
    if filters.agency_id is None:
        return
    completed = figures.agency_tasks(tasks, filters.year, filters.agency_id)
    if completed is None:
        raise _hidden("agency")
    if completed < SMALL:
        raise _too_small("agency")


def _agencies(tasks: figures.TaskFamily, names: dict[int, str]) -> list[tuple[int, str]]:
    return [(pk, names.get(pk, str(pk))) for pk in tasks.agency_ids]


# Which family of figures (one suppression ledger each) every figure belongs to.
FAMILIES = {
    "flow": ("flow", "opened_by_process", "closed_by_outcome", "outcomes_by_tenure"),
    "housing": ("housing_time",),
    "tasks": ("ball_by_agency", "ball_by_task", "overdue", "overdue_now"),
    "escalations": ("escalations",),
    "discharge": ("discharge",),
}


def family_figures(
    name: str, filters: Filters, tasks: figures.TaskFamily, agencies: dict[int, str], live: bool = True
) -> list[figures.Figure]:
    """The figures of family ``name``; ``live``: with those read live (overdue now)."""
    scope, version, year, together = filters.scope, filters.version, filters.year, filters.together
    if name == "flow":
        return figures.flow_figures(figures.case_flow(scope, version=version, together=together), year)
    if name == "housing":
        return [figures.housing_time(scope, year, version=version, together=together)]
    if name == "tasks":
        now = [figures.overdue_now(scope, filters.agency_id, agencies, together)] if live else []
        return [*figures.task_figures(tasks, year, filters.agency_id, agencies), *now]
    if name == "escalations":
        return [figures.escalations(scope, year, version=version, together=together)]
    return [figures.discharge_waits(scope, year, version=version, together=together)]


def page_figures(
    request, filters: Filters, tasks: figures.TaskFamily, agencies: dict[int, str], only: str | None = None
) -> list[figures.Figure]:
    """Every figure of the page (or of the family ``only``), for the filters (which the
    agency filter narrows: checked for every family alike); ``agencies``: their names."""
    _agency_filter(request, filters, tasks)
    return [
        figure for name in FAMILIES if only in (None, name) for figure in family_figures(name, filters, tasks, agencies)
    ]


def _scope_names(scopes: list[int]) -> list[tuple[int, str]]:
    names = dict(Agency.objects.filter(pk__in=scopes).values_list("pk", "name"))
    return [(scope, names.get(scope, _("The whole municipality"))) for scope in scopes]


@dataclass(frozen=True)
class Shown:
    """A figure as a page draws it: its table's rows and its chart as HTML."""

    key: str
    title: str
    header: list[str]
    rows: SafeString
    chart: SafeString
    legend: list[tuple[str, str]]
    note: str = ""


def _table_rows(figure: figures.Figure) -> SafeString:
    """The table's rows as HTML, each cell labelled by its column (the phone layout shows the
    label). Written here, not by a template loop: a figure of a large municipality has
    thousands of cells, which the template engine took most of the page's time to draw."""
    labels = [escape(heading) for heading in figure.header]
    rows = []
    for row in figure.table():
        cells = [f'<td data-label="{labels[0]}">{escape(row[0])}</td>'] if row else []
        cells += [
            f'<td data-label="{label}" class="number">{escape(cell)}</td>'
            for label, cell in zip(labels[1:], row[1:], strict=False)
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return mark_safe("\n".join(rows))  # noqa: S308 (every text in it is escaped above)


def _shown(figure: figures.Figure) -> Shown:
    return Shown(
        figure.key,
        figure.title,
        figure.header,
        _table_rows(figure),
        charts.chart(figure),
        charts.legend(figure),
        figure.note,
    )


def _page_shown(request, filters: Filters, tasks: figures.TaskFamily, agencies: dict[int, str]) -> list[Shown]:
    """Every figure of the page, drawn. Drawing a large municipality's tables and charts cost
    more than computing them, so the figures of the summary tables are drawn once per version
    of the scope's figures (as they are computed: ``figures.cached``), filter and language;
    overdue now (live) every time, in its place after the tasks completed late."""
    _agency_filter(request, filters, tasks)
    others = tuple(f"{other}v{figures.version_of(other)}" for other in filters.together)
    until = periods.finished_before()
    parts = (
        "insight:page",
        filters.scope,
        filters.version,
        until,
        get_language(),
        filters.year,
        filters.agency_id,
        *others,
    )
    key = ":".join(str(part) for part in parts)
    drawn = cache.get(key)
    if drawn is None:
        drawn = [
            _shown(figure) for name in FAMILIES for figure in family_figures(name, filters, tasks, agencies, live=False)
        ]
        cache.set(key, drawn, figures.CACHE_SECONDS)
    place = next(index for index, shown in enumerate(drawn) if shown.key == "overdue") + 1
    live = _shown(figures.overdue_now(filters.scope, filters.agency_id, agencies, filters.together))
    return [*drawn[:place], live, *drawn[place:]]


@insight_view
def insight_page(request):
    scopes = _leader_scopes(request.user)
    filters = _filters(request, scopes)
    tasks = figures.task_family(filters.scope, version=filters.version, together=filters.together)
    agencies = figures.agency_names()
    context = {
        "filters": filters,
        "scopes": _scope_names(scopes),
        "agencies": _agencies(tasks, agencies),
        "query": request.GET.urlencode(),
    }
    try:
        shown = _page_shown(request, filters, tasks, agencies)
    except InvalidInput as exc:
        context.update(error=error_text(exc), errors=field_errors(exc.errors))
        return render(request, "insight/page.html", context, status=400)
    context.update(figures=shown)
    return render(request, "insight/page.html", context)


@insight_view
def insight_export(request, key: str, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise NotFound("not_found")
    family = next((name for name, keys in FAMILIES.items() if key in keys), None)
    if family is None:
        raise NotFound("not_found")
    scopes = _leader_scopes(request.user)
    filters = _filters(request, scopes)
    try:
        tasks = figures.task_family(filters.scope, version=filters.version, together=filters.together)
        shown = page_figures(request, filters, tasks, figures.agency_names(), only=family)
        found = {figure.key: figure for figure in shown}
    except InvalidInput as exc:
        return HttpResponse(error_text(exc), status=400, content_type="text/plain; charset=utf-8")
    if key not in found:
        raise NotFound("not_found")
    return export(found[key], f"innsikt-{key}-{filters.year}", fmt)


def export(figure: figures.Figure, name: str, fmt: str) -> HttpResponse:
    """The figure's table as shown on the page, small counts hidden the same way."""
    rows = [figure.header, *figure.table()]
    note = _("<5: fewer than five. ×: hidden so that a small count cannot be worked out. –: not shown.")  # noqa: RUF001
    note = f"{note} {figure.note}" if figure.note else note  # one line of notes, under the table
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow([_csv_text(figure.title)])
        writer.writerows([_csv_text(text) for text in row] for row in rows)
        writer.writerow([_csv_text(note)])
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = figure.key[:31]
        _append_row(sheet, [figure.title])
        sheet["A1"].font = Font(bold=True)
        _append_row(sheet, figure.header)
        for row in rows[1:]:
            _append_row(sheet, [_cell_value(text) for text in row])
        sheet.append([])
        _append_row(sheet, [note])
        binary = io.BytesIO()
        workbook.save(binary)
        response = HttpResponse(binary.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# A text a spreadsheet would run as a formula (OWASP "CSV injection"). Row labels are names
# others choose: a task's name in a deployed model, an agency's or an outcome's.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(text: str) -> str:
    """``text`` for a CSV cell: a formula-like text gets a leading apostrophe, which the
    spreadsheet shows as text; numbers (a negative one too) stay numbers."""
    if not isinstance(text, str) or not text.startswith(FORMULA_STARTS) or isinstance(_cell_value(text), int | float):
        return text
    return "'" + text


def _append_row(sheet, values: list) -> None:
    """Append a row, every text stored as a text: openpyxl makes one starting with "=" a formula.
    The control characters a workbook cannot hold (openpyxl refuses them: a 500) are left out:
    a name typed in the admin may carry one. Tabs and line breaks stay, as any other text."""
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _cell_value(text: str):
    """A shown number as a number (spreadsheets sum it); hidden marks and labels as text."""
    plain = text.replace("\u00a0", "").replace(" d", "").replace(",", ".")
    try:
        return int(plain)
    except ValueError:
        pass
    try:
        return float(plain)
    except ValueError:
        return text


@insight_view
def annual_report(request):
    scopes = _leader_scopes(request.user)
    filters = _filters(request, scopes)
    flow = figures.case_flow(filters.scope, version=filters.version, together=filters.together)
    shown = [
        _shown(figures.report_lines(flow, filters.year)),
        _shown(figures.outcomes_by_tenure(flow, filters.year)),
        _shown(figures.housing_time(filters.scope, filters.year, version=filters.version, together=filters.together)),
        _shown(
            figures.discharge_waits(filters.scope, filters.year, version=filters.version, together=filters.together)
        ),
    ]
    context = {
        "filters": filters,
        "scopes": _scope_names(scopes),
        "scope_name": dict(_scope_names(scopes))[filters.scope],
        "figures": shown,
        "opened": flow.ledger.shown(flow.yearly_opened[filters.year]) if filters.year in flow.yearly_opened else "0",
        "today": datetime.date.today(),
    }
    return render(request, "insight/annual.html", context)


@insight_view
def heatmap_page(request):
    user = request.user
    if not rules.can_view_process_heatmap(user):
        raise Forbidden("insight.heatmap_forbidden")
    scopes = rules.insight_scopes(user) or [WHOLE_MUNICIPALITY]
    filters = _filters(request, scopes)
    keys = list(ProcessDefinition.objects.order_by("key").values_list("key", flat=True).distinct())
    key = request.GET.get("process") or (keys[0] if keys else "")
    versions = list(ProcessDefinition.objects.filter(key=key).order_by("-version").values_list("version", flat=True))
    if key and key not in keys:
        raise InvalidInput("insight.invalid_filter", errors=[field_error("process", "insight.unknown_choice")])
    # A version with fewer than five cases is not drawn (its tasks passed would be the path of
    # those few cases, whose number the process pages show): chosen, it answers 400; by default
    # the newest version with five or more is drawn.
    enough = figures.versions_with_five_cases(key) if key else set()
    wide = [v for v in versions if v in enough]
    version = _choice(request, "version", versions, wide[0] if wide else versions[0] if versions else None)
    definition = ProcessDefinition.objects.filter(key=key, version=version).first()
    tasks = figures.task_family(filters.scope, version=filters.version, together=filters.together)
    names = figures.process_names()
    context = {
        "filters": filters,
        "scopes": _scope_names(scopes),
        "keys": [(k, names.get(k, k)) for k in keys],
        "key": key,
        "versions": versions,
        "version": version,
        "agencies": _agencies(tasks, figures.agency_names()),
        "query": request.GET.urlencode(),
    }
    try:
        _agency_filter(request, filters, tasks)
        if version not in wide and request.GET.get("version"):
            raise _too_small("version")
    except InvalidInput as exc:
        context.update(error=error_text(exc), errors=field_errors(exc.errors))
        return render(request, "insight/heatmap.html", context, status=400)
    drawn = definition is not None and version in wide
    heats = figures.heatmap(tasks, definition.pk, filters.year, filters.agency_id) if drawn else []
    context.update(
        heats=heats,
        diagram={
            "xml": definition.bpmn_xml if definition else "",
            "elements": {
                heat.element_id: {
                    "count": heat.count,
                    "days": None if heat.mean_days is None else round(heat.mean_days, 1),
                    "level": heat.level,
                }
                for heat in heats
            },
            "labels": {"days": _("d"), "passed": _("passed")},
        },
    )
    return render(request, "insight/heatmap.html", context)
