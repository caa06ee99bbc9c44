"""Deploy-time compilation of a BPMN model: harden, normalise, lint, parse fully, serialize.

``compile_definition`` either returns everything a definition version stores, or raises
``BpmnValidationError`` with every problem found, each naming its element. It never
executes anything from the model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from . import write_rules
from .camunda_forms import camunda_form_schemas, form_name_for
from .errors import BpmnValidationError, UnsafeExpressionError, ValidationIssue
from .events import start_message_names
from .expressions import validate_expression
from .lanes import validate_lane_map
from .lint import lint_definitions, lint_other_forms
from .lint_events import lint_start_events
from .routing import (
    ROUTED_TASKS,
    RoutingMap,
    assignee_user,
    pool_names,
    route,
    routing_entries,
    task_assignee,
    task_groups,
    unrouted_fix,
    validate_routing,
)
from .runtime import serialize_spec
from .service_tasks import EXTERNAL, NO_IMPLEMENTATION, TOPIC_NEEDED, JobServiceTask, operation, output_fields
from .service_tasks import PARSER_CLASSES as SERVICE_PARSER_CLASSES
from .timers import looks_like_iso_literal, normalize_timer_expressions
from .xml import parse_bpmn_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
UNCATEGORISED = "restricted"


@dataclass(frozen=True)
class CompiledDefinition:
    process_id: str
    name: str
    spec_json: str
    lanes: dict[str, str]  # lane name -> agency kind
    user_tasks: dict[str, dict[str, Any]]  # element id -> {name, lane, agency_kind, form, due_in}
    fields: dict[str, str]  # form field -> data category ("restricted" when none)
    messages: list[str] = field(default_factory=list)  # message names the process waits for
    start_messages: list[str] = field(default_factory=list)  # messages its start event waits for
    # message name -> {"senders": agency kinds, "fields": what it may write} (write_rules)
    message_rules: dict[str, dict[str, Any]] = field(default_factory=dict[str, Any])
    start_form: str | None = None  # the form of the start event: the fields a case start writes
    # Forms converted from camunda:formData (form file name -> JSON schema), stored with
    # the forms given at import; a given form of the same name wins.
    converted_forms: dict[str, dict[str, Any]] = field(default_factory=dict[str, Any])
    # element id -> {kind: http|external, target: connector or topic, inputs, outputs,
    # agency_kind (who fetches an external task), form (the schema its answer must meet)}
    service_tasks: dict[str, dict[str, Any]] = field(default_factory=dict[str, Any])
    # A collaboration's message events (throw and catch): element id -> {pool: the pool's
    # name, agency_kind: the agency its lane or pool routes to}; empty for a process.
    pool_events: dict[str, dict[str, Any]] = field(default_factory=dict[str, Any])


def definition_checksum(
    bpmn_xml: bytes | str,
    forms: dict[str, Any],
    lanes: dict[str, Any] | None,
    routing: dict[str, Any] | None = None,
    called: Sequence[tuple[str, bytes | str]] = (),
) -> str:
    """Identical content (model, forms, lane map and routing map) gives the identical checksum.

    Without a routing map the checksum is what it was before routing maps existed, so
    redeploying an unchanged model does not make a new version.
    """
    if isinstance(bpmn_xml, str):
        bpmn_xml = bpmn_xml.encode("utf-8")
    digest = hashlib.sha256(bpmn_xml)
    digest.update(json.dumps(forms, sort_keys=True, separators=(",", ":")).encode())
    digest.update(json.dumps(lanes or {}, sort_keys=True, separators=(",", ":")).encode())
    if routing:
        digest.update(json.dumps(routing, sort_keys=True, separators=(",", ":")).encode())
    for name, xml in called:
        digest.update(json.dumps([name, xml if isinstance(xml, str) else xml.decode("utf-8", "replace")]).encode())
    return digest.hexdigest()


def compile_definition(
    bpmn_xml: bytes | str,
    *,
    forms: dict[str, dict[str, Any]] | None = None,
    lanes: dict[str, str] | None = None,
    filename: str = "model.bpmn",
    routing: dict[str, Any] | None = None,
    called: Sequence[tuple[str, bytes | str]] = (),
) -> CompiledDefinition:
    """``lanes``: the flat lane map (lane name -> kind); ``routing``: the whole routing map
    (``routing.RoutingMap``: lanes, pools, groups, assignees, default), given at import.
    ``called``: (file name, BPMN) of other files whose processes the model's call
    activities call; each is checked like the model itself."""
    root = parse_bpmn_xml(bpmn_xml, filename=filename)
    called_roots = [(name, parse_bpmn_xml(xml, filename=name)) for name, xml in called]
    converted = {form_name_for(element_id): schema for element_id, schema in camunda_form_schemas(root).items()}
    forms = {**converted, **(forms or {})}
    issues = validate_lane_map(lanes) + validate_routing(routing)
    if issues:
        raise BpmnValidationError(issues)
    routing_map = RoutingMap.from_parts(routing, lanes)
    issues += normalize_timer_expressions(root, filename=filename)
    checked_forms: set[str] = set()
    issues += lint_definitions(
        root, filename=filename, forms=forms, lane_map=lanes, routing=routing_map, checked_forms=checked_forms
    )
    issues += lint_start_events(root, filename=filename)
    issues += _check_expressions(root, filename)
    for name, called_root in called_roots:
        issues += normalize_timer_expressions(called_root, filename=name)
        issues += lint_definitions(
            called_root, filename=name, forms=forms, lane_map=lanes, routing=routing_map, checked_forms=checked_forms
        )
        issues += _check_expressions(called_root, name)
    issues += _ids_shared_with_called(root, filename, called_roots)
    # Every deployed form is checked, named by an element or not (it is stored all the same).
    issues += lint_other_forms(forms, checked=checked_forms, filename=filename)
    if issues:
        raise BpmnValidationError(issues)

    top = _main_process_id(root, filename)
    process_id = top.id
    spec, subprocess_specs = _parse_with_spiff(root, top, filename, called_roots)
    attributes = {}
    for any_root in [*(r for _n, r in called_roots), root]:
        attributes.update(_routing_attributes(any_root))
    compiled_tasks = _user_tasks(spec, subprocess_specs, routing_map, attributes)
    for element_id, task in compiled_tasks.items():
        if not task["form"] and form_name_for(element_id) in forms:
            task["form"] = form_name_for(element_id)
    start = write_rules.start_form(root, top.pools or (process_id,))
    service_tasks, service_issues = _service_tasks(root, spec, subprocess_specs, routing_map, filename)
    fields, field_issues = _form_fields({**compiled_tasks, **service_tasks, **_start_form_task(start)}, forms, filename)
    message_rules, message_issues = write_rules.message_rules(root, fields, filename)
    if field_issues or message_issues or service_issues:
        raise BpmnValidationError(service_issues + field_issues + message_issues)
    return CompiledDefinition(
        process_id=process_id,
        name=top.name or spec.description or process_id,
        spec_json=serialize_spec(spec, subprocess_specs),
        lanes={task["lane"]: task["agency_kind"] for task in compiled_tasks.values() if task["lane"]},
        user_tasks=compiled_tasks,
        fields=fields,
        messages=sorted(_message_names(root)),
        start_messages=sorted(start_message_names(spec)),
        message_rules=message_rules,
        start_form=start[1] if start else None,
        converted_forms={name: forms[name] for name in converted},
        service_tasks=service_tasks,
        pool_events=_pool_events(root, top, subprocess_specs, routing_map),
    )


_MAY_SHARE_AN_ID = frozenset(f"{{{BPMN_NS}}}{tag}" for tag in ("startEvent", "endEvent", "laneSet", "lane"))


def _ids_shared_with_called(
    root: etree._Element, filename: str, called_roots: Sequence[tuple[str, etree._Element]]
) -> list[ValidationIssue]:
    """An id used inside the processes of two files deployed together (the model and a file
    it calls, or two called files), but for two start events, two end events or two lanes
    (or lane sets). A case runs the files as one model: the task metadata and the path
    analysis key elements by id, so two tasks of one id would be taken for one (a task on a
    hidden branch given the categories of one that is not). Those may share theirs: bpmn-js
    names every new diagram's start ``StartEvent_1``, three files of the SpiffWorkflow corpus
    share it with the file they call, the analysis keeps such events apart
    (``gateway_paths.with_called``) and reads no lane. Each file's own duplicates are the
    lint's (``duplicate-id``)."""
    owner: dict[str, tuple[str, str]] = {}  # id -> (file, the element's tag) where first seen
    issues = []
    for name, file_root in [(filename, root), *called_roots]:
        seen: set[str] = set()
        for process in file_root.iter(f"{{{BPMN_NS}}}process"):
            for node in process.iter(etree.Element):
                node_id = node.get("id")
                if node_id is None or node_id in seen:
                    continue
                seen.add(node_id)
                first_file, first_tag = owner.setdefault(node_id, (name, node.tag))
                if first_file == name or (first_tag == node.tag and node.tag in _MAY_SHARE_AN_ID):
                    continue
                message = (
                    f"the id '{node_id}' is used in '{first_file}' and in '{name}', which are deployed "
                    "together; give one of them another id (ids must be unique across a model and the "
                    "files it calls; only start events, end events and lanes may share one)"
                )
                issues.append(_issue("called-duplicate-id", message, node, name, other_file=first_file))
    return issues


