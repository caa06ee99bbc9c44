"""The retention tests walk prison-release cases with the workflow tests' helpers."""

import pytest
from django.utils import timezone

from tests.workflows.helpers import complete, open_tasks, start_prison_case
from workflows.models import Case, CaseStatus

from .helpers import ECONOMY_VALUE, HEALTH_VALUE, JUSTICE_VALUE, PERSON


@pytest.fixture
def case(shipped, users, agencies):
    return start_prison_case(users, agencies)


@pytest.fixture
def closed_case(shipped, users, agencies):
    """A prison case after the intake (its form data written), then closed."""
    case = start_prison_case(users, agencies, person=PERSON)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False, "housing_situation": "uten_bolig"}, actor=users["kari"])
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    case.refresh_from_db()
    return case


@pytest.fixture
def carrying_case(closed_case, settings):
    """The closed case holding health, economy and justice data, with health and economy in
    the case file besides the defaults (identity, housing, coordination) and justice not."""
    settings.BROBYGGER = {
        **settings.BROBYGGER,
        "RETENTION_CASE_FILE_CATEGORIES": ("identity", "housing", "coordination", "health", "economy"),
    }
    data = {
        **closed_case.data,
        "treatment_plan": HEALTH_VALUE,
        "economy_notes": ECONOMY_VALUE,
        "confirmed_release_date": JUSTICE_VALUE,
    }
    Case.objects.filter(pk=closed_case.pk).update(data=data)
    closed_case.refresh_from_db()
    return closed_case
