"""Run every corpus file in Brobygger, the way a process admin and the agencies would.

Run from the repository root (PostgreSQL through ``DATABASE_URL``, as CI; a throw-away
test database is created on that server and dropped afterwards)::

    .venv/bin/python -m tests.bpmn.engine.corpus_run            # counts, then the SpiffWorkflow set
    .venv/bin/python -m tests.bpmn.engine.corpus_run --json     # one record per file
    .venv/bin/python -m tests.bpmn.engine.corpus_run --no-map   # no routing map at import

For each file of ``../shared/bpmn-corpus/``: deploy it through
``bpmn.services.deploy_definition`` (with the JSON forms beside it, and a routing map
built from the routing names the file uses, see ``routing_map_for``), start a case
through ``workflows.services.start_case`` with every agency kind participating, then
complete every open task with data generated from its form schema, as a member of the
agency the task landed on, and fire the instance's timer (moving a clock to its due
time) when nothing else is open; until the case ends, waits with nothing to do (a
message from outside), stops on an incident, or ``ROUNDS`` rounds pass.

Outcomes: ``refused`` (deploy refused: by issue code), ``start-refused`` (start_case
refused), ``completed``, ``waiting``, ``incident`` (by incident kind), ``task-refused``
(completing a task was refused), ``round-cap``, ``crashed`` (any other exception: what
the API would answer with a 500).

The files that bare SpiffWorkflow runs to the end (``MANIFEST.csv``'s ``run_outcome``,
recorded with the corpus; ``tests.bpmn.engine.corpus_spiff`` measures it again) are the
yardstick: the report says how many of them complete in Brobygger, and why the rest do not.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.bpmn.engine import corpus_report as report

ROUNDS = 60  # rounds of (complete the open tasks, else fire the timer)
PERSON = {"name": "Corpus Person", "national_id": "17912099997"}
KINDS = ("prison", "nav", "health", "housing", "hospital", "municipality")


@dataclass
class RunOutcome:
    path: str
    outcome: str
    codes: list[str] = field(default_factory=list)  # refusal issue codes, incident kinds
    detail: str = ""
    element_id: str = ""
    process_key: str = ""
    tasks_completed: int = 0
    timers_fired: int = 0
    routing: dict = field(default_factory=dict)


def spiff_completed_set() -> set[str]:
    """The files that bare SpiffWorkflow 3.2.0 runs to the end, as recorded in the manifest."""
    import csv

    manifest = report.CORPUS / "MANIFEST.csv"
    if not manifest.is_file():
        return set()
    with manifest.open(newline="", encoding="utf-8") as handle:
        return {row["path"] for row in csv.DictReader(handle) if row.get("run_outcome") == "completed"}


# --- the cast -----------------------------------------------------------------------------


def seed_cast():
    """One agency of every kind with a member each, and a process admin."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from permissions.models import Agency, Membership, Role

    user_model = get_user_model()
    agencies, workers = {}, {}
    for kind in KINDS:
        group, _ = Group.objects.get_or_create(name=f"agency:corpus {kind}")
        agency, _ = Agency.objects.get_or_create(name=f"Corpus {kind}", defaults={"kind": kind, "group": group})
        user, _ = user_model.objects.get_or_create(username=f"corpus-{kind}")
        Membership.objects.get_or_create(user=user, agency=agency, role=Role.MEMBER)
        user.groups.add(group)
        agencies[kind], workers[agency.pk] = agency, user
    admin, _ = user_model.objects.get_or_create(username="corpus-admin")
    Membership.objects.get_or_create(user=admin, agency=agencies["housing"], role=Role.PROCESS_ADMIN)
    return agencies, workers, admin


# --- one file ---------------------------------------------------------------------------


def routing_map_for(data: bytes) -> dict:
    """The routing map an admin would give at import: every lane, candidate group and
    assignee the file names sent to an agency kind, and a default kind for tasks that
    name none. Empty where the engine cannot list the names (before routing maps)."""
    try:
        from bpmn.engine.routing import routing_names, suggested_routing_map
    except ImportError:
        return {}
    try:
        return suggested_routing_map(routing_names(data), KINDS)
    except Exception:  # the deploy refuses the file with its own reason
        return {}


