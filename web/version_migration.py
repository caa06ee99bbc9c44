"""The process admin's page for moving running cases to another version of their process:
the preview in counts, no case named (``GET``, ``insight.migration_preview``), and the move
of every case that can move, or of one case posted by its id (``POST``), through the same
services as the API (``workflows.services.versions``)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from bpmn import selectors
from core.errors import InvalidInput
from core.http_methods import allow
from core.ids import parse_id
from insight import migration_preview
from insight.privacy import SMALL
from web.pages import field_errors, translate
from web.processes import admin_page
from workflows import services
from workflows.services import versions


def _problem_text(problem) -> str:
    return translate(versions.reason_code(problem), {"element": problem.element_id})


def _shown(count: versions.Count) -> str:
    if count.value is not None:
        return str(count.value)
    return translate(f"migration.count.{count.hidden}", {"limit": SMALL})


@admin_page
@allow("GET", "POST")
def migrate_version(request, key, version):
    all_versions = selectors.process_versions_for(request.user, key)
    targets = [definition for definition in all_versions if definition.version != version]
    wanted = request.POST.get("to_version") or request.GET.get("to_version")
    to_version = parse_id(wanted) if wanted else (targets[0].version if targets else None)
    errors = []
    if request.method == "POST":
        case_id = request.POST.get("case") or None
        try:
            record = services.migrate_instances(
                actor=request.user, key=key, from_version=version, to_version=to_version, case_id=case_id
            )
        except InvalidInput as exc:
            errors = field_errors(exc.errors)
        else:
            messages.success(
                request,
                _("%(moved)s cases moved to version %(to)s; %(stayed)s stayed on version %(from)s.")
                % {
                    "moved": len(record.migrated),
                    "to": record.to_definition.version,
                    "stayed": len(record.refused),
                    "from": version,
                },
            )
            url = reverse("process-migrate", args=[key, version])
            return redirect(f"{url}?to_version={record.to_definition.version}")
    plan = None
    if to_version is not None and not errors:
        try:
            plan = migration_preview.preview_migration(
                actor=request.user, key=key, from_version=version, to_version=to_version
            )
        except InvalidInput as exc:
            errors = field_errors(exc.errors)
    return render(
        request,
        "bpmn/migrate.html",
        {
            "key": key,
            "version": version,
            "targets": targets,
            "to_version": to_version,
            "plan": plan,
            "counts": plan and {name: _shown(getattr(plan, name)) for name in ("cases", "movable", "refused")},
            "standings": [
                (row, [_problem_text(problem) for problem in row.problems], _shown(row.cases))
                for row in (plan.standings if plan else [])
            ],
            # Hidden is 1 to 4 or, as a complement, unknown: the button is offered unless none can move.
            "movable": plan is not None and plan.movable.value != 0,
            "small": SMALL,
            "errors": errors,
        },
    )
