"""Deploying process definitions."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from bpmn.engine.definition import compile_definition, definition_checksum
from bpmn.engine.errors import BpmnValidationError
from permissions import rules
from workflows.errors import Conflict, Forbidden, InvalidInput

from .models import ProcessDefinition


@dataclass(frozen=True)
class DeployResult:
    definition: ProcessDefinition
    created: bool


def deploy_definition(
    *,
    actor,
    bpmn_xml: bytes | str,
    forms: dict[str, dict] | None = None,
    lanes: dict[str, str] | None = None,
    filename: str = "model.bpmn",
    check_permission: bool = True,
) -> DeployResult:
    """Validate and deploy a model. Identical content to the latest version returns it.

    ``check_permission=False`` is for the trusted deploy command, which runs as no user.
    """
    if check_permission and not rules.can_deploy_process(actor):
        raise Forbidden("only process admins deploy process definitions")
    forms = forms or {}
    if not isinstance(forms, dict) or not all(isinstance(v, dict) for v in forms.values()):
        raise InvalidInput("forms must map file names to JSON schemas",
                           errors=[{"field": "forms", "message": "expected an object of objects"}])
    if isinstance(bpmn_xml, bytes):
        try:
            bpmn_text = bpmn_xml.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput("the BPMN file is not UTF-8",
                               errors=[{"field": "bpmn_xml", "message": str(exc)}]) from exc
    else:
        bpmn_text = bpmn_xml
    compiled = compile_definition(bpmn_text.encode("utf-8"), forms=forms, lanes=lanes, filename=filename)
    checksum = definition_checksum(bpmn_text, forms, lanes)

    try:
        return _store_version(actor, compiled, bpmn_text, forms, lanes, checksum)
    except IntegrityError as exc:
        # The first version of a key has no row to lock: two simultaneous first deploys
        # meet at the unique constraint instead.
        raise Conflict(f"another deploy of {compiled.process_id!r} happened at the same time; "
                       "try again") from exc


def _store_version(actor, compiled, bpmn_text, forms, lanes, checksum) -> DeployResult:
    with transaction.atomic():
        # Serialize deploys of one key so two admins cannot both create version n+1.
        latest = (
            ProcessDefinition.objects.select_for_update()
            .filter(key=compiled.process_id)
            .defer("spec_json", "bpmn_xml")
            .order_by("-version")
            .first()
        )
        if latest is not None and latest.checksum == checksum:
            return DeployResult(latest, created=False)
        definition = ProcessDefinition.objects.create(
            key=compiled.process_id,
            version=(latest.version + 1) if latest else 1,
            name=compiled.name,
            bpmn_xml=bpmn_text,
            forms_json=json.dumps(forms, ensure_ascii=False),
            lanes_json=json.dumps(lanes or {}, ensure_ascii=False),
            checksum=checksum,
            spec_json=compiled.spec_json,
            metadata={
                "lanes": compiled.lanes,
                "user_tasks": compiled.user_tasks,
                "fields": compiled.fields,
                "messages": compiled.messages,
            },
            deployed_by=actor if actor is not None and actor.is_authenticated else None,
        )
    return DeployResult(definition, created=True)


def latest_definition(key: str) -> ProcessDefinition | None:
    return ProcessDefinition.objects.filter(key=key).order_by("-version").first()


__all__ = ["BpmnValidationError", "DeployResult", "deploy_definition", "latest_definition"]
