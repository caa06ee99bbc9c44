"""Process admin pages (design §8): the list of definitions, one definition's versions with
their differences and deploy history, and the BPMN editor.

Only process admins reach them: anonymous users are sent to the login page, everyone else
gets 403. The editor's JSON endpoints are in ``web.editor``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_noop

from bpmn import selectors, services
from bpmn.diff import diff_versions
from core.errors import Forbidden, NotFound
from core.http_methods import allow
from permissions import rules
from permissions.models import CATEGORIES
from web.pages import refused

NEW_PROCESS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_new" \
targetNamespace="http://brobygger.no/bpmn/new">
  <bpmn:process id="new_process" name="{name}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" name="Start"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="new_process">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="180" y="160" width="36" height="36"/>
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""

# The strings the editor's scripts show (bpmn/static/bpmn/*.js, through ``Brobygger.t``):
# the editor page passes them translated as a json_script dict, English text -> the
# user's language. tests/editor/test_i18n.py checks that every string the scripts use is here.
EDITOR_STRINGS = (
    # sidebar.js: forms converted from camunda:formData (issue 14)
    gettext_noop("%(form)s (from Camunda: review)"),
    gettext_noop(
        "This task's fields come from its Camunda form: give each field a data category before you "
        "deploy (a field without one is restricted)."
    ),
    # editor.js
    gettext_noop("Form %(form)s"),
    gettext_noop("Draft saved %(when)s"),
    gettext_noop("Draft not saved"),
    gettext_noop("Draft not discarded"),
    gettext_noop("Unsaved changes…"),
    gettext_noop(
        "Single sign-on must be checked again: your changes are kept in this tab and come back once the page "
        "has reloaded."
    ),
    gettext_noop("Your changes from before single sign-on was checked again are back."),
    gettext_noop("line %(line)s"),
    gettext_noop("Show %(element)s"),
    gettext_noop("Validating…"),
    gettext_noop("The model is valid: process %(process)s can be deployed."),
    gettext_noop("One problem: fix it before deploying (marked on the diagram and listed below)."),
    gettext_noop("%(n)s problems: fix them before deploying (marked on the diagram and listed below)."),
    gettext_noop("Deploying…"),
    gettext_noop("%(reason)s: nothing was deployed."),
    gettext_noop("Deployed as a new version:"),
    gettext_noop("Identical to the deployed version, nothing new:"),
    gettext_noop("No draft: this is the deployed version"),
    gettext_noop("Imported %(files)s"),
    gettext_noop("%(n)s import warning"),
    gettext_noop("%(n)s import warnings"),
    gettext_noop("The file could not be imported: %(error)s"),
    gettext_noop("The diagram could not be drawn: %(error)s"),
    # form-editor.js
    gettext_noop("Field name"),
    gettext_noop("Title"),
    gettext_noop("Type"),
    gettext_noop("Choices"),
    gettext_noop("Choices (comma-separated)"),
    gettext_noop("Required"),
    gettext_noop("Data category"),
    gettext_noop("restricted (none)"),
    gettext_noop("Remove"),
    gettext_noop("Remove %(field)s"),
    gettext_noop("Add a field"),
    gettext_noop("New field"),
    gettext_noop("Form title"),
    gettext_noop("text"),
    gettext_noop("long text"),
    gettext_noop("date"),
    gettext_noop("time of day"),
    gettext_noop("date and time"),
    gettext_noop("whole number"),
    gettext_noop("number"),
    gettext_noop("yes/no"),
    gettext_noop("choice"),
    # sidebar.js
    gettext_noop("Name"),
    gettext_noop("Process"),
    gettext_noop("Process id (the key)"),
    gettext_noop("Letters, digits and _ . -; a new id deploys as a new process."),
    gettext_noop("Process name"),
    gettext_noop("from the name: %(kind)s"),
    gettext_noop("– unknown: choose –"),  # noqa: RUF001 (the en dashes are meant)
    gettext_noop("Agency kind of this lane"),
    gettext_noop("Tasks in the lane go to the case's agency of this kind."),
    gettext_noop("Task type"),
    gettext_noop("task (no type)"),
    gettext_noop("user task (a form)"),
    gettext_noop("manual task (done outside)"),
    gettext_noop("service task"),
    gettext_noop("script task"),
    gettext_noop("send task"),
    gettext_noop("receive task"),
    gettext_noop("Agencies get user and manual tasks in their inbox."),
    gettext_noop("– no form –"),  # noqa: RUF001 (the en dashes are meant)
    gettext_noop("%(form)s (missing)"),
    gettext_noop("+ new form for this task"),
    gettext_noop("Lane: %(lane)s"),
    gettext_noop("Form file"),
    gettext_noop("Edit the form"),
    gettext_noop("Due in (dueIn)"),
    gettext_noop("ISO-8601 duration, e.g. P5D or PT12H"),
    gettext_noop("Timer"),
    gettext_noop("Kind"),
    gettext_noop("duration (P14D)"),
    gettext_noop("date (2026-12-01T09:00:00+01:00)"),
    gettext_noop("cycle (R3/P30D)"),
    gettext_noop("Value or expression"),
    gettext_noop("Message"),
    gettext_noop("Message name"),
    gettext_noop("Condition"),
    gettext_noop("A Python expression over the case data, e.g. has_home == False"),
    gettext_noop("Default flow of the gateway"),
    gettext_noop("– none –"),  # noqa: RUF001 (the en dashes are meant)
    gettext_noop("Default flow"),
    gettext_noop("Taken when no condition holds; an exclusive gateway needs one."),
    # sidebar.js: the routing map given at import (issue 14)
    gettext_noop("Who does it"),
    gettext_noop("– not mapped –"),  # noqa: RUF001 (the en dashes are meant)
    gettext_noop("Agency kind of the candidate group %(name)s"),
    gettext_noop("Agency kind of the assignee %(name)s"),
    gettext_noop("Goes to: %(where)s"),
    gettext_noop("%(kind)s, by the lane %(name)s"),
    gettext_noop("%(kind)s, by the candidate group %(name)s"),
    gettext_noop("%(kind)s, by the assignee %(name)s"),
    gettext_noop("%(kind)s, by the pool %(name)s"),
    gettext_noop("%(kind)s, the process's default"),
    gettext_noop("no agency: map a name above, or choose a default agency kind on the process"),
    gettext_noop("Agency kind for tasks nothing else routes"),
    gettext_noop("For models without lanes: their tasks go to the case's agency of this kind."),
    gettext_noop("User who gets the task (user name)"),
    gettext_noop("The task is taken by this user when it starts, if the user works for the agency it goes to."),
    gettext_noop("Agency kind of this pool"),
    gettext_noop("Tasks of the pool that no lane, candidate group or assignee routes go to this kind."),
)

# Messages these pages raise in English; listed so that the refusal page shows them translated.
PAGE_MESSAGES = (
    gettext_noop("only process admins manage process definitions"),
    gettext_noop("no such version"),
)


def editor_strings() -> dict[str, str]:
    """EDITOR_STRINGS and the data categories' names (translated in permissions), translated."""
    return {text: gettext(text) for text in (*EDITOR_STRINGS, *CATEGORIES)}


