"""The retention tests walk prison-release cases with the workflow tests' helpers."""

import pytest

from tests.workflows.helpers import start_prison_case


@pytest.fixture
def case(shipped, users, agencies):
    return start_prison_case(users, agencies)
