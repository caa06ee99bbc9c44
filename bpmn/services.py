"""Deploying process definitions, the editor's drafts and validation, and the deploy audit trail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from bpmn.engine.definition import compile_definition, definition_checksum
from bpmn.engine.errors import ISSUE_CODES, BpmnValidationError, ValidationIssue
from bpmn.engine.gateway_paths import element_writes, path_splits, with_called
from bpmn.engine.xml import MAX_BPMN_BYTES
from bpmn.models import DeployRecord, ProcessDefinition, ProcessDraft
from core.errors import Conflict, FieldError, Forbidden, InvalidInput, field_error
from core.messages import Message
from permissions import rules
from permissions.policy import field_rules


def issue_message_code(code: str, variant: str | None = None) -> str:
    """The ``core.messages`` code of an engine issue: its text in the user's language."""
    return f"model.{code}.{variant}" if variant else f"model.{code}"


def issue_message_codes() -> set[str]:
    """The message code of every issue the engine can raise (``ISSUE_CODES``)."""
    return {
        issue_message_code(code, variant) for code, variants in ISSUE_CODES.items() for variant in variants or [None]
    }


def issue_error(issue: ValidationIssue) -> FieldError:
    """One refused model's problem in the error shape: the engine's ``code``, its English
    ``message`` (the API's words), the ``element_id`` and ``line`` it is about (one without
    an element is about the upload: a refused DOCTYPE, broken XML, and names the field
    ``bpmn_xml``), and ``message_code`` with ``params`` to say it in another language."""
    # One without an element about a form (``lint_other_forms``: a form no element names) is
    # about the forms.
    where = {} if issue.element_id else {"field": "forms" if "form" in issue.params else "bpmn_xml"}
    params = {"element": issue.element_id or issue.file or "", "file": issue.file or "", **issue.params}
    if "detail_code" in params:  # the engine's own words (the sandbox's refusal): said from its code too
        params["detail"] = Message(f"engine.{params.pop('detail_code')}", params.pop("detail_params", {}))
    return {
        **where,
        **issue.as_dict(),
        "params": params,
        "message_code": issue_message_code(issue.code, issue.variant),
    }


class InvalidModel(InvalidInput):
    """The model was refused at deploy: ``errors`` has one entry per problem (``issue_error``)."""

    def __init__(self, exc: BpmnValidationError):
        super().__init__("process.model_refused", errors=[issue_error(issue) for issue in exc.issues])
        self.issues = exc.issues


def _compiled(bpmn_text: str, forms, lanes, filename, routing=None, called=()):
    try:
        return compile_definition(
            bpmn_text.encode("utf-8"), forms=forms, lanes=lanes, filename=filename, routing=routing, called=called
        )
    except BpmnValidationError as exc:
        raise InvalidModel(exc) from exc


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
    routing: dict | None = None,
    called: list[dict] | None = None,
) -> DeployResult:
    """Validate and deploy a model. Identical content to the latest version returns it.

    ``routing``: the routing map (``bpmn.engine.routing``: lanes, pools, candidate groups,
    assignees -> agency kind, and a default kind), stored with the version.
    ``called``: other files whose processes the model's call activities call, each
    ``{"filename", "bpmn_xml"}``: checked like the model and stored with the version.
    ``check_permission=False`` is for the trusted deploy command, which runs as no user.
    """
    if check_permission and not rules.can_deploy_process(actor):
        raise Forbidden("process.deploy_forbidden")
    forms = forms or {}
    if not isinstance(forms, dict) or not all(isinstance(v, dict) for v in forms.values()):
        raise InvalidInput("process.forms_invalid", errors=[field_error("forms", "field.expected_objects")])
    if isinstance(bpmn_xml, bytes):
        try:
            bpmn_text = bpmn_xml.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput("process.not_utf8", errors=[field_error("bpmn_xml", "field.not_utf8")]) from exc
    else:
        bpmn_text = bpmn_xml
    routing = routing or None
    called_files = _called_files(called)
    compiled = _compiled(bpmn_text, forms, lanes, filename, routing, called_files)
    _check_routing_users(actor, routing, compiled.user_tasks)
    checksum = definition_checksum(bpmn_text, forms, lanes, routing, called_files)
    # The forms converted from camunda:formData are stored like given ones (the task pages
    # and validation read them from the version); a form given under the same name won.
    forms = {**compiled.converted_forms, **forms}

    store = (actor, compiled, bpmn_text, forms, lanes, checksum, routing, called_files)
    try:
        return _store_version(*store)
    except IntegrityError:
        pass
    # The first version of a key has no row to lock: two first deploys at once meet at the
    # unique constraint instead. The one refused stores again, now behind the other's row,
    # and answers as it would have after it (the same content: that version, 200).
    try:
        return _store_version(*store)
    except IntegrityError as exc:
        raise Conflict("process.deploy_race", key=compiled.process_id) from exc


