"""Fixtures the workflow tests share: a prison-release case and its first NAV task."""

import pytest

from .helpers import complete, open_tasks, start_prison_case


@pytest.fixture
def case(shipped, users, agencies):
    return start_prison_case(users, agencies)


@pytest.fixture
def nav_task(case, users):
    """NAV's open task of the prison case (nils and nora work at NAV), after the intake."""
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    return next(task for task in open_tasks(case) if task.agency.kind == "nav")
