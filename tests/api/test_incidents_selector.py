"""``selectors.incidents_for(user)`` only decides who sees incidents; narrowing (resolved or
open) is ``workflows.filters.IncidentFilter``'s, used by the API list."""

import inspect

import pytest
from django.utils import timezone

from core.errors import Forbidden
from workflows import selectors
from workflows.filters import IncidentFilter
from workflows.models import Incident, ProcessInstance

pytestmark = pytest.mark.django_db


@pytest.fixture
def incidents(prison_case):
    instance = ProcessInstance.objects.get(case=prison_case)
    open_one = Incident.objects.create(instance=instance, case=prison_case, kind="expression", error="boom")
    resolved = Incident.objects.create(
        instance=instance, case=prison_case, kind="expression", error="fixed", resolved_at=timezone.now()
    )
    return open_one, resolved


def test_incidents_for_returns_every_incident_newest_first_and_filters_nothing(users, incidents):
    open_one, resolved = incidents
    assert list(selectors.incidents_for(users["ada"])) == [resolved, open_one]
    assert list(inspect.signature(selectors.incidents_for).parameters) == ["user"]


def test_incidents_for_refuses_everyone_but_process_admins(users, incidents):
    for name in ("nils", "kari", "oscar"):
        with pytest.raises(Forbidden):
            selectors.incidents_for(users[name])


def test_the_filter_narrows_the_selector(users, incidents):
    open_one, resolved = incidents
    visible = selectors.incidents_for(users["ada"])
    assert list(IncidentFilter({"resolved": "true"}, visible).qs) == [resolved]
    assert list(IncidentFilter({"resolved": "false"}, visible).qs) == [open_one]
    assert list(IncidentFilter({}, visible).qs) == [resolved, open_one]