def admin_page(view):
    """Login required, then the process admin role: 403 page otherwise; 404 for unknown keys."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            if not rules.is_process_admin(request.user):
                raise Forbidden("process.manage_forbidden")
            return view(request, *args, **kwargs)
        except (NotFound, Forbidden) as exc:
            return refused(request, exc)

    return login_required(wrapper)


@allow("GET", "HEAD")
@admin_page
def process_list(request):
    return render(request, "bpmn/list.html", {"processes": selectors.process_overview_for(request.user)})


def _pick(versions, number, default):
    if number is None:
        return default
    try:
        wanted = int(number)
    except ValueError as exc:
        raise NotFound("process.version_not_found") from exc
    for definition in versions:
        if definition.version == wanted:
            return definition
    raise NotFound("process.version_not_found")


@allow("GET", "HEAD")
@admin_page
def process_detail(request, key):
    versions = selectors.process_versions_for(request.user, key)
    shown = _pick(versions, request.GET.get("version"), versions[0])
    older = [definition for definition in versions if definition.version < shown.version]
    compare = _pick(versions, request.GET.get("compare"), older[0] if older else None)
    diff = None
    if compare is not None and compare.pk != shown.pk:
        diff = diff_versions(compare.bpmn_xml, shown.bpmn_xml, compare.forms, shown.forms)
    diagrams = {"shown": {"xml": shown.bpmn_xml, **(diff.as_dict() if diff else {})}}
    if diff and diff.removed:
        diagrams["compare"] = {"xml": compare.bpmn_xml, "removed": diff.as_dict()["removed"]}
    return render(
        request,
        "bpmn/detail.html",
        {
            "key": key,
            "versions": versions,
            "shown": shown,
            "compare": compare,
            "diff": diff,
            "diagrams": diagrams,
            "deploys": selectors.deploy_records_for(request.user, key),
            "draft": services.draft_for(actor=request.user, key=key),
            "can_migrate": rules.can_migrate_cases(request.user),
        },
    )


@allow("GET", "HEAD")
@admin_page
def export_version(request, key, version, what="bpmn"):
    versions = selectors.process_versions_for(request.user, key)
    definition = _pick(versions, str(version), None)
    if what == "forms":
        body = json.dumps(definition.forms, ensure_ascii=False, indent=2)
        kind, suffix = "application/json", "forms.json"
    else:
        body, kind, suffix = definition.bpmn_xml, "application/xml", "bpmn"
    response = HttpResponse(body, content_type=f"{kind}; charset=utf-8")
    filename = f"{slugify(key) or 'process'}.v{definition.version}.{suffix}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _editor(request, key: str):
    """The modeler, loaded with the draft if there is one, else the latest version."""
    draft = services.draft_for(actor=request.user, key=key)
    latest = selectors.process_versions_for(request.user, key)[0] if key else None
    content: dict[str, Any]
    if draft is not None:
        content = {"bpmn_xml": draft.bpmn_xml, "forms": draft.forms, "lanes": draft.lanes, "routing": draft.routing}
    elif latest is not None:
        content = {"bpmn_xml": latest.bpmn_xml, "forms": latest.forms, "lanes": latest.lanes, "routing": latest.routing}
    else:
        content = {
            "bpmn_xml": NEW_PROCESS_XML.format(name=escape(gettext("New process"))),
            "forms": {},
            "lanes": {},
            "routing": {},
        }
    converted = selectors.converted_forms(content["bpmn_xml"], content["forms"])
    config = {
        **content,
        "forms": {**converted, **content["forms"]},
        "converted_forms": sorted(converted),
        "key": key,
        # Whose unsaved work a tab kept across a single sign-on check (editor.js): another user
        # signing in in the same tab does not get it.
        "user": request.user.pk,
        "from_draft": draft is not None,
        "draft_saved_at": draft.updated_at.isoformat() if draft is not None else None,
        "base_version": latest.version if latest else None,
        "categories": list(CATEGORIES),
        **selectors.lane_vocabulary(),
    }
    return render(
        request,
        "bpmn/editor.html",
        {
            "key": key,
            "latest": latest,
            "draft": draft,
            "config": config,
            "strings": editor_strings(),
        },
    )


@allow("GET", "HEAD")
@admin_page
def process_edit(request, key):
    return _editor(request, key)


@allow("GET", "HEAD")
@admin_page
def process_new(request):
    return _editor(request, "")
