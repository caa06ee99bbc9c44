"""Process admin pages (design §8): the list of definitions, one definition's versions with
their differences and deploy history, and the BPMN editor.

Only process admins reach them: anonymous users are sent to the login page, everyone else
gets 403. The editor's JSON endpoints are in ``views_editor``.
"""

from __future__ import annotations

import functools
import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.text import slugify

from bpmn.engine.lanes import AGENCY_KINDS, DEFAULT_LANE_ALIASES
from permissions import rules
from permissions.models import CATEGORIES
from workflows.errors import Forbidden, NotFound
from workflows.views import refused

from . import selectors, services
from .diff import diff_versions

NEW_PROCESS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_new" \
targetNamespace="http://brobygger.no/bpmn/new">
  <bpmn:process id="new_process" name="Ny prosess" isExecutable="true">
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


def admin_page(view):
    """Login required, then the process admin role: 403 page otherwise; 404 for unknown keys."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            if not rules.is_process_admin(request.user):
                raise Forbidden("only process admins manage process definitions")
            return view(request, *args, **kwargs)
        except (NotFound, Forbidden) as exc:
            return refused(request, exc)

    return login_required(wrapper)


@admin_page
def process_list(request):
    return render(request, "bpmn/list.html", {"processes": selectors.process_overview_for(request.user)})


def _pick(versions, number, default):
    if number is None:
        return default
    try:
        wanted = int(number)
    except ValueError as exc:
        raise NotFound("no such version") from exc
    for definition in versions:
        if definition.version == wanted:
            return definition
    raise NotFound("no such version")


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
    return render(request, "bpmn/detail.html", {
        "key": key, "versions": versions, "shown": shown, "compare": compare, "diff": diff,
        "diagrams": diagrams, "deploys": selectors.deploy_records_for(request.user, key),
        "draft": services.draft_for(actor=request.user, key=key),
    })


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
    if draft is not None:
        content = {"bpmn_xml": draft.bpmn_xml, "forms": draft.forms, "lanes": draft.lanes}
    elif latest is not None:
        content = {"bpmn_xml": latest.bpmn_xml, "forms": latest.forms, "lanes": latest.lanes}
    else:
        content = {"bpmn_xml": NEW_PROCESS_XML, "forms": {}, "lanes": {}}
    config = {
        **content,
        "key": key,
        "from_draft": draft is not None,
        "base_version": latest.version if latest else None,
        "categories": list(CATEGORIES),
        "agency_kinds": list(AGENCY_KINDS),
        "lane_aliases": DEFAULT_LANE_ALIASES,
    }
    return render(request, "bpmn/editor.html", {
        "key": key, "latest": latest, "draft": draft, "config": config,
    })


@admin_page
def process_edit(request, key):
    return _editor(request, key)


@admin_page
def process_new(request):
    return _editor(request, "")
