"""Walking cases through the services the way the agencies would."""

from datetime import UTC, datetime

from bench.samples import sample_form_data
from bpmn.registry import runtime_for
from permissions.models import CASE_ROLES, Membership
from workflows import services
from workflows.models import ACTIVE_TASK_STATUSES, Task

PRISON_PARTICIPANTS = ("prison", "nav", "health", "housing")
PERSON = {"name": "Ola Nordmann", "national_id": "17912099997"}


def start_prison_case(users, agencies, **kwargs):
    return services.start_case(
        actor=users["kari"],
        process_key="prison_release_to_housing",
        person=kwargs.pop("person", PERSON),
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
        **kwargs,
    )


def worker_for(task):
    """A user with a case role in the agency the task landed on."""
    membership = Membership.objects.filter(agency=task.agency, role__in=CASE_ROLES).select_related("user").first()
    return membership.user


def form_data(task, overrides=None):
    runtime = runtime_for(task.instance.definition_id)
    schema, _ = runtime.form_for(task.element_id)
    return sample_form_data(schema, overrides)


def open_tasks(case):
    return list(Task.objects.filter(case=case, status__in=ACTIVE_TASK_STATUSES).order_by("id"))


def complete(task, overrides=None, actor=None):
    return services.complete_task(actor=actor or worker_for(task), task_id=task.pk, data=form_data(task, overrides))


def run_to_end(case, overrides=None, limit=50):
    """Complete open tasks until none is left; returns the element ids in completion order."""
    done = []
    for _ in range(limit):
        tasks = open_tasks(case)
        if not tasks:
            return done
        complete(tasks[0], overrides)
        done.append(tasks[0].element_id)
    raise AssertionError(f"case {case} still has open tasks after {limit} completions")


def do_follow_up_visits(case, monkeypatch, rounds=6):
    """Move the clock a month at a time: the follow-up cycle fires (through the timer job,
    as the worker does) and each monthly visit is done. Returns the visits' element ids."""
    from tests.clock import Clock

    clock = Clock(monkeypatch, datetime.now(UTC))
    done = []
    for _ in range(rounds):
        assert not open_tasks(case)
        clock.advance(days=32)
        assert services.fire_timer("test")[0] == "fired"
        (visit,) = open_tasks(case)
        complete(visit)
        done.append(visit.element_id)
    return done
