"""A workflow's state as JSON text, written without converting the whole workflow anew.

A step saves the whole state (``runtime.dump_workflow``), yet most of its tasks did not
change since the last save: SpiffWorkflow's converter built a dictionary for every task
(ten keys, the ids' texts, the data delta) and the JSON encoder wrote all of it out again,
a tenth of a task completion's CPU. ``StateWriter`` writes the same text, character for
character (``tests/bpmn/engine/test_state_text.py`` holds it to the converter's on every
shipped process, with timers, a sub-process and a loop), and keeps with the workflow the text of each task's
fixed part: its id, parent, children, last state change, state, element and ``triggered``.
That part is reused while those values are the same; they are immutable values (numbers,
texts, UUIDs), compared by value, so the text kept is the text the encoder would write.

What a step can change in place is never kept: a task's internal data, its data and its
parent's (a script may mutate a nested list that a completed task shares with its child:
SpiffWorkflow copies data shallowly) are written anew on every save, as the converter
does. Empty ones (the predicted tasks' ``{}``, most of a state) cost a test, not a write.

Where SpiffWorkflow's converters lay out a workflow (the keys and their order) is written
out here for SpiffWorkflow 3.2.0 (pinned, engine-notes); the test fails if they differ.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any
from uuid import UUID

from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.deep_merge import DeepMerge

# A task's id, its parent's and its children's, and its key in the tasks mapping: four
# ``str(UUID)`` a task on every save, a quarter of the state's serialization before the
# fixed parts were kept. The text of a UUID depends on its number alone, so it is kept by
# that number (a C-level lookup; ``UUID.__hash__`` and ``__str__`` are Python). Bounded:
# cleared when full, as a workflow's ids are few and the busy ones come back at once.
_UUID_TEXTS: dict[int, str] = {}
_UUID_TEXTS_MAX = 20_000  # about 3 MB; the ids of the 256 workflows ``WORKFLOW_CACHE`` keeps


def uuid_text(value: UUID) -> str:
    text = _UUID_TEXTS.get(value.int)
    if text is None:
        if len(_UUID_TEXTS) >= _UUID_TEXTS_MAX:
            _UUID_TEXTS.clear()
        text = _UUID_TEXTS[value.int] = str(value)
    return text


# The attribute of a workflow (the top one and each sub-process) holding its tasks' kept
# parts: {task id: (the values written, their text)}. It goes with the workflow object:
# a workflow restored from text has none, and ``WORKFLOW_CACHE`` keeps it with the object.
KEPT = "_brobygger_task_heads"

_EMPTY_DELTA = '{"updates":{},"deletions":[]}'


class StateWriter:
    """Writes ``registry.convert(workflow)`` (with ``serializer_version``) as the encoder
    would, in the registry's encoder mode (the caller sets it)."""

    def __init__(self, registry: Any, encoder_cls: type[json.JSONEncoder], version: str):
        self._registry = registry
        self._encoder = encoder_cls(separators=(",", ":"))
        self._encode = self._encoder.encode
        self._version = version
        self._task_typename = registry.typenames[SpiffTask]

    def _pieces_encoder(self) -> Callable[[Any], str]:
        """``encode`` for the many small pieces of one text: ``JSONEncoder.encode`` makes its
        C encoder anew on every call (half the cost of a piece); this one makes it once. Not
        shared between texts: its circular-reference marks are left behind by a failure."""
        make = getattr(json.encoder, "c_make_encoder", None)
        if make is None:
            return self._encode
        encoder = self._encoder
        pieces = make(
            {} if encoder.check_circular else None,
            encoder.default,
            json.encoder.encode_basestring_ascii if encoder.ensure_ascii else json.encoder.encode_basestring,
            encoder.indent,
            encoder.key_separator,
            encoder.item_separator,
            encoder.sort_keys,
            encoder.skipkeys,
            encoder.allow_nan,
        )
        return lambda value: "".join(pieces(value, 0))

    def text(self, workflow: Any) -> str:
        encode, registry = self._pieces_encoder(), self._registry
        subprocesses = ",".join(
            f"{self._key_text(key)}:{self._sub_text(sub, encode)}" for key, sub in workflow.subprocesses.items()
        )
        tail = {
            "bpmn_events": registry.convert(workflow.bpmn_events),
            "typename": registry.typenames[type(workflow)],
            "serializer_version": self._version,
        }
        return (
            f"{self._head_text(workflow, encode)},"
            f'"tasks":{self._tasks_text(workflow, encode)},'
            f'"root":{encode(uuid_text(workflow.task_tree.id))},'
            f'"subprocesses":{{{subprocesses}}},'
            f"{encode(tail)[1:]}"
        )

    def _key_text(self, key: Any) -> str:
        """A key of the tasks or sub-processes mapping (``BpmnConverter.mapping_to_dict``)."""
        return f'"{uuid_text(key)}"' if type(key) is UUID else self._encode(str(key))

    def _sub_text(self, workflow: Any, encode: Callable[[Any], str]) -> str:
        # ``BpmnSubWorkflowConverter.to_dict``: the workflow's keys, then its parent task and spec.
        tail = {
            "root": str(workflow.task_tree.id),
            "parent_task_id": str(workflow.parent_task_id),
            "spec": workflow.spec.name,
            "typename": self._registry.typenames[type(workflow)],
        }
        return f'{self._head_text(workflow, encode)},"tasks":{self._tasks_text(workflow, encode)},{encode(tail)[1:]}'

    def _head_text(self, workflow: Any, encode: Callable[[Any], str]) -> str:
        """``WorkflowConverter.to_dict``'s keys before ``tasks``, as an open object."""
        registry = self._registry
        head = {
            "data": registry.convert(registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
        }
        return encode(head)[:-1]

    def _tasks_text(self, workflow: Any, encode: Callable[[Any], str]) -> str:
        convert = self._registry.convert
        tasks = workflow.tasks
        # By the ids' numbers: a UUID's hash and equality are Python calls, an int's are not.
        by_number = {task_id.int: task for task_id, task in tasks.items()}
        kept_before: dict[int, tuple[tuple[Any, ...], str]] = getattr(workflow, KEPT, None) or {}
        kept: dict[int, tuple[tuple[Any, ...], str]] = {}
        typename = self._task_typename
        parts = []
        for task_id, task in tasks.items():
            number = task_id.int
            parent_id = task._parent
            parent = by_number.get(parent_id.int) if parent_id is not None else None  # ``task.parent``
            values = (
                task_id,
                parent_id if parent is not None else None,
                tuple(task._children),
                task.last_state_change,
                task.state,
                task.task_spec.name,
                task.triggered,
            )
            found = kept_before.get(number)
            head = found[1] if found is not None and found[0] == values else self._task_head(values)
            kept[number] = (values, head)
            internal = task.internal_data
            internal_text = "{}" if type(internal) is dict and not internal else encode(convert(internal))
            data = task.data
            if parent is None:
                data_text, delta_text = encode(data), "{}"
            else:
                parent_data = parent.data
                data_text = "{}"
                if type(data) is dict and type(parent_data) is dict and not data and not parent_data:
                    delta_text = _EMPTY_DELTA
                else:
                    delta_text = encode(
                        {
                            "updates": DeepMerge.get_updated_keys(parent_data, data),
                            "deletions": DeepMerge.get_deleted_keys(parent_data, data),
                        }
                    )
            parts.append(f'{head}{internal_text},"data":{data_text},"delta":{delta_text},"typename":"{typename}"}}')
        setattr(workflow, KEPT, kept)
        return "{" + ",".join(parts) + "}"

    def _task_head(self, values: tuple[Any, ...]) -> str:
        """The task's key in the mapping and ``TaskConverter.to_dict``'s keys before
        ``internal_data``, ending in its colon."""
        task_id, parent_id, children, last_state_change, state, spec_name, triggered = values
        head = {
            "id": uuid_text(task_id),
            "parent": uuid_text(parent_id) if parent_id is not None else None,
            "children": [uuid_text(child) for child in children],
            "last_state_change": last_state_change,
            "state": state,
            "task_spec": spec_name,
            "triggered": triggered,
        }
        return f'{self._key_text(task_id)}:{self._encode(head)[:-1]},"internal_data":'