def _pool_events(
    root: etree._Element, top: TopLevel, subprocess_specs: dict[str, Any], routing_map: RoutingMap
) -> dict[str, dict[str, Any]]:
    """Where a collaboration's messages go from and to: each message event of a pool with
    the pool's name and the agency kind its lane or pool routes to (for the timeline)."""
    if not top.pools:
        return {}
    names = pool_names(root)
    found: dict[str, dict[str, Any]] = {}
    for process_id in top.pools:
        process_spec = subprocess_specs.get(process_id)
        for task_spec in process_spec.task_specs.values() if process_spec is not None else ():
            definition = getattr(task_spec, "event_definition", None)
            if not isinstance(definition, MessageEventDefinition) or not task_spec.bpmn_id:
                continue
            pool = names.get(process_id)
            routed = route(task_spec.lane, (), None, pool, routing_map)
            found[task_spec.bpmn_id] = {"pool": pool or process_id, "agency_kind": routed.kind}
    return found


def _issue(
    code: str, message: str, element: etree._Element | None = None, filename: str | None = None, **params: Any
) -> ValidationIssue:
    """``params``: what ``message`` is built from, to say it in the user's language."""
    return ValidationIssue(
        code=code,
        message=message,
        element_id=element.get("id") if element is not None else None,
        line=element.sourceline if element is not None else None,
        file=filename,
        params=params,
    )


