"""Per-process cache of what running a definition version needs.

Definition versions are immutable, so everything derived from one (the restored spec,
the form validators) is computed once per process and shared by every request.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from jsonschema.protocols import Validator

from bpmn.engine.form_categories import differs_inside, fields_spoken_of
from bpmn.engine.forms_validation import field_validator, form_validator, schema_problems
from bpmn.engine.gateway_paths import (
    GatewayPath,
    Model,
    element_writes,
    handed_from,
    message_throw_names,
    paths_and_sources,
    timer_elements,
    timer_reads,
    with_called,
)
from bpmn.engine.message_payloads import PayloadReads, correlation_reads, payload_reads
from bpmn.engine.runtime import SPEC_CACHE, SpecBundle
from bpmn.engine.workflow_cache import WORKFLOW_CACHE
from bpmn.models import ProcessDefinition
from permissions import rules
from permissions.models import RESTRICTED
from permissions.policy import FieldRules, field_rules


@dataclass(frozen=True)
class DefinitionRuntime:
    definition_id: int
    key: str
    version: int
    forms: dict[str, dict[str, Any]]
    validators: dict[str, Validator]
    field_validators: dict[str, Validator]  # field -> its schema in the first form that has it
    user_tasks: dict[str, dict[str, Any]]
    fields: dict[str, str]
    start_messages: frozenset[str]  # messages the process's start event waits for
    field_rules: FieldRules  # categories, shared fields, tasks that need identity in full
    # Who may write what (bpmn.engine.write_rules): message name -> senders and fields;
    # the start form's fields (empty: a case starts with no data).
    message_rules: dict[str, dict] = field(default_factory=dict)
    messages: frozenset[str] = frozenset()  # every message the process waits for somewhere
    start_fields: frozenset[str] = frozenset()
    service_tasks: dict[str, dict] = field(default_factory=dict)  # element id -> kind, target, ...
    # Element id -> categories its gateways' conditions read, as deployed (None: an older
    # version without them in its metadata; computed from the model then).
    stored_path_categories: dict[str, list[str]] | None = None
    pool_events: dict[str, dict] = field(default_factory=dict)  # a collaboration's message events

    @property
    def bundle(self) -> SpecBundle:
        return SPEC_CACHE.get(self.definition_id, lambda: _load_spec_json(self.definition_id))

    @cached_property
    def bpmn_xml(self) -> str:
        """The model as deployed, read once per version (the case page draws it)."""
        return ProcessDefinition.objects.values_list("bpmn_xml", flat=True).get(pk=self.definition_id)

    @cached_property
    def run_model(self) -> Model:
        """The model with the processes of the files its call activities call (a case runs
        through those too): what a case's path gives away is read from it."""
        if "callActivity" not in self.bpmn_xml:  # (most models: no read)
            return self.bpmn_xml
        called = ProcessDefinition.objects.values_list("called_json", flat=True).get(pk=self.definition_id)
        return with_called(self.bpmn_xml, called_texts(called))

    @cached_property
    def model_etag(self) -> str:
        """The model's entity tag: its version's id and a digest of the text (a database
        built again gives the id to another model; browsers then fetch the new one)."""
        digest = hashlib.sha256(self.bpmn_xml.encode()).hexdigest()[:16]
        return f'"{self.definition_id}-{digest}"'

    @cached_property
    def _paths_and_sources(self) -> tuple[dict[str, GatewayPath], dict[str, frozenset[str]]]:
        return paths_and_sources(self.run_model, self.field_rules.shared_fields, self._writes)

    @cached_property
    def gateway_paths(self) -> dict[str, GatewayPath]:
        """What each gateway's path gives away (``bpmn.engine.gateway_paths``), and each timer's
        whose moment is computed from data but fields every participant sees (``timer_paths``),
        computed from the model once per version, for deployed versions old and new alike."""
        return self._paths_and_sources[0]

    @cached_property
    def script_sources(self) -> dict[str, frozenset[str]]:
        """Name -> the data names a script of the model may compute it from
        (``bpmn.engine.element_needs.script_sources``): what a script's variable carries.
        A name set on a branch of a split (``gateway_paths``: a gateway, a timer, a loop)
        carries what the split reads as well: ``route = "psych"`` on the branch a diagnosis
        chose tells the diagnosis, whatever the script itself read. Read by what leaves for
        an agency's system (``workflows.jobs.service``), a message's payload and a timer;
        the called processes' scripts count too (``gateway_paths.paths_and_sources``)."""
        return self._paths_and_sources[1]

    @cached_property
    def _writes(self) -> dict[str, frozenset[str]]:
        """Element id -> the case-data fields it writes (``gateway_paths.element_writes``): a
        user task its form's fields, a message catch the fields its message declares
        (``message_rules``), a service task its outputs (``workflows.jobs.service.taken_fields``;
        until 2026-12-06 none: what a connector on a hidden branch wrote showed)."""
        return element_writes(self.run_model, self.user_tasks, self.forms, self.message_rules, self.service_tasks)

    @cached_property
    def on_branches(self) -> frozenset[str]:
        """The elements on some split's branch (``gateway_paths``)."""
        return frozenset().union(*(path.branch_elements for path in self.gateway_paths.values()))

    @cached_property
    def branch_writers(self) -> dict[str, frozenset[str]]:
        """Element id -> the case-data fields it writes, for the elements on a split's branch
        (``gateway_paths``). What such an element wrote tells the branch as the element would
        (``selectors.PathView.fields``). A field a step every case passes writes too (the
        start form, a task before the split) is among them: that it is there tells nothing,
        but a value the branch wrote over it does (the prison's release date, changed on the
        no-home branch); such a field (``branch_rewritten``) shows its value as the last step
        every case passes wrote it (``Case.data_common``)."""
        return {element: names for element, names in self._writes.items() if element in self.on_branches}

    def branch_reads_of_throw(self, element_id: str, name: str) -> frozenset[str]:
        """The names read by the splits on whose branch the throw of message ``name`` lies
        (``element_id``; unknown: any of the model's throws of ``name``). Another case that
        catches it learns that branch: ``workflows.jobs.messages`` lets it go there only
        when every agency of that case sees them."""
        throws = {element_id} if element_id else {e for e, names in self._message_throws.items() if name in names}
        return frozenset().union(*(path.reads for path in self.gateway_paths.values() if throws & path.branch_elements))

    def split_reads_of(self, names: Iterable[str]) -> frozenset[str]:
        """The names read by the splits on whose branch a step writes one of ``names``
        (``branch_writers``): a value computed from such a field, carried out of the case (a
        message's payload thrown after the branches meet), tells the branch as the field's
        step would, so whoever receives it must see what the split read too."""
        wanted = set(names)
        writers = {element for element, written in self.branch_writers.items() if wanted & written}
        if not writers:
            return frozenset()
        return frozenset().union(
            *(path.reads for path in self.gateway_paths.values() if writers & path.branch_elements)
        )

    @cached_property
    def _message_throws(self) -> dict[str, frozenset[str]]:
        return message_throw_names(self.run_model)

    @cached_property
    def branch_rewritten(self) -> frozenset[str]:
        """The fields a step on a branch writes that the start form or a step on no branch
        writes too: ``Step.merge_case_data`` keeps the value such a step last wrote apart
        (``Case.data_common``), shown to a reader from whom the branch is hidden."""
        common = set(self.start_fields).union(
            *(names for element, names in self._writes.items() if element not in self.on_branches)
        )
        return frozenset(common & set().union(*self.branch_writers.values()))

    @cached_property
    def payload_reads(self) -> dict[str, PayloadReads]:
        """Message name -> the case data each field of the payload it throws is computed
        from (``bpmn.engine.message_payloads``), from the model once per version."""
        return payload_reads(self.bpmn_xml, self.script_sources)

    def payload_names(self, message_name: str) -> frozenset[str]:
        """The names the model gives the fields of message ``message_name``'s payload: the
        keys its payload expressions write out, and its forms' fields (a throw without a
        payload expression sends the task data). A key a payload computes (``{diagnosis:
        True}``, a script's dictionary keyed by medication) is none of them: it is a value of
        the case, and is named nowhere a value is not shown."""
        reads = self.payload_reads.get(message_name)
        written = reads.fields.keys() if reads is not None else ()
        return frozenset(written) | frozenset(self.fields)

    @cached_property
    def correlation_reads(self) -> dict[str, frozenset[str]]:
        """Correlation property id -> the case data its values are computed from
        (``bpmn.engine.message_payloads.correlation_reads``): what a correction replaces."""
        return correlation_reads(self.bpmn_xml, self.payload_reads, self.script_sources)

    @cached_property
    def path_masks(self) -> dict[str, int]:
        """Element id -> ``Task.path_categories`` of a task of it (``rules.path_categories``)."""
        found = self.stored_path_categories
        if found is None:
            found = rules.path_categories(self.gateway_paths, self.fields)
        return {element: rules.path_mask(categories) for element, categories in found.items()}

    @cached_property
    def handed_paths(self) -> dict[str, frozenset[str]]:
        """Task element id -> the gateways on whose branches a task that may hand it over
        lies (``bpmn.engine.handed_from``): who handed it over tells their branch."""
        found = {}
        for element, sources in handed_from(self.run_model).items():
            gateways = frozenset(g for g, path in self.gateway_paths.items() if sources & path.branch_elements)
            if gateways:
                found[element] = gateways
        return found

    @cached_property
    def handed_masks(self) -> dict[str, int]:
        """Task element id -> the ``path_mask`` of the fields the gateways of ``handed_paths``
        read: who handed it over is told, in a list across cases, only to a reader who sees
        them all by standing (``rules.timer_listed``'s rule)."""
        found = {}
        for element, gateways in self.handed_paths.items():
            names = {name for gateway in gateways for name in self.gateway_paths[gateway].reads}
            found[element] = rules.path_mask(self.fields.get(name, RESTRICTED) for name in names)
        return found

    @cached_property
    def timer_reads(self) -> dict[str, frozenset[str]]:
        """Timer event id -> the fields its expression reads (``bpmn.engine.timer_reads``):
        when it fires tells their values."""
        return timer_reads(self.run_model, self.script_sources)

    @cached_property
    def timer_value_reads(self) -> dict[str, frozenset[str]]:
        """Timer event id -> the fields its moment is computed from (through scripts), not what
        they carry of the branches that set them (``timer_reads``): what a correction of one
        times again (``steps.retime_timers_reading``). A correction of the value that chose a
        branch changes no value the timer reads (a field written on the branch since
        2026-12-06 carries it: ``paths_and_sources(writes=)``)."""
        return timer_reads(self.run_model)

    @cached_property
    def timer_path_categories(self) -> int:
        """``ProcessInstance.timer_path_categories``: the categories read by the gateways on
        whose branches any timer of the model lies, and those of the fields any timer's
        expression reads (as a ``path_mask``)."""
        return timer_mask(
            self.path_masks,
            timer_elements(self.run_model),
            self.timer_reads,
            self.fields,
            self.field_rules.shared_fields,
        )

    def form_for(self, element_id: str) -> tuple[dict[str, Any] | None, Validator | None]:
        form_name = (self.user_tasks.get(element_id) or {}).get("form")
        if not form_name:
            return None, None
        return self.forms[form_name], self.validators[form_name]