def _called(path: Path) -> dict:
    """The files beside it that define the processes it calls, as deploy_bpmn finds them
    (none before the engine took called files)."""
    try:
        from bpmn.loading import called_files
    except ImportError:
        return {}
    called = called_files(path)
    return {"called": called} if called else {}


def run_file(path: Path, cast, *, use_map: bool = True) -> RunOutcome:
    from django.db import transaction

    outcome = RunOutcome(report.relative(path), "crashed")
    try:
        with transaction.atomic():
            _run(path, cast, outcome, use_map)
            transaction.set_rollback(True)  # each file on its own: nothing of it stays
    except Exception as exc:
        outcome.outcome = "crashed"
        outcome.detail = (
            f"{type(exc).__name__}: {exc}"[:500] + "\n" + "".join(traceback.format_exception(exc, limit=-4))[-1500:]
        )
    return outcome


def _run(path: Path, cast, outcome: RunOutcome, use_map: bool) -> None:
    from bpmn.services import InvalidModel, deploy_definition
    from core.errors import ServiceError

    agencies, workers, admin = cast
    data = path.read_bytes()
    routing = routing_map_for(data) if use_map else {}
    outcome.routing = routing
    try:
        result = deploy_definition(
            actor=admin,
            bpmn_xml=data,
            forms=report.forms_beside(path),
            filename=path.name,
            check_permission=False,
            **({"routing": routing} if routing else {}),
            **_called(path),
        )
    except InvalidModel as exc:
        outcome.outcome = "refused"
        outcome.codes = sorted({issue.code for issue in exc.issues})
        first = exc.issues[0]
        outcome.element_id, outcome.detail = first.element_id or "", first.message
        return
    except ServiceError as exc:
        outcome.outcome, outcome.detail = "refused", exc.detail
        outcome.codes = ["service-error"]
        return
    definition = result.definition
    outcome.process_key = definition.key
    starter = workers[agencies["housing"].pk]
    try:
        from workflows import services

        case = services.start_case(
            actor=starter,
            process_key=definition.key,
            person=PERSON,
            participants={kind: agency.pk for kind, agency in agencies.items()},
        )
    except ServiceError as exc:
        outcome.outcome = "start-refused"
        outcome.detail = exc.detail + "".join(f"; {e.get('field')}: {e.get('message')}" for e in exc.errors)
        outcome.codes = [type(exc).__name__]
        return
    _drive(case, workers, outcome)


def _drive(case, workers, outcome: RunOutcome) -> None:
    from bench.samples import sample_form_data
    from bpmn.registry import runtime_for
    from core.errors import ServiceError
    from workflows import services
    from workflows.models import ACTIVE_TASK_STATUSES, Incident, InstanceStatus, ProcessInstance, Task

    with _clock() as clock:
        for _round in range(ROUNDS):
            instance = ProcessInstance.objects.filter(case=case).order_by("id").first()
            if instance.status == InstanceStatus.COMPLETED:
                outcome.outcome = "completed"
                return
            if instance.status == InstanceStatus.INCIDENT:
                incidents = list(Incident.objects.filter(instance=instance, resolved_at=None).order_by("id"))
                outcome.outcome = "incident"
                outcome.codes = sorted({incident.kind for incident in incidents})
                if incidents:
                    outcome.element_id, outcome.detail = incidents[0].element_id, incidents[0].error[:500]
                return
            task = Task.objects.filter(case=case, status__in=ACTIVE_TASK_STATUSES).order_by("id").first()
            if task is not None:
                schema, _ = runtime_for(task.instance.definition_id).form_for(task.element_id)
                try:
                    services.complete_task(
                        actor=workers[task.agency_id], task_id=task.pk, data=sample_form_data(schema)
                    )
                except ServiceError as exc:
                    outcome.outcome, outcome.element_id = "task-refused", task.element_id
                    outcome.detail = exc.detail + "".join(f"; {e.get('field')}: {e.get('message')}" for e in exc.errors)
                    outcome.codes = [type(exc).__name__]
                    return
                outcome.tasks_completed += 1
                continue
            if instance.next_timer_at is None:
                outcome.outcome = "waiting"
                outcome.detail = "nothing open and no timer: waits for a message or an outside system"
                return
            clock.jump_to(instance.next_timer_at)
            fired, _job = services.fire_timer("corpus")
            if fired != "fired":
                outcome.outcome, outcome.detail = "waiting", f"timer job {fired}"
                return
            outcome.timers_fired += 1
        outcome.outcome = "round-cap"