def _refusal(exc: UnsafeExpressionError) -> dict[str, Any]:
    """What the sandbox said, as an issue's params: its English ``detail``, and the engine's
    code with its params (``detail_code``, ``detail_params``) to say it in the user's words."""
    if exc.code is None:
        return {"detail": str(exc)}
    return {"detail": str(exc), "detail_code": exc.code, "detail_params": dict(exc.params)}


def _check_expressions(root: etree._Element, filename: str) -> list[ValidationIssue]:
    """Refuse at deploy what the sandbox would refuse at run time."""
    issues = []
    expression_tags = ("conditionExpression", "timeDate", "timeDuration", "timeCycle")
    for tag in expression_tags:
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            text = (node.text or "").strip()
            if not text:
                continue
            if tag != "conditionExpression" and looks_like_iso_literal(text):
                continue  # an ISO value left unquoted: ``normalize_timer_expressions`` refused it, once
            owner = node.getparent()
            while owner is not None and owner.get("id") is None:
                owner = owner.getparent()
            where = f"{_described(owner)}: {tag} {text!r}"
            try:
                validate_expression(text, mode="eval")
            except UnsafeExpressionError as exc:
                message = f"{where}: {exc}; {UNSAFE_EXPRESSION_FIX}"
                issues.append(_issue("unsafe-expression", message, owner, filename, tag=tag, **_refusal(exc)))
            except SyntaxError as exc:
                message = f"{where}: {exc.msg}; {EXPRESSION_FIX}"
                issues.append(_issue("invalid-expression", message, owner, filename, tag=tag, detail=exc.msg))
    issues += _missing_scripts(root, filename)
    for node in root.iter(f"{{{BPMN_NS}}}script"):
        owner = node.getparent()
        where = f"{_described(owner)}: script"
        try:
            validate_expression(node.text or "", mode="exec")
        except UnsafeExpressionError as exc:
            issues.append(
                _issue("unsafe-script", f"{where}: {exc}; {UNSAFE_SCRIPT_FIX}", owner, filename, **_refusal(exc))
            )
        except SyntaxError as exc:
            message = f"{where}: {exc.msg} (line {exc.lineno}); {SCRIPT_FIX}"
            issues.append(
                _issue("invalid-script", message, owner, filename, detail=exc.msg, script_line=exc.lineno or 1)
            )
    return issues