def timer_mask(path_masks: dict[str, int], timers, reads: dict[str, frozenset[str]], fields, shared=()) -> int:
    """The ``path_mask`` of what a model's timers tell: the categories of the gateways on whose
    branches any of ``timers`` lies (``path_masks``), and those of the fields (``fields``:
    field -> category; another name is restricted) their expressions read (``reads``), but
    those every participant sees (``shared``: ``"x-share": "participants"``, the prison's
    expected release date)."""
    found = 0
    for element_id in timers:
        found |= path_masks.get(element_id, 0)
    for names in reads.values():
        found |= rules.path_mask(fields.get(name, RESTRICTED) for name in names if name not in shared)
    return found


def called_texts(called_json: str | None) -> list[str]:
    """The BPMN texts of ``ProcessDefinition.called_json``."""
    return [entry["bpmn_xml"] for entry in json.loads(called_json or "[]") if entry.get("bpmn_xml")]


def _load_spec_json(definition_id: int) -> str:
    return ProcessDefinition.objects.values_list("spec_json", flat=True).get(pk=definition_id)


_runtimes: dict[int, DefinitionRuntime] = {}
_lock = threading.Lock()


def runtime_for(definition: ProcessDefinition | int) -> DefinitionRuntime:
    definition_id = definition if isinstance(definition, int) else definition.pk
    runtime = _runtimes.get(definition_id)
    if runtime is not None:
        return runtime
    if isinstance(definition, int) or "forms_json" in definition.get_deferred_fields():
        definition = ProcessDefinition.objects.defer("spec_json", "bpmn_xml").get(pk=definition_id)
    forms = definition.forms
    validators = {name: form_validator(schema) for name, schema in forms.items()}
    metadata = _whole_field_categories(definition.metadata, forms)
    runtime = DefinitionRuntime(
        definition_id=definition.pk,
        key=definition.key,
        version=definition.version,
        forms=forms,
        validators=validators,
        field_validators=_field_validators(forms, validators),
        user_tasks=definition.metadata.get("user_tasks", {}),
        fields=metadata.get("fields", {}),
        start_messages=frozenset(definition.metadata.get("start_messages", ())),
        field_rules=field_rules(metadata, forms),
        service_tasks=definition.metadata.get("service_tasks", {}),
        message_rules=definition.metadata.get("message_rules") or {},
        messages=frozenset(definition.metadata.get("messages", ())),
        start_fields=frozenset(_properties(forms.get(definition.metadata.get("start_form") or ""))),
        stored_path_categories=definition.metadata.get("path_categories"),
        pool_events=definition.metadata.get("pool_events") or {},
    )
    with _lock:
        _runtimes[definition_id] = runtime
    return runtime