class _clock:
    """SpiffWorkflow's timers and the job table read this clock; timers fire by moving it."""

    def __enter__(self):
        from tests.bpmn.engine.corpus_spiff import MovableClock
        from workflows.jobs import queue as jobs

        self._clock = MovableClock().__enter__()
        self._jobs, self._now = jobs, jobs.now
        jobs.now = lambda: self._clock.moment
        return self._clock

    def __exit__(self, *exc):
        self._jobs.now = self._now
        self._clock.__exit__(*exc)


# --- the whole corpus -------------------------------------------------------------------


def run_corpus(paths: list[Path] | None = None, *, use_map: bool = True) -> list[RunOutcome]:
    from bpmn.registry import clear_caches

    cast = seed_cast()
    outcomes = []
    for path in report.corpus_files() if paths is None else paths:
        clear_caches()  # rolled-back definitions' ids come again
        outcomes.append(run_file(path, cast, use_map=use_map))
    return outcomes


def summarize(outcomes: list[RunOutcome]) -> dict:
    spiff = spiff_completed_set()
    in_spiff = [outcome for outcome in outcomes if outcome.path in spiff]
    refused_codes: Counter[str] = Counter()
    incident_kinds: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.outcome == "refused":
            refused_codes.update(outcome.codes)
        if outcome.outcome == "incident":
            incident_kinds.update(outcome.codes)
    spiff_refused: Counter[str] = Counter()
    for outcome in in_spiff:
        if outcome.outcome == "refused":
            spiff_refused.update(outcome.codes)
    return {
        "files": len(outcomes),
        "outcomes": dict(Counter(outcome.outcome for outcome in outcomes).most_common()),
        "deployed": sum(outcome.outcome not in ("refused",) for outcome in outcomes),
        "refused_by_code": dict(refused_codes.most_common()),
        "incidents_by_kind": dict(incident_kinds.most_common()),
        "spiff_completes": len(spiff),
        "spiff_set_outcomes": dict(Counter(outcome.outcome for outcome in in_spiff).most_common()),
        "spiff_set_refused_by_code": dict(spiff_refused.most_common()),
    }


def format_report(outcomes: list[RunOutcome], *, verbose: bool = False) -> str:
    summary = summarize(outcomes)
    lines = [
        f"BPMN corpus execution: {report.CORPUS}",
        f"files: {summary['files']}; deployed: {summary['deployed']}",
        "outcomes: " + ", ".join(f"{kind} {count}" for kind, count in summary["outcomes"].items()),
        "refused, by issue code (files): " + ", ".join(f"{c} {n}" for c, n in summary["refused_by_code"].items()),
        "incidents, by kind (files): " + ", ".join(f"{c} {n}" for c, n in summary["incidents_by_kind"].items()),
        f"of the {summary['spiff_completes']} files bare SpiffWorkflow runs to the end: "
        + ", ".join(f"{kind} {count}" for kind, count in summary["spiff_set_outcomes"].items()),
        "  refused among them, by code: "
        + ", ".join(f"{c} {n}" for c, n in summary["spiff_set_refused_by_code"].items()),
    ]
    crashed = [outcome for outcome in outcomes if outcome.outcome == "crashed"]
    for outcome in crashed:
        lines.append(f"CRASHED: {outcome.path}: {outcome.detail.splitlines()[0]}")
    if verbose:
        spiff = spiff_completed_set()
        for outcome in outcomes:
            if outcome.path in spiff and outcome.outcome != "completed":
                lines.append(
                    f"  {outcome.outcome:13} {','.join(outcome.codes):30} {outcome.path}: "
                    f"{outcome.element_id} {outcome.detail.splitlines()[0][:160] if outcome.detail else ''}"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not report.corpus_available():
        print(f"no corpus at {report.CORPUS}; nothing to run", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    logging.disable(logging.WARNING)
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        outcomes = run_corpus(use_map="--no-map" not in argv)
    finally:
        teardown_databases(old_config, verbosity=0)
    if "--json" in argv:
        print(json.dumps({"summary": summarize(outcomes), "files": [asdict(o) for o in outcomes]}, indent=1))
    else:
        print(format_report(outcomes, verbose="-v" in argv))
    return 1 if any(outcome.outcome == "crashed" for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
