"""Service tasks that wait for the application: an HTTP connector or an external worker.

SpiffWorkflow runs a service task inside the engine step (``call_service``), which would
make a network call inside the transaction that holds the instance lock, and fails with a
``NameError`` on the first error (engine-notes 12). Here a service task's run returns
``None``: SpiffWorkflow then leaves the task STARTED, the application does the call in a
job, and ``complete_service_task`` completes it with the answer.

What a model may declare, each parsed at deploy:

* SpiffWorkflow: ``spiffworkflow:serviceTaskOperator id="<connector>"`` with its
  parameters (name -> expression over the task data) and ``resultVariable``: an HTTP call
  through the connector of that name (configured by the operator, never in the model);
* Camunda: ``camunda:type="external" camunda:topic="<topic>"``: an external task an
  agency's own system fetches and locks by topic; ``camunda:connector`` with a
  ``connectorId``: an HTTP call through the connector of that name; for both,
  ``camunda:inputParameter`` (what is sent) and ``camunda:outputParameter`` (what is
  taken from the answer).

Anything else (a Java class, a delegate expression, an IBM or Activiti implementation) is
refused at deploy, naming the element and what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.util.task import TaskState

from . import scrub
from .element_needs import expression_names
from .errors import EngineError, ExpressionError, TaskStateError
from .task_scan import tasks_in_state

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
HTTP, EXTERNAL = "http", "external"
_PLACEHOLDER = re.compile(r"^\s*\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*$")
_TOPIC = re.compile(r"^[A-Za-z0-9_.:/-]{1,200}$")


class JobServiceTask(ServiceTask):
    """A service task the application performs: running it only starts it (STARTED).

    ``operation_name`` is ``http:<connector>`` or ``external:<topic>``; ``operation_params``
    maps each field sent to ``{"value": expression}``; ``result_variable`` lists the fields
    taken from the answer, comma-separated ('' for none)."""

    def _execute(self, task: Any) -> None:
        return None


def _camunda(el: etree._Element, name: str) -> str | None:
    value = el.get(f"{{{CAMUNDA_NS}}}{name}")
    return value.strip() if value and value.strip() else None


def _camunda_children(el: etree._Element, path: str) -> list[etree._Element]:
    return list(el.iterfind(path, {"camunda": CAMUNDA_NS}))


def _as_expression(text: str | None) -> str:
    """A Camunda parameter's value as an expression: ``${name}`` reads the field ``name``;
    any other text is the literal text."""
    match = _PLACEHOLDER.match(text or "")
    return match.group(1) if match else repr(text or "")


class BrobyggerServiceTaskParser(ServiceTaskParser):
    """SpiffWorkflow's operator, or Camunda's external task or connector, into a
    ``JobServiceTask``; anything else refused with the fix."""

    def create_task(self) -> JobServiceTask:
        extensions = self.parse_extensions()
        operator = extensions.get("serviceTaskOperator")
        if operator is not None:
            name = f"{HTTP}:{operator['name']}"
            params = {key: {"value": value["value"]} for key, value in (operator["parameters"] or {}).items()}
            outputs = operator.get("resultVariable") or ""
        else:
            name, params, outputs = self._camunda_operation()
        task: JobServiceTask = self.spec_class(
            self.spec,
            self.bpmn_id,
            operation_name=name,
            operation_params=params,
            result_variable=outputs,
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )
        return task

    def _camunda_operation(self) -> tuple[str, dict[str, dict[str, str]], str]:
        node = self.node
        connector = _camunda_children(node, "./{*}extensionElements/camunda:connector")
        io_root = connector[0] if connector else node.find("./{*}extensionElements")
        inputs = _camunda_children(io_root, ".//camunda:inputParameter") if io_root is not None else []
        outputs = _camunda_children(io_root, ".//camunda:outputParameter") if io_root is not None else []
        params = {p.get("name"): {"value": _as_expression(p.text)} for p in inputs if p.get("name")}
        output_names = ",".join(p.get("name") for p in outputs if p.get("name") and p.get("name").isidentifier())
        if _camunda(node, "type") == "external":
            topic = _camunda(node, "topic")
            if not topic or not _TOPIC.match(topic):
                raise self._refusal(TOPIC_NEEDED)
            return f"{EXTERNAL}:{topic}", params, output_names
        if connector:
            ids = _camunda_children(connector[0], "./camunda:connectorId")
            connector_id = (ids[0].text or "").strip() if ids else ""
            if connector_id:
                return f"{HTTP}:{connector_id}", params, output_names
        raise self._refusal(
            'give it camunda:type="external" and a camunda:topic (an external task the agency\'s '
            "system fetches), a camunda:connector with a connectorId, or a spiffworkflow:serviceTaskOperator "
            "naming a connector; Java classes, delegate and plain expressions are not run"
        )

    def _refusal(self, fix: str) -> ValidationException:
        return ValidationException(
            f"service task {self.bpmn_id!r} {NO_IMPLEMENTATION}: {fix}",
            node=self.node,
            file_name=self.filename,
        )


# The refusal's words, by which ``definition`` tells it from SpiffWorkflow's own.
NO_IMPLEMENTATION = "has no implementation Brobygger runs"
TOPIC_NEEDED = 'camunda:type="external" needs a camunda:topic (letters, digits, "._:/-")'

PARSER_CLASSES = {"serviceTask": (BrobyggerServiceTaskParser, JobServiceTask)}


# --- at run time ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceCall:
    """A started service task waiting for its call: what the job needs."""

    task_id: str
    element_id: str
    kind: str  # HTTP or EXTERNAL
    target: str  # the connector's name or the topic
    outputs: tuple[str, ...]


def operation(spec: Any) -> tuple[str, str]:
    kind, _, target = spec.operation_name.partition(":")
    return kind, target


def output_fields(spec: Any) -> tuple[str, ...]:
    return tuple(name.strip() for name in (spec.result_variable or "").split(",") if name.strip())


def waiting_service_calls(workflow: Any) -> list[ServiceCall]:
    calls = []
    for task in tasks_in_state(workflow, TaskState.STARTED):
        spec = task.task_spec
        if isinstance(spec, JobServiceTask):
            kind, target = operation(spec)
            calls.append(ServiceCall(str(task.id), spec.bpmn_id, kind, target, output_fields(spec)))
    return calls


def started_service_task(workflow: Any, task_id: str) -> Any:
    try:
        task = workflow.get_task_from_id(UUID(str(task_id)))
    except (ValueError, KeyError, TaskNotFoundException):  # SpiffWorkflow 3.2 raises the last
        task = None
    if task is None or not isinstance(task.task_spec, JobServiceTask):
        raise TaskStateError(f"service task {task_id} does not exist in this workflow").with_code("service-task-gone")
    if task.state != TaskState.STARTED:
        state = TaskState.get_name(task.state)
        raise TaskStateError(f"service task {task.task_spec.bpmn_id!r} is {state}").with_code(
            "service-task-state", element=task.task_spec.bpmn_id, state=state
        )
    return task


def service_input_reads(workflow: Any, task_id: str) -> dict[str, frozenset[str]]:
    """Each field the task declares -> the names of the task data its expression reads (a
    literal reads none): the case data a field carries out, whatever the field is called."""
    task = started_service_task(workflow, task_id)
    return {
        name: frozenset(expression_names(str(param.get("value") or ""), mode="eval"))
        for name, param in (task.task_spec.operation_params or {}).items()
    }


def service_inputs(workflow: Any, task_id: str) -> dict[str, Any]:
    """The fields the task declares, evaluated over its data (restricted engine)."""
    task = started_service_task(workflow, task_id)
    engine = task.workflow.script_engine
    fields = {}
    for name, param in (task.task_spec.operation_params or {}).items():
        try:
            fields[name] = engine.evaluate(task, param["value"])
        except Exception as exc:  # SpiffWorkflow wraps what the expression raised
            failed = ExpressionError(_failure_text(name, exc, task), element_id=task.task_spec.bpmn_id)
            cause = exc.__cause__ or exc.__context__ or exc
            if isinstance(cause, EngineError) and cause.code is not None:  # a limit: said by its code
                failed.with_code(cause.code, **cause.params)
            raise failed from None
    return fields


def _failure_text(name: str, exc: BaseException, task: Any) -> str:
    """Why field ``name`` failed: the expression's error (what it raised beneath SpiffWorkflow's
    wrapper) without a value of the task's data. The worker logs it and the job keeps it, read
    by people who may not see the data (and an escaping SpiffWorkflow exception stopped the
    worker, or answered the agency's fetch with a 500)."""
    cause = exc.__cause__ or exc.__context__ or exc
    said = str(cause) if isinstance(cause, ExpressionError) else f"{type(cause).__name__}: {cause}"
    text = f"field {name!r}: {said}"
    return scrub.scrub(text, scrub.workflow_literals(task.workflow), scrub.model_tokens(task.workflow))[:2000]