def _check_routing_users(actor, routing, user_tasks) -> None:
    """The routing map's users are handed tasks without anyone asking: the power of a lead
    (or coordinator) over their own agency's tasks (``rules.can_assign_task``), which the
    process admin role does not carry. So each user must be one the deploying admin may hand
    every task of the assignee to: a colleague with a case role in an agency of the task's
    kind that the admin leads. The deploy command runs as no user: no lead stands behind its
    map, so it names no users.

    Refused at deploy, naming the entry, rather than only dropped when a task is created: the
    admin learns now that the map would hand nothing, and a model that says what never
    happens is not stored. (When the task is created the same rule is asked again, of the
    deployer, for the agency it landed on: ``workflows.steps.runner``.)

    One answer for every refused name, whatever the reason (no such user, inactive, in
    another agency, of another kind): the admin learns only what they know already, which
    of their own agency's people work cases of which kind. The kinds in it come from the
    model alone."""
    users = (routing or {}).get("users") or {}
    if not users:
        return
    assignable = rules.assignable_kinds(actor, {str(user).strip() for user in users.values()})
    task_kinds: dict[str, set[str]] = {}
    for task in user_tasks.values():
        if task.get("assignee_user"):
            task_kinds.setdefault(task["assignee_user"], set()).add(task["agency_kind"])
    errors = []
    for assignee, user in users.items():
        name = str(user).strip()
        needed = {kind for kind in task_kinds.get(name, ()) if kind}
        # (An entry whose assignee no task names hands nothing, so nothing is asked of it.)
        if needed and not needed <= assignable.get(name, set()):
            errors.append(
                field_error(
                    f"routing.users.{assignee}", "process.routing_user_not_assignable", kinds=", ".join(sorted(needed))
                )
            )
    if errors:
        raise InvalidInput("process.routing_users_invalid", errors=errors)


def _called_files(called) -> list[tuple[str, str]]:
    if called is None:
        return []
    errors = []
    files = []
    if not isinstance(called, list):
        raise InvalidInput("process.called_invalid", errors=[field_error("called", "process.called_entry")])
    for index, entry in enumerate(called):
        name = entry.get("filename") if isinstance(entry, dict) else None
        xml = entry.get("bpmn_xml") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name) > 200 or not isinstance(xml, str) or not xml:
            errors.append(field_error(f"called.{index}", "process.called_entry"))
            continue
        files.append((name.strip(), xml))
    if errors:
        raise InvalidInput("process.called_invalid", errors=errors)
    return files


def _store_version(actor, compiled, bpmn_text, forms, lanes, checksum, routing=None, called=()) -> DeployResult:
    with transaction.atomic():
        # Serialize deploys of one key so two admins cannot both create version n+1: each
        # locks the key's first version, the row every deploy of the key takes, then reads the
        # latest version in a statement of its own, which sees a version committed while it
        # waited (a locking read of the latest itself would return the one from before the
        # wait, and a deploy behind another would miss the version it made).
        list(
            ProcessDefinition.objects.select_for_update()
            .filter(key=compiled.process_id)
            .order_by("version")
            .values_list("pk", flat=True)[:1]
        )
        latest = (
            ProcessDefinition.objects.filter(key=compiled.process_id)
            .defer("spec_json", "bpmn_xml")
            .order_by("-version")
            .first()
        )
        if latest is not None and latest.checksum == checksum:
            _record_deploy(actor, latest, created=False)
            return DeployResult(latest, created=False)
        definition = ProcessDefinition.objects.create(
            key=compiled.process_id,
            version=(latest.version + 1) if latest else 1,
            name=compiled.name,
            bpmn_xml=bpmn_text,
            forms_json=json.dumps(forms, ensure_ascii=False),
            lanes_json=json.dumps(lanes or {}, ensure_ascii=False),
            routing_json=json.dumps(routing or {}, ensure_ascii=False),
            called_json=json.dumps([{"filename": n, "bpmn_xml": x} for n, x in called], ensure_ascii=False),
            checksum=checksum,
            spec_json=compiled.spec_json,
            metadata={
                "lanes": compiled.lanes,
                "user_tasks": compiled.user_tasks,
                "fields": compiled.fields,
                "messages": compiled.messages,
                "start_messages": compiled.start_messages,
                "service_tasks": compiled.service_tasks,
                "message_rules": compiled.message_rules,
                "start_form": compiled.start_form,
                "path_categories": _path_categories(compiled, bpmn_text, forms, called),
                "pool_events": compiled.pool_events,
            },
            deployed_by=_user_or_none(actor),
        )
        _record_deploy(actor, definition, created=True)
    return DeployResult(definition, created=True)


