"""Read queries for the process admin pages. Process admins see definitions and counts of
the instances on each version, never case data."""

from __future__ import annotations

from django.db.models import Count, Q

from bpmn.engine.camunda_forms import camunda_form_schemas, form_name_for
from bpmn.engine.errors import BpmnValidationError
from bpmn.engine.lanes import AGENCY_KINDS, DEFAULT_LANE_ALIASES
from bpmn.engine.xml import parse_bpmn_xml
from bpmn.models import DeployRecord, ProcessDefinition
from core.errors import Forbidden, NotFound
from permissions import rules


def _require_admin(user) -> None:
    if not rules.is_process_admin(user):
        raise Forbidden("process.manage_forbidden")


def _with_instance_counts(queryset):
    return queryset.annotate(
        instance_count=Count("instances", distinct=True),
        running_count=Count("instances", filter=Q(instances__status="running"), distinct=True),
    )


def process_overview_for(user) -> list[dict]:
    """Every process key with its versions (newest first), instance counts and deployer."""
    _require_admin(user)
    versions = _with_instance_counts(
        ProcessDefinition.objects.defer("spec_json", "bpmn_xml", "forms_json")
        .select_related("deployed_by")
        .order_by("key", "-version")
    )
    processes: dict[str, dict] = {}
    for definition in versions:
        entry = processes.setdefault(definition.key, {"key": definition.key, "latest": definition, "versions": []})
        entry["versions"].append(definition)
    return list(processes.values())


def process_versions_for(user, key: str) -> list[ProcessDefinition]:
    """The versions of ``key``, newest first, with instance counts; NotFound when none."""
    _require_admin(user)
    versions = list(
        _with_instance_counts(
            ProcessDefinition.objects.filter(key=key)
            .defer("spec_json")
            .select_related("deployed_by")
            .order_by("-version")
        )
    )
    if not versions:
        raise NotFound("process.not_found")
    return versions


def deploy_records_for(user, key: str, limit: int = 50):
    _require_admin(user)
    return DeployRecord.objects.filter(key=key).select_related("actor")[:limit]


def lane_vocabulary() -> dict:
    """What the editor offers for routing: the agency kinds and the lane names known by default."""
    return {"agency_kinds": list(AGENCY_KINDS), "lane_aliases": DEFAULT_LANE_ALIASES}


def converted_forms(bpmn_xml: str, forms: dict) -> dict:
    """The forms a deploy would convert from camunda:formData that the content does not
    have yet: listed in the editor so the admin reviews them and gives categories."""
    try:
        root = parse_bpmn_xml(bpmn_xml.encode("utf-8"), filename="model.bpmn")
    except BpmnValidationError:
        return {}  # the draft does not parse yet: validation says why
    return {
        form_name_for(element_id): schema
        for element_id, schema in camunda_form_schemas(root).items()
        if form_name_for(element_id) not in forms
    }
