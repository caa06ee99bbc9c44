"""The retention tests walk prison-release cases with the workflow tests' helpers."""

import pytest
from django.utils import timezone

from tests.workflows.helpers import complete, open_tasks, start_prison_case
from workflows.models import Case, CaseStatus

from .helpers import PERSON


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