def _whole_field_categories(metadata: dict[str, Any], forms: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``metadata`` with each field that holds a part of another category than its own
    (``form_categories.differs_inside``), or of whose value a form writes another category
    beside it (``form_categories.fields_spoken_of``: an ``if``/``then`` of the form, its
    ``patternProperties``), restricted: a version deployed before the lint refused such a
    form. Shown only to the agency that wrote it and the coordinator, not as the category of
    its own property, which would show it to whoever sees that category."""
    fields = metadata.get("fields") or {}
    mixed = {
        name
        for schema in forms.values()
        for name, prop in _properties(schema).items()
        if name in fields and isinstance(prop, dict) and differs_inside(prop, schema)
    }
    mixed |= {name for schema in forms.values() for name in fields_spoken_of(schema) if name in fields}
    if not mixed:
        return metadata
    return {**metadata, "fields": {name: RESTRICTED if name in mixed else c for name, c in fields.items()}}


def runtimes_for(definition_ids) -> dict[int, DefinitionRuntime]:
    """``runtime_for`` of each of ``definition_ids``, those not known yet read in one query
    with their models (a list whose rows ask about several versions' models)."""
    missing = {pk for pk in definition_ids if pk not in _runtimes}
    for definition in ProcessDefinition.objects.filter(pk__in=missing).defer("spec_json"):
        runtime = runtime_for(definition)
        runtime.__dict__.setdefault("bpmn_xml", definition.bpmn_xml)  # the cached_property, read already
    return {pk: runtime_for(pk) for pk in set(definition_ids)}


def _properties(schema: dict[str, Any] | None) -> dict[str, Any]:
    return (schema or {}).get("properties") or {}


def _field_validators(forms: dict[str, dict[str, Any]], validators: dict[str, Validator]) -> dict[str, Validator]:
    """Message payloads are checked field by field, against the first form with the field."""
    by_field: dict[str, Validator] = {}
    for name, schema in forms.items():
        for field_name, prop in _properties(schema).items():
            if field_name not in by_field:
                by_field[field_name] = field_validator(validators[name], prop)
    return by_field


def form_problems(schema) -> list[tuple[str, dict[str, str]]]:
    """Why deploy would refuse this form as an attack on the server (remote or recursive
    ``$ref``, a pattern RE2 cannot run), for the editor's preview: each as the code of its
    text (``core.messages`` ``form_problem.*``) and its params, naming its field."""
    return [(f"form_problem.{problem.code}", {"place": problem.place()}) for problem in schema_problems(schema)]


def clear_caches() -> None:
    """Forget every cached definition. Tests need it: SQLite reuses the ids of rolled-back
    rows, and these caches are keyed by id (a committed definition never changes)."""
    with _lock:
        _runtimes.clear()
    SPEC_CACHE.clear()
    WORKFLOW_CACHE.clear()
