"""Setting up and inspecting cases in another database, from a subprocess:
``python -m tests.ops.scenario COMMAND ...`` with DATABASE_URL pointing at it.

The fault and restore tests work on databases that are not pytest's (a private server, a
restored dump), so they prepare and check them through this module, which uses the same
services and fixtures as the other tests.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def prepare(timer_cases: int, first_in: float, spread: float) -> dict:
    """Schema, the demo cast, the shipped and the one-timer process; ``timer_cases`` cases whose
    timers fall due between ``first_in`` and ``first_in + spread`` seconds from now."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from permissions.demo import seed_demo_cast
    from permissions.models import Agency
    from tests.conftest import PROCESSES
    from tests.workflows.jobs.conftest import START_FORM, TIMER_FORM, start_timer_case, timer_model

    call_command("migrate", verbosity=0, interactive=False)
    call_command("deploy_bpmn", str(PROCESSES), verbosity=0)
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None,
        bpmn_xml=timer_model(),
        forms={"after.schema.json": TIMER_FORM, "start.schema.json": START_FORM},
        filename="timer.bpmn",
        check_permission=False,
    )
    seed_demo_cast(os.environ.get("DEMO_PASSWORD", "brobygger-demo"))
    users = {user.username: user for user in get_user_model().objects.all()}
    agencies = {agency.kind: agency for agency in Agency.objects.all()}
    now = datetime.now(UTC)
    cases = []
    for number in range(timer_cases):
        fire_at = now + timedelta(seconds=first_in + spread * number / max(timer_cases - 1, 1))
        cases.append(start_timer_case(users, agencies, fire_at.isoformat()).pk)
    return {"timer_cases": cases, "agencies": {kind: agency.pk for kind, agency in agencies.items()}}


def timers(case_ids: list[int]) -> dict:
    """What the workers did with the timers of ``case_ids``."""
    from django.db.models import Count

    from workflows.models import Event, EventKind, Job, JobKind, JobStatus, Task

    fired = dict(
        Event.objects.filter(case__in=case_ids, kind=EventKind.TIMER_FIRED)
        .values_list("case")
        .annotate(n=Count("id"))
        .order_by()
    )
    tasks = dict(Task.objects.filter(case__in=case_ids).values_list("case").annotate(n=Count("id")).order_by())
    jobs = Job.objects.filter(kind=JobKind.TIMER, case__in=case_ids)
    return {
        "fired_per_case": [fired.get(pk, 0) for pk in case_ids],
        "tasks_per_case": [tasks.get(pk, 0) for pk in case_ids],
        "timer_jobs_by_status": dict(jobs.values_list("status").annotate(n=Count("id")).order_by()),
        "timer_jobs_fired_by": sorted(set(jobs.filter(status=JobStatus.DONE).values_list("locked_by", flat=True))),
        "jobs_claimed": Job.objects.filter(status=JobStatus.RUNNING).count(),
        "jobs_pending_due": Job.objects.filter(status=JobStatus.PENDING, due_at__lte=datetime.now(UTC)).count(),
    }


def finish_case(case_id: int) -> dict:
    """Complete every open task of the case, as its agencies would."""
    from tests.workflows.helpers import run_to_end
    from workflows.models import Case, Event, EventKind

    case = Case.objects.get(pk=case_id)
    done = run_to_end(case, {"has_home": False, "home_found": True})
    case.refresh_from_db()
    return {
        "completed": done,
        "status": case.status,
        "events": Event.objects.filter(case=case, kind=EventKind.TASK_COMPLETED).count(),
    }


def main(argv: list[str]) -> None:
    setup_django()
    command, *args = argv
    if command == "prepare":
        result = prepare(int(args[0]), float(args[1]), float(args[2]))
    elif command == "timers":
        result = timers([int(pk) for pk in args[0].split(",")])
    elif command == "finish-case":
        result = finish_case(int(args[0]))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
