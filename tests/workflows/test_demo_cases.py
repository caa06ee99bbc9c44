"""The demo cases of ``seed_demo``: the same seed gives the same cases, and every case is
what the real services would have left behind at the moments it claims."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from core.national_id import kind_of
from permissions.models import AccessLog
from workflows.demo_cases import seed_demo_cases
from workflows.jobs.queue import EXTERNAL_KINDS
from workflows.models import (
    ACTIVE_TASK_STATUSES,
    Case,
    CaseOutcome,
    CaseStatus,
    Event,
    EventKind,
    Job,
    JobKind,
    JobStatus,
    Person,
    Task,
)

PATHS = 14


def snapshot():
    """Everything a seeded case consists of, without row ids."""
    rows = []
    for case in Case.objects.select_related("person").order_by("opened_at", "reference"):
        outcome = CaseOutcome.objects.filter(case=case).select_related("kind").first()
        rows.append(
            (
                case.reference,
                case.process_key,
                case.person.name,
                case.person.national_id,
                case.status,
                case.opened_at,
                case.closed_at,
                case.data,
                outcome and (outcome.kind.code, outcome.tenure, outcome.referral_date, outcome.housed_date),
                [
                    (t.element_id, t.status, t.agency.kind, t.created_at, t.completed_at, t.completed_by_id)
                    for t in case.tasks.order_by("created_at", "element_id")
                ],
                [
                    (e.kind, e.element_id, e.created_at)
                    for e in case.events.order_by("created_at", "kind", "element_id")
                ],
            )
        )
    return rows


class _Undo(Exception):
    pass


def seeded_and_undone(**kwargs):
    """Seed, take the snapshot, and roll it all back (the access log's rows of the follow-on
    exports included: the log refuses deletes, not a rollback)."""
    try:
        with transaction.atomic():
            seed_demo_cases(PATHS, **kwargs)
            taken = snapshot()
            raise _Undo
    except _Undo:
        return taken


@pytest.fixture
def seeded(shipped, cast):
    now = timezone.now()
    result = seed_demo_cases(PATHS, now=now)
    return result, now


def test_the_same_seed_seeds_the_same_cases(shipped, cast):
    now = timezone.now()
    first = seeded_and_undone(now=now)
    assert len(first) >= PATHS
    assert seeded_and_undone(now=now) == first
    assert [row[3] for row in seeded_and_undone(seed=7, now=now)] != [row[3] for row in first]


def test_seeded_cases_are_consistent(seeded):
    result, now = seeded
    cases = list(Case.objects.select_related("person"))
    assert {c.status for c in cases} <= {CaseStatus.OPEN, CaseStatus.COMPLETED}
    assert (result.open, result.closed) == (
        sum(c.status == CaseStatus.OPEN for c in cases),
        sum(c.status == CaseStatus.COMPLETED for c in cases),
    )
    assert result.closed > 0
    # Spread over the past two years, none in the future.
    opened = sorted(c.opened_at for c in cases)
    assert opened[-1] < now and opened[0] > now - timedelta(days=731)
    assert opened[-1] - opened[0] > timedelta(days=180)
    for case in cases:
        assert kind_of(case.person.national_id) == "synthetic"
        assert case.reference.split("-")[1] == str(timezone.localdate(case.opened_at).year)
        end = case.closed_at or now
        events = list(case.events.all())
        assert events[0].kind == EventKind.CASE_STARTED
        # A closed case still learns that the person's path went on (the follow-on's start).
        assert all(case.opened_at <= e.created_at <= end for e in events if e.kind != EventKind.FOLLOW_ON_STARTED)
        for started in (e for e in events if e.kind == EventKind.FOLLOW_ON_STARTED):
            assert started.created_at == Case.objects.get(pk=started.detail["case"]).opened_at
        tasks = list(case.tasks.all())
        assert all(case.opened_at <= t.created_at <= (t.completed_at or end) <= end for t in tasks)
        assert all(t.completed_by.memberships.filter(agency=t.agency).exists() for t in tasks if t.completed_by)
        outcome = CaseOutcome.objects.filter(case=case).first()
        if case.status == CaseStatus.COMPLETED:
            assert not any(t.status in ACTIVE_TASK_STATUSES for t in tasks)
            assert outcome is not None and outcome.closed_date == timezone.localdate(case.closed_at)
            assert outcome.referral_date <= outcome.closed_date
            assert outcome.housed_date is None or outcome.referral_date <= outcome.housed_date <= outcome.closed_date
            assert case.events.filter(kind=EventKind.CASE_COMPLETED).count() == 1
        else:
            assert outcome is None and case.closed_at is None
            # Not stuck: work is waiting in an inbox, or a timer is due after the present.
            timer = Job.objects.filter(case=case, kind=JobKind.TIMER, status=JobStatus.PENDING).first()
            assert any(t.status in ACTIVE_TASK_STATUSES for t in tasks) or (timer and timer.due_at > now)
    # Past e-mails are not sent by the worker; nobody read anything yet.
    assert not Job.objects.filter(kind__in=EXTERNAL_KINDS).exists()
    # Only the follow-on cases' exports of what they carried over, by the housing contacts.
    assert set(AccessLog.objects.values_list("action", flat=True)) <= {"export"}
    assert Event.objects.filter(kind=EventKind.HANDOFF).exists()
    assert Task.objects.filter(status="completed").count() == result.tasks_completed


def test_a_person_path_continues_in_a_follow_on_case(seeded):
    person = next(p for p in Person.objects.all() if p.cases.count() > 1)
    first, second = person.cases.order_by("opened_at")[:2]
    assert first.status == CaseStatus.COMPLETED and first.outcome.kind.has_home
    assert second.process_key in {"settling_in", "eviction_prevention"} and second.opened_at > first.closed_at
    assert second.follows == first  # started as the follow-on of the first (start_follow_on)


@pytest.mark.parametrize("now", ["2026-12-05T04:20:00+00:00", "2026-12-05T05:53:04+00:00"])
def test_a_follow_on_case_opens_after_the_case_it_follows_closed_whatever_the_hour(shipped, cast, now):
    """The seed at 05:53 UTC that day put a follow-on's start on a weekend, moved back to the
    Friday before the case it follows closed: the services ran with the clock turned back."""
    from datetime import datetime

    seed_demo_cases(PATHS, now=datetime.fromisoformat(now))
    follow_ons = Case.objects.filter(follows__isnull=False).select_related("follows")
    assert follow_ons.exists()
    for case in follow_ons:
        assert case.opened_at > case.follows.closed_at, case.reference


def test_the_command_seeds_once_and_zero_skips_the_cases(shipped, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", "--cases", "0", stdout=out)
    assert not Case.objects.exists() and "kari" in out.getvalue()
    call_command("seed_demo", "--cases", "3", stdout=out)
    seeded = Case.objects.count()
    assert seeded >= 3
    call_command("seed_demo", "--cases", "3", stdout=out)
    assert Case.objects.count() == seeded and "already seeded" in out.getvalue()
