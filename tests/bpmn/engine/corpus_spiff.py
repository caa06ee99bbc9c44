"""Bare SpiffWorkflow on every corpus file: which models does the library itself run to the end?

This is the yardstick for ``tests.bpmn.engine.corpus_run``: a file that plain SpiffWorkflow
3.2.0 cannot finish (it waits on a message from outside, fails, or does not parse) says
nothing about Brobygger; a file it finishes should finish in Brobygger too, given a
routing map.

For each BPMN file: parse it with SpiffWorkflow's own parsers (the plain one, the Spiff
one, the Camunda one, first that parses), pick the top-level executable process (as a
deploy does), run engine steps, complete every ready user or manual task (Camunda form
fields with a plausible value), move a clock to the next waiting timer when nothing else
is ready, and stop at the end, a wait with nothing to do, an error or ``STEP_CAP`` rounds.

Bare means SpiffWorkflow's own script engine (plain ``eval``) on curated public files: a
development measurement, never something the application does.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import traceback
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.bpmn.engine import corpus_report as report

STEP_CAP = 200  # rounds of (complete the ready tasks, fire the next timer)
TIME_LIMIT = 10.0  # seconds per file


@dataclass
class SpiffOutcome:
    path: str
    outcome: str  # completed, waiting, error, not-parsed, no-process, step-cap, timeout, dmn
    parser: str = ""
    process_id: str = ""
    detail: str = ""
    tasks_completed: int = 0
    timers_fired: int = 0


class MovableClock:
    """SpiffWorkflow's timers read ``datetime.now`` from their module: move it forward."""

    def __init__(self):
        import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer

        self._module = spiff_timer
        self._original = spiff_timer.datetime
        self.moment = datetime.now(UTC)
        clock = self

        class MovedDatetime(datetime):
            @classmethod
            def now(cls, tz=None):
                return clock.moment.astimezone(tz) if tz else clock.moment.replace(tzinfo=None)

        self._moved = MovedDatetime

    def __enter__(self):
        self._module.datetime = self._moved
        return self

    def __exit__(self, *exc):
        self._module.datetime = self._original

    def jump_to(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        self.moment = max(self.moment, moment) + timedelta(seconds=1)


def _parsers():
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.camunda.parser import CamundaParser
    from SpiffWorkflow.spiff.parser import SpiffBpmnParser

    return [("BpmnParser", BpmnParser), ("SpiffBpmnParser", SpiffBpmnParser), ("CamundaParser", CamundaParser)]


def _top_process(parser) -> str | None:
    executable = parser.get_process_ids()  # the main file's only: siblings come later
    called = set()
    for proc in parser.process_parsers.values():
        for node in proc.node.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}callActivity"):
            called.add(node.get("calledElement"))
    candidates = [pid for pid in executable if pid not in called] or executable
    return candidates[0] if candidates else None


def _add_siblings(parser, path: Path) -> None:
    """The other models of the folder: a call activity may call a process of another file,
    and a business rule task a decision table (SpiffWorkflow's own tests load them so)."""
    for sibling in sorted(path.parent.iterdir()):
        if sibling == path or not report.is_model_file(sibling):
            continue
        with contextlib.suppress(Exception):  # a sibling that does not parse is not needed
            if report.is_dmn(sibling):
                parser.add_dmn_file(str(sibling))
            else:
                parser.add_bpmn_file(str(sibling))


