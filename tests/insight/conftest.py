"""Cases walked to their end through the services, for the figures to count."""

from datetime import date, timedelta

import pytest

from tests.workflows.helpers import PERSON, open_tasks, run_to_end
from workflows import services

DISCHARGE_PARTICIPANTS = ("hospital", "health", "nav", "housing")
PRISON_PARTICIPANTS = ("prison", "nav", "health", "housing")


def housed(referral: date, moved_in: date, tenure="kommunal_utleiebolig") -> dict:
    return {
        "outcome": "bosatt",
        "outcome_tenure": tenure,
        "outcome_referral_date": referral.isoformat(),
        "outcome_housed_date": moved_in.isoformat(),
        "outcome_reason": "",
    }


def start(users, agencies, process_key, starter, kinds, national_id=PERSON["national_id"]):
    return services.start_case(
        actor=users[starter],
        process_key=process_key,
        person={"name": PERSON["name"], "national_id": national_id},
        participants={kind: agencies[kind].pk for kind in kinds},
    )


def discharge_case(users, agencies, *, ready: date, discharged: date, national_id=PERSON["national_id"]):
    case = start(users, agencies, "institution_discharge_to_housing", "siri", DISCHARGE_PARTICIPANTS, national_id)
    overrides = {
        "discharge_ready_date": ready.isoformat(),
        "discharge_date": discharged.isoformat(),
        **housed(ready - timedelta(days=10), discharged),
    }
    run_to_end(case, overrides)
    return case


def prison_case(users, agencies, *, outcome: dict | None = None, national_id=PERSON["national_id"]):
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, national_id)
    run_to_end(case, {"has_home": True, **(outcome or {"outcome": "bolig_beholdt", "outcome_reason": ""})})
    return case


@pytest.fixture
def finished_cases(shipped, users, agencies):
    """A discharge (housed after 12 days' wait) and a prison release (home kept)."""
    today = date.today()
    return [
        discharge_case(users, agencies, ready=today - timedelta(days=12), discharged=today),
        prison_case(users, agencies, national_id="01010012356"),
    ]


__all__ = ["open_tasks", "prison_case"]


def task_times(definition, agencies, year: int, rows) -> None:
    """Write the monthly task-time summary rows ``(month, element, agency kind, completed,
    late)`` of ``year`` for the whole municipality, each task held three days, every one with
    a deadline."""
    from insight.models import WHOLE_MUNICIPALITY, TaskTime

    TaskTime.objects.bulk_create(
        TaskTime(
            scope=WHOLE_MUNICIPALITY,
            month=date(year, month, 1),
            definition=definition,
            element_id=element,
            agency=agencies[agency],
            completed=completed,
            seconds=completed * 3 * 86400,
            with_deadline=completed,
            late=late,
        )
        for month, element, agency, completed, late in rows
    )
