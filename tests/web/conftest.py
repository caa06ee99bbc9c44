"""Web UI fixtures: Django test clients for the demo cast and a prison-release case."""

import pytest
from django.test import Client

from tests.workflows.helpers import PRISON_PARTICIPANTS, start_prison_case

# tove: NAV's access administrator, who gives roles and sees no case data.
CAST = ("kari", "nils", "nora", "helga", "bjorn", "siri", "ada", "aud", "oscar", "tove")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def web(users):
    """``web("nils")``: a test client logged in as nils (``web(None)``: anonymous)."""

    def make(username):
        client = Client()
        if username is not None:
            client.force_login(users[username])
        return client

    return make


@pytest.fixture
def prison_case(users, agencies, shipped):
    return start_prison_case(users, agencies)


def open_task(case, element_id):
    from workflows.models import ACTIVE_TASK_STATUSES, Task

    return Task.objects.get(case=case, element_id=element_id, status__in=ACTIVE_TASK_STATUSES)


INTAKE_NO_HOME = {
    "housing_situation": "uten_bolig",
    "has_home": "false",
    "consent_municipality": "true",
    "consent_nav": "true",
    "expected_release_date": "2027-03-01",
}
HEALTH_PLAN = {"treatment_plan": "LAR, oppfølging hver uke", "substance_use_follow_up": "true", "gp_assigned": "false"}

__all__ = ["CAST", "HEALTH_PLAN", "INTAKE_NO_HOME", "PRISON_PARTICIPANTS", "open_task"]