def _path_categories(compiled, bpmn_text, forms, called) -> dict[str, list[str]]:
    """Which categories a task's presence tells (issue 11): ``Task.path_categories``. A timer
    whose moment is computed from data counts as a gateway (its firing); a field a step on a
    split's branch writes carries what the split reads (``element_writes``)."""
    model = with_called(bpmn_text, [text for _name, text in called])
    writes = element_writes(model, compiled.user_tasks, forms, compiled.message_rules, compiled.service_tasks)
    shared = field_rules({"fields": compiled.fields}, forms).shared_fields
    return rules.path_categories(path_splits(model, shared, writes), compiled.fields)


def _user_or_none(actor):
    return actor if actor is not None and actor.is_authenticated else None


def _record_deploy(actor, definition, *, created: bool) -> None:
    """The audit row, written in the deploy's own transaction (an unchanged deploy too)."""
    DeployRecord.objects.create(
        definition=definition,
        key=definition.key,
        version=definition.version,
        checksum=definition.checksum,
        created=created,
        actor=_user_or_none(actor),
    )


def latest_definition(key: str) -> ProcessDefinition | None:
    return ProcessDefinition.objects.filter(key=key).order_by("-version").first()


# --- the editor: drafts and validation ---------------------------------------------------


def _require_admin(actor) -> None:
    if not rules.can_deploy_process(actor):
        raise Forbidden("process.edit_forbidden")


def _checked_content(bpmn_xml, forms, lanes, routing=None) -> tuple[str, dict, dict]:
    errors = []
    if routing is not None and not isinstance(routing, dict):
        errors.append(field_error("routing", "field.routing_map"))
    if not isinstance(bpmn_xml, str) or not bpmn_xml.strip():
        errors.append(field_error("bpmn_xml", "field.bpmn_text"))
    elif len(bpmn_xml) > MAX_BPMN_BYTES or len(bpmn_xml.encode("utf-8", "surrogatepass")) > MAX_BPMN_BYTES:
        # The limit deploy enforces: a draft that could never be deployed is not stored either.
        errors.append(field_error("bpmn_xml", "draft.model_too_large", limit=MAX_BPMN_BYTES))
    if not isinstance(forms, dict) or not all(isinstance(v, dict) for v in forms.values()):
        errors.append(field_error("forms", "field.expected_objects"))
    if lanes is not None and not (isinstance(lanes, dict) and all(isinstance(v, str) for v in lanes.values())):
        errors.append(field_error("lanes", "field.lane_map"))
    if errors:
        raise InvalidInput("draft.malformed", errors=errors)
    return bpmn_xml, forms, lanes or {}


UNCHECKED = object()  # save_draft(base=...) not given: a caller that does not edit (tests, scripts)


class DraftConflict(Conflict):
    """Another save of the draft came after the one the editor started from."""

    def __init__(self, draft: ProcessDraft):
        super().__init__("draft.changed")
        self.draft = draft


def save_draft(
    *,
    actor,
    key: str,
    bpmn_xml: str,
    forms: dict,
    lanes: dict | None = None,
    base=UNCHECKED,
    routing: dict | None = None,
) -> ProcessDraft:
    """Store the editor's work for ``key`` (``""``: a process not deployed yet).

    Nothing is validated beyond the shape: a draft may be as broken as work in progress is.
    ``base``: the ``updated_at`` (ISO 8601) of the draft the editor opened or last saved,
    None when it opened without one. When the stored draft has moved on since (another
    admin saved, or the same admin in another tab), nothing is saved and ``DraftConflict``
    says who saved it and when; saving again with the new ``base`` replaces it.
    """
    _require_admin(actor)
    bpmn_xml, forms, lanes = _checked_content(bpmn_xml, forms, lanes, routing)
    base_time = _base_time(base)
    content = {
        "bpmn_xml": bpmn_xml,
        "forms_json": json.dumps(forms, ensure_ascii=False),
        "lanes_json": json.dumps(lanes, ensure_ascii=False),
        "routing_json": json.dumps(routing or {}, ensure_ascii=False),
        "updated_by": actor,
    }
    lookup = {"key": key} if key else {"key": "", "created_by": actor}
    with transaction.atomic():
        current = ProcessDraft.objects.select_for_update().select_related("updated_by").filter(**lookup).first()
        if current is None:
            try:
                with transaction.atomic():
                    return ProcessDraft.objects.create(**{**lookup, **content, "created_by": actor})
            except IntegrityError:
                # Another first save of this draft committed while we wrote ours (two tabs, two
                # admins): it is the draft this save did not start from, as if it had come first.
                current = ProcessDraft.objects.select_for_update().select_related("updated_by").get(**lookup)
                if base is not UNCHECKED:
                    raise DraftConflict(current) from None
        elif base is not UNCHECKED and current.updated_at != base_time:
            raise DraftConflict(current)
        for name, value in content.items():
            setattr(current, name, value)
        current.save()
    return current