def _parse(path: Path):
    errors = []
    for name, parser_class in _parsers():
        parser = parser_class()
        try:
            parser.add_bpmn_file(str(path))
            process_id = _top_process(parser)
            if process_id is None:
                return name, None, None, None, "no executable process"
            try:
                spec = parser.get_spec(process_id)
                subprocesses = parser.get_subprocess_specs(process_id)
            except Exception:  # a called process or decision table in another file?
                # A fresh parser: one that failed half-way may hand out a half-built spec.
                parser = parser_class()
                parser.add_bpmn_file(str(path))
                _add_siblings(parser, path)
                spec = parser.get_spec(process_id)
                subprocesses = parser.get_subprocess_specs(process_id)
            return name, process_id, spec, subprocesses, ""
        except Exception as exc:  # any parser failure: try the next parser
            errors.append(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    return "", None, None, None, "; ".join(errors)


def camunda_field_value(field) -> object:
    """A plausible value for a Camunda form field (its default, else by type)."""
    default = getattr(field, "default_value", None)
    kind = getattr(field, "type", "string")
    if kind == "enum":
        options = getattr(field, "options", [])
        if default not in (None, ""):
            return default
        return options[0].id if options else ""
    if kind == "boolean":
        return str(default).lower() == "true" if default not in (None, "") else False
    if kind == "long":
        try:
            return int(default)
        except (TypeError, ValueError):
            return 1
    if kind == "date":
        return default or datetime.now(UTC).date().isoformat()
    return default if default not in (None, "") else "x"


def _task_data(task) -> dict:
    form = getattr(task.task_spec, "form", None)
    fields = getattr(form, "fields", None) or []
    return {field.id: camunda_field_value(field) for field in fields if getattr(field, "id", None)}


def _next_timer(workflow) -> datetime | None:
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
    from SpiffWorkflow.util.task import TaskState

    due = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        value = task._get_internal_data("event_value")
        if value is None:
            continue
        if isinstance(value, dict):
            if value.get("cycles") != 0 and value.get("next"):
                due.append(datetime.fromisoformat(value["next"]))
            continue
        with contextlib.suppress(Exception):
            moment = TimerEventDefinition.parse_time_or_duration(value)
            if isinstance(moment, datetime):
                due.append(moment)
    due = [moment if moment.tzinfo else moment.replace(tzinfo=UTC) for moment in due]
    return min(due, default=None)


def run_file(path: Path, observe=None) -> SpiffOutcome:
    """``observe(workflow)``, if given, is called after every engine advance (to check what
    the application reads of a running workflow against the library's own answer)."""
    name = report.relative(path)
    if report.is_dmn(path):
        return SpiffOutcome(name, "dmn")
    parser_name, process_id, spec, subprocesses, error = _parse(path)
    if spec is None:
        return SpiffOutcome(name, "no-process" if parser_name else "not-parsed", parser_name, detail=error)
    outcome = SpiffOutcome(name, "waiting", parser_name, process_id)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the models' scripts print
            report.call_with_watchdog(lambda: _run(spec, subprocesses, outcome, observe), TIME_LIMIT)
    except report.CorpusTimeout:
        outcome.outcome, outcome.detail = "timeout", f"ran past {TIME_LIMIT} s"
    except Exception as exc:
        outcome.outcome = "error"
        outcome.detail = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
    return outcome


def _run(spec, subprocesses, outcome: SpiffOutcome, observe=None) -> None:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    with MovableClock() as clock:
        workflow = BpmnWorkflow(spec, subprocesses)
        workflow.do_engine_steps()
        for _round in range(STEP_CAP):
            if observe is not None:
                observe(workflow)
            if workflow.is_completed():
                outcome.outcome = "completed"
                return
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            if ready:
                for task in ready:
                    task.data.update(_task_data(task))
                    task.run()
                    outcome.tasks_completed += 1
                workflow.refresh_timers()
                workflow.do_engine_steps()
                continue
            due = _next_timer(workflow)
            if due is None:
                outcome.outcome = "waiting"
                outcome.detail = ", ".join(
                    sorted(
                        {t.task_spec.bpmn_id or t.task_spec.name for t in workflow.get_tasks(state=TaskState.WAITING)}
                    )
                )[:300]
                return
            clock.jump_to(due)
            outcome.timers_fired += 1
            workflow.refresh_timers()
            workflow.do_engine_steps()
        outcome.outcome = "completed" if workflow.is_completed() else "step-cap"


def run_corpus(paths: list[Path] | None = None) -> list[SpiffOutcome]:
    import logging

    logging.getLogger("spiff").setLevel(logging.ERROR)
    return [run_file(path) for path in (report.corpus_files() if paths is None else paths)]


def completed_paths(outcomes: list[SpiffOutcome]) -> list[str]:
    return sorted(outcome.path for outcome in outcomes if outcome.outcome == "completed")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not report.corpus_available():
        print(f"no corpus at {report.CORPUS}; nothing to run", file=sys.stderr)
        return 2
    try:
        outcomes = run_corpus()
    except Exception:
        traceback.print_exc()
        return 1
    if "--json" in argv:
        print(json.dumps([asdict(outcome) for outcome in outcomes], indent=1))
        return 0
    counts = Counter(outcome.outcome for outcome in outcomes)
    print(
        f"bare SpiffWorkflow on {len(outcomes)} corpus files: "
        + ", ".join(f"{kind} {count}" for kind, count in counts.most_common())
    )
    from tests.bpmn.engine.corpus_run import spiff_completed_set

    recorded = spiff_completed_set()
    print(
        f"of the {len(recorded)} the manifest records as completed, {len(recorded & set(completed_paths(outcomes)))} "
        "complete here too (the clock moved to due timers here, so a few more complete)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