# What to do about an expression or script the sandbox refuses: the modeler's next step.
EXPRESSION_FIX = (
    "write it as a Python expression over the case's fields, such as approved == True "
    "(Camunda's ${...}, JUEL and FEEL are not understood)"
)
UNSAFE_EXPRESSION_FIX = (
    "write it with the case's fields and the functions listed only, or set the value it needs in a task before it"
)
SCRIPT_FIX = "correct the script: Brobygger runs scripts written in Python (not Groovy or JavaScript)"
UNSAFE_SCRIPT_FIX = (
    "write the script with the case's fields and the functions listed only; to call another system, "
    "make the task a service task (an HTTP connector or an external task)"
)


def _described(element: etree._Element | None) -> str:
    """An element as a modeler finds it: its kind (the tag's local name) and its id."""
    if element is None:
        return "the model"
    return f"{etree.QName(element).localname} {element.get('id')!r}"


def _missing_scripts(root: etree._Element, filename: str) -> list[ValidationIssue]:
    """A script task of an executable process must carry its script: Brobygger runs only
    scripts written in the model (one in an external resource would fail at run time)."""
    issues = []
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("isExecutable", "true") != "true":
            continue
        for task in process.iter(f"{{{BPMN_NS}}}scriptTask"):
            script = task.find(f"{{{BPMN_NS}}}script")
            if script is not None and (script.text or "").strip():
                continue
            resource = next(
                (value for key, value in task.attrib.items() if isinstance(key, str) and key.endswith("}resource")),
                None,
            )
            where = f"in the external resource {resource!r}, which Brobygger does not load" if resource else "empty"
            issues.append(
                _issue(
                    "missing-script",
                    f"script task '{task.get('id')}' has no inline script (it is {where}); write the script "
                    "into the task (its Script field), or make the task a user or manual task",
                    task,
                    filename,
                    resource=resource or "",
                )
            )
    return issues


def _called_elements(root: etree._Element) -> set[str]:
    return {node.get("calledElement") for node in root.iter(f"{{{BPMN_NS}}}callActivity")}


@dataclass(frozen=True)
class TopLevel:
    """What a case of the file runs: one process, or a collaboration whose executable pools
    (``pools``: their process ids, in the file's order) each run as a participant of it."""

    id: str
    pools: tuple[str, ...] = ()
    name: str | None = None


def _main_process_id(root: etree._Element, filename: str) -> TopLevel:
    processes = list(root.iter(f"{{{BPMN_NS}}}process"))
    executable = [node for node in processes if node.get("isExecutable") == "true"]
    if not executable:
        # No process says isExecutable="true": use the lint's and SpiffWorkflow's rule (the
        # attribute defaults to true), so a process without it (ARIS, IBM exports) is the
        # one to deploy rather than "0 executable processes".
        executable = [node for node in processes if node.get("isExecutable", "true") == "true"]
    called = _called_elements(root)
    candidates = [node for node in executable if node.get("id") not in called]
    if len(candidates) == 1:
        return TopLevel(str(candidates[0].get("id")))
    if not candidates:
        ids = ", ".join(repr(node.get("id")) for node in executable)
        raise BpmnValidationError(
            [
                _issue(
                    "no-executable-process",
                    f"every executable process in the file ({ids}) is the target of a call "
                    "activity, so none of them is the top-level process to start; Brobygger "
                    "deploys one top-level process per file",
                    executable[0] if executable else None,
                    filename,
                    variant="all-called",
                    processes=ids,
                )
            ]
        )
    collaboration = _collaboration_of(root, [str(node.get("id")) for node in candidates])
    if collaboration is not None:
        return collaboration
    ids = ", ".join(repr(node.get("id")) for node in candidates)
    raise BpmnValidationError(
        [
            _issue(
                "several-executable-processes",
                f"the file has {len(candidates)} executable top-level processes ({ids}) and no one "
                "collaboration has them all as participants; Brobygger runs one process per file, or "
                "the executable pools of one collaboration together: draw them as pools of one "
                'collaboration, or mark all but one isExecutable="false"',
                candidates[1] if len(candidates) > 1 else None,
                filename,
                variant="no-collaboration",
                processes=ids,
            )
        ]
    )


