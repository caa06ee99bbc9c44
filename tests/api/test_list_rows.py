"""The timeline, the access log (and the person's access report) and the incidents write their
rows out by hand (``api.serializers``): the answer is DRF's own field-by-field answer, value
for value and format for format, for rows of every kind those lists hold."""

import datetime

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from api.serializers import AccessLogSerializer, EventSerializer, IncidentSerializer, PersonAccessGroupSerializer
from permissions.models import AccessLog, BreakGlass, Consent
from tests.query_counts import Growth
from workflows import selectors
from workflows.jobs.models import Job
from workflows.models import Event, EventKind, Incident, ProcessInstance

pytestmark = pytest.mark.django_db


def drf_own(serializer) -> callable:
    return lambda row: serializers.Serializer.to_representation(serializer, row)


def written_as_drf_writes(serializer, rows) -> list[dict]:
    """Each row by the serializer's own ``to_representation`` and by DRF's walk over its
    fields, in two time zones: equal, fields in the declared order."""
    for zone in ("UTC", "Europe/Oslo"):
        with timezone.override(zone):
            written = [serializer.to_representation(row) for row in rows]
            assert written == [drf_own(serializer)(row) for row in rows]
            assert all(list(row) == list(serializer.fields) for row in written)
    return written


@pytest.fixture
def growth(users, agencies, shipped, consent_basis):
    growth = Growth(users, agencies, consent_basis)
    growth.step()
    return growth


def test_timeline_events_are_written_as_drf_writes_them(growth, users):
    request = APIRequestFactory().get("/")
    for reader in ("bjorn", "ada"):  # ada (process admin) reads an incident's error text in its detail
        request.user = users[reader]
        serializer = EventSerializer(context={"request": request})
        events = list(selectors._timeline(growth.subject.pk))
        bare = list(selectors._timeline(growth.subject.pk))[-1]  # one without element, task or agencies
        bare.element_id, bare.detail = "", {}
        bare.task = bare.agency = bare.from_agency = bare.to_agency = None
        events.append(bare)
        Event.objects.create(
            case=growth.subject, kind=EventKind.INCIDENT, element_id="Task_x", detail={"error": "boom", "kind": "x"}
        )
        events += list(selectors._timeline(growth.subject.pk).filter(kind=EventKind.INCIDENT))
        written = written_as_drf_writes(serializer, events)
        assert any(row["from_agency"] and row["to_agency"] for row in written)  # a handoff
        assert any(row["actor"] and row["task"] for row in written) and any(row["actor"] is None for row in written)
        assert any(row["element_id"] == "" and row["agency"] is None for row in written)


def test_access_log_rows_are_written_as_drf_writes_them(growth, users):
    subject = growth.subject
    grant = BreakGlass.objects.filter(case=subject).first()
    AccessLog.objects.create(
        user=users["kari"],
        username="kari",
        role="member",
        agency=grant.agency,
        case=subject,
        person=subject.person,
        category="economy",
        basis=f"break-glass:{grant.pk}",
        break_glass=grant,
    )
    consent = Consent.objects.filter(case=subject).first()
    AccessLog.objects.create(
        user=users["nils"],
        username="nils",
        role="member",
        agency=consent.agency,
        case=subject,
        person=subject.person,
        category="housing",
        basis=f"consent:{consent.pk}",
        consent=consent,
    )
    AccessLog.objects.create(username="systemet", role="", case=None, category="identity", basis="system")
    rows = list(AccessLog.objects.select_related("agency", "user", "break_glass", "case").order_by("-at", "-id"))
    written = written_as_drf_writes(AccessLogSerializer(), rows)
    assert any(row["break_glass_reason"] for row in written) and any(row["consent"] for row in written)
    assert any(row["agency"] is None for row in written)
    groups = selectors.access_groups_shown(
        users["bjorn"], selectors.access_groups(AccessLog.objects.filter(case=subject)), [subject]
    )
    entries = written_as_drf_writes(PersonAccessGroupSerializer(), groups)
    assert any(row["break_glass_reason"] for row in entries) and any(row["agency"] for row in entries)


def test_incidents_are_written_as_drf_writes_them(growth, users):
    subject = growth.subject
    instance = ProcessInstance.objects.filter(case=subject).first()
    job = Job.objects.create(
        kind="webhook", status="failed", due_at=timezone.now(), attempts=5, last_error="503", case=subject
    )
    Incident.objects.create(
        instance=instance,
        case=subject,
        kind="job",
        element_id="",
        error="webhook gave up",
        job=job,
        attempts=3,
        resolved_at=timezone.now() - datetime.timedelta(microseconds=3),
        resolved_by=users["ada"],
    )
    rows = list(selectors.incidents_for(users["ada"]))
    written = written_as_drf_writes(IncidentSerializer(), rows)
    assert any(row["job"] and row["resolved_by"] == "ada" and row["resolved_at"] for row in written)
    assert any(row["job"] is None and row["resolved_at"] is None for row in written)