def _base_time(base):
    if base is UNCHECKED or base is None:
        return None
    if isinstance(base, str):
        try:
            return datetime.fromisoformat(base)
        except ValueError:
            pass
    raise InvalidInput("draft.bad_base", errors=[field_error("base", "field.expected_iso_datetime")])


def draft_for(*, actor, key: str) -> ProcessDraft | None:
    _require_admin(actor)
    lookup = {"key": key} if key else {"key": "", "created_by": actor}
    return ProcessDraft.objects.filter(**lookup).first()


def discard_draft(*, actor, key: str, base=UNCHECKED) -> bool:
    """Drop the draft of ``key``; whether there was one to drop.

    ``base`` as for ``save_draft``: the draft is dropped only while it is the one the editor
    started from (or last saved). One another admin saved since is their newer work: nothing
    is dropped and ``DraftConflict`` says who saved it and when; discarding again with the
    new ``base`` drops it. One statement deletes only the draft as the editor saw it, so a
    save committing at the same moment is either waited for (and kept) or not yet there."""
    _require_admin(actor)
    base_time = _base_time(base)
    lookup = {"key": key} if key else {"key": "", "created_by": actor}
    drafts = ProcessDraft.objects.filter(**lookup)
    if base is UNCHECKED:
        return bool(drafts.delete()[0])
    if base_time is not None and drafts.filter(updated_at=base_time).delete()[0]:
        return True
    current = drafts.select_related("updated_by").first()
    if current is not None:  # saved after the editor opened it (or, with no base, at all)
        raise DraftConflict(current)
    return False


@dataclass(frozen=True)
class Validation:
    process_id: str | None
    issues: list[dict]

    @property
    def valid(self) -> bool:
        return not self.issues


def validate_draft(
    *, actor, bpmn_xml: str, forms: dict, lanes: dict | None = None, routing: dict | None = None
) -> Validation:
    """The deploy-time checks (``compile_definition`` and the routing map's users, as
    ``deploy_definition`` runs them) without deploying: every issue with its element id and
    line, or the routing entry it is about."""
    _require_admin(actor)
    bpmn_xml, forms, lanes = _checked_content(bpmn_xml, forms, lanes, routing)
    try:
        compiled = _compiled(bpmn_xml, forms, lanes or None, "model.bpmn", routing or None)
    except InvalidModel as exc:
        return Validation(process_id=None, issues=exc.errors)
    try:
        _check_routing_users(actor, routing or None, compiled.user_tasks)
    except InvalidInput as exc:
        return Validation(process_id=compiled.process_id, issues=exc.errors)
    return Validation(process_id=compiled.process_id, issues=[])


def deploy_draft(
    *,
    actor,
    key: str,
    bpmn_xml: str,
    forms: dict,
    lanes: dict | None = None,
    routing: dict | None = None,
    base=UNCHECKED,
) -> DeployResult:
    """Deploy the editor's content (``deploy_definition``), then drop the draft it came from.

    ``base`` as for ``save_draft``: the draft is dropped only while it is the one the editor
    started from. One another admin saved after it (their work, not deployed) is kept; the
    deploy dropped it, as a save over it without ``base`` would have."""
    _require_admin(actor)
    bpmn_xml, forms, lanes = _checked_content(bpmn_xml, forms, lanes, routing)
    base_time = _base_time(base)
    result = deploy_definition(
        actor=actor, bpmn_xml=bpmn_xml, forms=forms, lanes=lanes or None, routing=routing or None
    )
    for draft_key in dict.fromkeys((key, result.definition.key)):
        lookup = {"key": draft_key} if draft_key else {"key": "", "created_by": actor}
        drafts = ProcessDraft.objects.filter(**lookup)
        if base is not UNCHECKED:  # one statement: a save committing meanwhile is kept
            drafts = drafts.filter(updated_at=base_time) if base_time is not None else drafts.none()
        drafts.delete()
    return result


__all__ = [
    "DeployResult",
    "DraftConflict",
    "InvalidModel",
    "Validation",
    "deploy_definition",
    "deploy_draft",
    "discard_draft",
    "draft_for",
    "latest_definition",
    "save_draft",
    "validate_draft",
]