def _collaboration_of(root: etree._Element, process_ids: list[str]) -> TopLevel | None:
    """The one collaboration whose participants include every top-level executable process:
    a case runs it, each executable pool as a participant (SpiffWorkflow's collaboration)."""
    found = []
    for collaboration in root.iter(f"{{{BPMN_NS}}}collaboration"):
        refs = [node.get("processRef") for node in collaboration.iter(f"{{{BPMN_NS}}}participant")]
        if collaboration.get("id") and set(process_ids) <= set(refs):
            pools = tuple(ref for ref in dict.fromkeys(refs) if ref in process_ids)
            found.append(TopLevel(str(collaboration.get("id")), pools, collaboration.get("name") or None))
    return found[0] if len(found) == 1 else None


# SpiffWorkflow's refusals say what is wrong, not what to do: the modeler's next step for
# the ones other tools' files run into, by the start of SpiffWorkflow's message.
# (how SpiffWorkflow's reason starts, the fix, the issue's variant: ``ISSUE_CODES``)
_SPIFF_FIXES = (
    ("Exactly one start event is required", "give the sub-process exactly one plain start event", "one-start-event"),
    ("No start event found", "give the process a start event", "no-start-event"),
    (
        "Multiple outgoing flows are not supported",
        "draw one flow out of the task to a gateway that splits it",
        "several-outgoing",
    ),
    (
        "A multiinstance task must specify exactly one",
        "keep only one of the loop cardinality and the input collection (loopDataInputRef)",
        "multi-instance-both",
    ),
    (
        "A multiinstance task must specify",
        "give the multi-instance task a loop cardinality or an input collection (loopDataInputRef)",
        "multi-instance-none",
    ),
    (
        "No DMN Diagram available",
        "replace the business rule task by an exclusive gateway with conditions or a script task "
        "(Brobygger does not run DMN decision tables)",
        "dmn",
    ),
    (
        'No "calledElement" attribute',
        "set calledElement to the id of the process the call activity starts",
        "no-called-element",
    ),
    (
        "Data Store with name",
        "remove the data store and keep the data in the case's fields (a data object)",
        "data-store",
    ),
)
_SPIFF_FIX_ANY = "correct the element in the modeler: SpiffWorkflow, which runs the model, refuses it as it is"


def _spiff_fix(reason: str) -> str:
    return next((fix for start, fix, _ in _SPIFF_FIXES if reason.startswith(start)), _SPIFF_FIX_ANY)


def _spiff_variant(reason: str) -> str:
    if NO_IMPLEMENTATION in reason:  # ``service_tasks``' own refusal, raised through SpiffWorkflow
        return "service-task-topic" if f"{NO_IMPLEMENTATION}: {TOPIC_NEEDED}" in reason else "service-task"
    return next((variant for start, _, variant in _SPIFF_FIXES if reason.startswith(start)), "other")


def _element_by_id(root: etree._Element, element_id: str | None) -> etree._Element | None:
    if not element_id:
        return None
    return next((el for el in root.iter(etree.Element) if el.get("id") == element_id), None)


def _element_named_in(root: etree._Element, reason: str) -> str | None:
    """The id of the data store SpiffWorkflow's message names (by its name, not its id)."""
    for el in root.iter(f"{{{BPMN_NS}}}dataStore"):
        name, element_id = el.get("name"), el.get("id")
        if name and element_id and f" {name} " in f" {reason} ":
            return str(element_id)
    return None


def _line_of(root: etree._Element, element_id: str | None) -> int | None:
    if not element_id:
        return None
    # Compared, not put into an XPath: an id with a quote would be an XPath syntax error.
    for node in root.iter(etree.Element):
        if node.get("id") == element_id:
            line: int | None = node.sourceline
            return line
    return None


class BrobyggerParser(SpiffBpmnParser):
    """SpiffWorkflow's parser, with service tasks the application performs."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        **{full_tag(tag): classes for tag, classes in SERVICE_PARSER_CLASSES.items()},
    }


def _parse_with_spiff(
    root: etree._Element,
    top: TopLevel,
    filename: str,
    called_roots: Sequence[tuple[str, etree._Element]] = (),
) -> tuple[Any, dict[str, Any]]:
    parser = BrobyggerParser()
    try:
        parser.add_bpmn_xml(etree.ElementTree(root), filename=filename)
        for name, called_root in called_roots:
            parser.add_bpmn_xml(etree.ElementTree(called_root), filename=name)
        if top.pools:
            spec, subprocess_specs = _collaboration_specs(parser, top, root, filename)
        else:
            spec = parser.get_spec(top.id)
            subprocess_specs = _subprocess_specs(parser, spec)
    except ValidationException as exc:
        element_id = getattr(exc, "id", None) or None
        reason = str(exc).splitlines()[0].strip().rstrip(".").rstrip()
        if element_id is None:
            element_id = _element_named_in(root, reason)
        where = _described(_element_by_id(root, element_id)) if element_id else f"the file {filename!r}"
        raise BpmnValidationError(
            [
                ValidationIssue(
                    code="bpmn-invalid",
                    message=f"{where}: {reason}; {_spiff_fix(reason)}",
                    element_id=element_id,
                    line=_line_of(root, element_id) or (getattr(exc, "line_number", None) or None),
                    file=filename,
                    params={"detail": reason, "variant": _spiff_variant(reason)},
                )
            ]
        ) from exc
    except (
        SpiffWorkflowException,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        NotImplementedError,
    ) as exc:
        # SpiffWorkflow raises plain Python errors for constructs it does not support
        # (e.g. unknown event types in another tool's export): refuse, naming the reason.
        raise BpmnValidationError(
            [
                ValidationIssue(
                    code="unsupported",
                    message=f"SpiffWorkflow cannot parse the file {filename!r}: {type(exc).__name__}: {exc}; "
                    "remove the construct it names, or export the model again as plain BPMN 2.0",
                    file=filename,
                    params={"detail": f"{type(exc).__name__}: {exc}"},
                )
            ]
        ) from exc
    missing = _missing_called_processes(root, spec, subprocess_specs, filename)
    if missing:
        raise BpmnValidationError(missing)
    return spec, subprocess_specs


def _collaboration_specs(parser: Any, top: TopLevel, root: etree._Element, filename: str) -> tuple[Any, dict[str, Any]]:
    """A collaboration's spec: SpiffWorkflow runs each executable pool as a participant (a
    call activity of a spec it builds) and routes the messages between them.

    SpiffWorkflow starts a pool whose start event waits for a message only when the message
    comes, by connecting it into the collaboration's spec then: a change to the spec, which
    is stored once per version and shared by every case. Here every pool is connected at
    deploy instead: each case starts each pool once, and a pool that starts with a message
    waits for it at its start event (one instance of each pool per case)."""
    spec, pool_specs = parser.get_collaboration(top.id)  # the pools and what they call
    running = {task.spec for task in spec.task_specs.values() if isinstance(task, SubWorkflowTaskMixin)}
    others = sorted(running - set(top.pools))
    if others:
        element = next((p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == others[0]), None)
        raise BpmnValidationError(
            [
                _issue(
                    "several-executable-processes",
                    f"process {others[0]!r} of collaboration {top.id!r} does not say whether it is executable, "
                    f"while {', '.join(repr(p) for p in top.pools)} say they are; SpiffWorkflow would run it too: "
                    'mark it isExecutable="true" or "false"',
                    element,
                    filename,
                    variant="undeclared-pool",
                    process=others[0],
                    collaboration=top.id,
                )
            ]
        )
    start = spec.start
    for name in list(start.trigger_specs):
        participant = spec.task_specs[name]
        start.connect(participant)
        participant.connect(spec.end)
    start.trigger_specs = []
    subprocess_specs = dict(pool_specs)
    for pool_spec in pool_specs.values():
        subprocess_specs.update(_subprocess_specs(parser, pool_spec))
    return spec, subprocess_specs


def _subprocess_specs(parser: Any, spec: Any) -> dict[str, Any]:
    """``parser.get_subprocess_specs`` without its error for a missing called process.

    SpiffWorkflow's version passes ``require_call_activity_specs`` only one level down, so
    a missing process called from a sub-process still raises an error that names no
    element; here every missing process is kept as ``None`` and reported by call activity.
    """
    used: dict[str, Any] = {}
    pending = [spec]
    while pending:
        current = pending.pop()
        for task_spec in current.task_specs.values():
            if isinstance(task_spec, SubWorkflowTaskMixin) and task_spec.spec not in used:
                called = parser.get_spec(task_spec.spec, required=False)
                used[task_spec.spec] = called
                if called is not None:
                    pending.append(called)
    return used


def _missing_called_processes(
    root: etree._Element, spec: Any, subprocess_specs: dict[str, Any], filename: str
) -> list[ValidationIssue]:
    """Call activities whose process is not in the file, each named (SpiffWorkflow's own
    error names only the missing process, not the call activity)."""
    missing = {name for name, sub in subprocess_specs.items() if sub is None}
    issues = []
    for process_spec in [spec, *(sub for sub in subprocess_specs.values() if sub is not None)]:
        for task_spec in process_spec.task_specs.values():
            called = getattr(task_spec, "spec", None)
            if not isinstance(task_spec, SubWorkflowTaskMixin) or called not in missing:
                continue
            element_id = getattr(task_spec, "bpmn_id", None)
            issues.append(
                ValidationIssue(
                    code="missing-called-process",
                    message=(
                        f"call activity {element_id!r} calls the process {called!r}, which is not in "
                        "the file; deploy the file that defines it with the model (`called` in the API, "
                        "deploy_bpmn finds it beside the model), or put the called process in the same file"
                    ),
                    element_id=element_id,
                    line=_line_of(root, element_id),
                    file=filename,
                    params={"process": str(called)},
                )
            )
    return sorted(issues, key=lambda issue: (issue.line is None, issue.line or 0))


def _routing_attributes(root: etree._Element, kinds: tuple[str, ...] = ROUTED_TASKS) -> dict[str, tuple[Any, ...]]:
    """Element id -> (candidate groups, assignee, pool name) of every task a person does
    (or of the ``kinds`` given)."""
    pools = pool_names(root)
    result: dict[str, tuple[Any, ...]] = {}
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        pool = pools.get(process.get("id") or "")
        for el in process.iter(*(f"{{{BPMN_NS}}}{kind}" for kind in kinds)):
            result.setdefault(el.get("id"), (task_groups(el), task_assignee(el), pool))
    return result


def _user_tasks(
    spec: Any, subprocess_specs: dict[str, Any], routing_map: RoutingMap, attributes: dict[str, tuple[Any, ...]]
) -> dict[str, dict[str, Any]]:
    tasks = {}
    for process_spec in [spec, *(sub for sub in subprocess_specs.values() if sub is not None)]:
        for task_spec in process_spec.task_specs.values():
            if not getattr(task_spec, "manual", False):
                continue
            properties = getattr(task_spec, "extensions", {}).get("properties", {}) or {}
            groups, assignee, pool = attributes.get(task_spec.bpmn_id, ((), None, None))
            routed = route(task_spec.lane, groups, assignee, pool, routing_map)
            tasks[task_spec.bpmn_id] = {
                "name": task_spec.bpmn_name or task_spec.bpmn_id,
                "lane": task_spec.lane,
                "agency_kind": routed.kind,
                "routed_by": routed.source,
                "form": properties.get("formJsonSchemaFilename"),
                "due_in": properties.get("dueIn"),
            }
            user = assignee_user(assignee, routing_map)
            if user:  # handed to this user when created (the services check who they are)
                tasks[task_spec.bpmn_id]["assignee_user"] = user
    return tasks


def _service_tasks(
    root: etree._Element, spec: Any, subprocess_specs: dict[str, Any], routing_map: RoutingMap, filename: str
) -> tuple[dict[str, dict[str, Any]], list[ValidationIssue]]:
    """The service tasks the application performs. Each is routed to an agency like a user
    task, and one that nothing routes is refused: an external task is fetched by that agency,
    and what an HTTP connector sends is decided by that agency's sharing rules and the
    person's consents (``workflows.jobs.service``); with no agency there is nothing to decide
    by, and deny by default sends nothing."""
    attributes = _routing_attributes(root, ("serviceTask",))
    tasks: dict[str, dict[str, Any]] = {}
    issues = []
    for process_spec in [spec, *(sub for sub in subprocess_specs.values() if sub is not None)]:
        for task_spec in process_spec.task_specs.values():
            if not isinstance(task_spec, JobServiceTask):
                continue
            kind, target = operation(task_spec)
            properties = getattr(task_spec, "extensions", {}).get("properties", {}) or {}
            groups, assignee, pool = attributes.get(task_spec.bpmn_id, ((), None, None))
            routed = route(task_spec.lane, groups, assignee, pool, routing_map)
            if kind == EXTERNAL and routed.kind is None:
                issues.append(
                    ValidationIssue(
                        code="unrouted-task",
                        message=(
                            f"external task {task_spec.bpmn_id!r} (topic {target!r}) is fetched by the agency it is "
                            f"routed to, and nothing routes it; {unrouted_fix(routed)}"
                        ),
                        element_id=task_spec.bpmn_id,
                        line=_line_of(root, task_spec.bpmn_id),
                        file=filename,
                        params={"topic": str(target), "entries": ", ".join(routing_entries(routed))},
                    )
                )
            elif routed.kind is None:
                issues.append(
                    ValidationIssue(
                        code="unrouted-connector",
                        message=(
                            f"service task {task_spec.bpmn_id!r} sends case data through the connector {target!r} "
                            f"to the system of the agency it is routed to, and nothing routes it, so no agency's "
                            f"sharing rules or consents decide what may leave; put it in the lane of the agency "
                            f"whose system answers, or {unrouted_fix(routed)}"
                        ),
                        element_id=task_spec.bpmn_id,
                        line=_line_of(root, task_spec.bpmn_id),
                        file=filename,
                        params={"connector": str(target), "entries": ", ".join(routing_entries(routed))},
                    )
                )
            tasks[task_spec.bpmn_id] = {
                "name": task_spec.bpmn_name or task_spec.bpmn_id,
                "kind": kind,
                "target": target,
                "inputs": sorted(task_spec.operation_params or {}),
                "outputs": list(output_fields(task_spec)),
                "agency_kind": routed.kind,
                "form": properties.get("formJsonSchemaFilename"),
            }
    return tasks, issues


def _start_form_task(start: tuple[str, str] | None) -> dict[str, dict[str, Any]]:
    """The start form as ``_form_fields`` takes a task's: its fields get categories too."""
    return {start[0]: {"form": start[1]}} if start else {}


def _form_fields(
    user_tasks: dict[str, dict[str, Any]], forms: dict[str, dict[str, Any]], filename: str
) -> tuple[dict[str, str], list[ValidationIssue]]:
    fields: dict[str, str] = {}
    issues = []
    for element_id, task in user_tasks.items():
        schema = forms.get(task["form"]) if task["form"] else None
        for name, prop in (schema or {}).get("properties", {}).items():
            category = prop.get("x-category", UNCATEGORISED)
            if fields.setdefault(name, category) != category:
                issues.append(
                    ValidationIssue(
                        code="conflicting-category",
                        message=(
                            f"field {name!r} is {fields[name]!r} in one form and {category!r} in "
                            f"form {task['form']!r}; a field has one data category"
                        ),
                        element_id=element_id,
                        file=filename,
                        params={"field": name, "form": str(task["form"]), "category": str(category)},
                    )
                )
    return fields, issues


def _message_names(root: etree._Element) -> set[str]:
    messages = {node.get("id"): node.get("name") or node.get("id") for node in root.iter(f"{{{BPMN_NS}}}message")}
    names = set()
    for node in root.iter(f"{{{BPMN_NS}}}messageEventDefinition", f"{{{BPMN_NS}}}receiveTask"):
        ref = node.get("messageRef")
        if ref in messages:
            names.add(messages[ref])
    return names
