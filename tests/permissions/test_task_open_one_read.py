"""Opening a task reads the task, its definition and the policy's rows (the reader's
memberships with their standing, the person's consents, the reader's break-glass openings)
in one statement (``workflows.selectors._opened_task``, ``rules.policy_reads``). It must
decide exactly as the reads of their own did (the path kept for SQLite, forced here with
``folds_rows`` off): the same answer or the same 404, and the same access-log rows, for
every kind of reader and standing: the task's own agency, another agency, the coordinator,
an auditor, a process admin, an outsider, a withdrawn agency, a consent given, revoked or
expired, a break-glass opening in force or expired, a reader whose memberships the request
had read already (the task page's), and a task on a branch the reader's path view hides."""

import datetime
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import NotFound
from permissions import rules
from permissions.grants import revoke_agency_access
from permissions.models import AccessLog, BreakGlass
from tests.ids import tid
from workflows import selectors
from workflows.models import Task
from workflows.services import open_break_glass, record_consent, revoke_consent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

READERS = ("kari", "nils", "nora", "helga", "bjorn", "siri", "ada", "aud", "oscar")
LOGGED = ("user_id", "username", "role", "agency_id", "case_id", "person_id", "category", "action", "basis")
REASON = "Akutt fare: trenger helseopplysninger nå"


@pytest.fixture
def client_for(users):
    from rest_framework.test import APIClient

    from accounts.tokens import issue

    def make(username):
        client = APIClient()
        token, _expiry = issue(users[username])
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def _open(user, task_id, *, folded: bool, monkeypatch, memberships_read: bool = False):
    """The answer (or "404"), the access-log rows it wrote and its statements."""
    monkeypatch.setattr(selectors, "folds_rows", lambda db: folded)
    reader = _fresh(user)
    if memberships_read:  # as the task page's middleware leaves the user
        rules.case_agency_ids(reader)
    last = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with CaptureQueriesContext(connection) as statements:
        try:
            view = selectors.task_view_for(reader, task_id)
        except NotFound:
            answer = "404"
        else:
            answer = (view.task.pk, view.form_schema, view.person, view.case_data)
    logged = [
        (*row[:-2], row[-2], row[-1])
        for row in AccessLog.objects.filter(id__gt=last)
        .order_by("id")
        .values_list(*LOGGED, "consent_id", "break_glass_id")
    ]
    return answer, logged, [query["sql"] for query in statements.captured_queries]


def _same_both_ways(users, task, monkeypatch, readers=READERS, *, memberships_read=False):
    """Each reader's answer and log rows, the same through the one statement and without it."""
    answers = {}
    for name in readers:
        folded = _open(users[name], task.pk, folded=True, monkeypatch=monkeypatch, memberships_read=memberships_read)
        apart = _open(users[name], task.pk, folded=False, monkeypatch=monkeypatch, memberships_read=memberships_read)
        assert folded[:2] == apart[:2], name
        reads = [sql for sql in folded[2] if sql.startswith("SELECT")]
        apart_reads = [sql for sql in apart[2] if sql.startswith("SELECT")]
        # One statement read the task and every row the policy decides from (more only when
        # a form's live choices or the path view ask their own): never more than apart, and
        # fewer for every answer that shows the task.
        assert len(reads) <= len(apart_reads), (name, reads)
        assert folded[0] == "404" or len(reads) < len(apart_reads), (name, reads)
        assert "policy_consents" in reads[0] and "policy_break_glass" in reads[0]
        answers[name] = folded[:2]
    return answers


def _prison_task(prison_case):
    return Task.objects.get(case=prison_case, status__in=("open", "claimed"))


def test_every_reader_gets_the_same_answer_and_log_rows(users, prison_case, monkeypatch):
    task = _prison_task(prison_case)
    answers = _same_both_ways(users, task, monkeypatch)
    assert answers["kari"][0] != "404" and answers["kari"][1]  # her agency's task: shown and logged
    assert answers["bjorn"][0] != "404"  # the coordinator
    for name in ("ada", "aud", "oscar", "siri"):  # no case role in a participating agency
        assert answers[name] == ("404", []), name


def test_memberships_read_before_the_task_decide_the_same(users, prison_case, monkeypatch):
    _same_both_ways(users, _prison_task(prison_case), monkeypatch, memberships_read=True)


def test_a_withdrawn_agency_sees_nothing_either_way(users, agencies, prison_case, monkeypatch):
    task = _prison_task(prison_case)
    assert _same_both_ways(users, task, monkeypatch, ("nils",))["nils"][0] != "404"
    revoke_agency_access(prison_case, [agencies["nav"]])
    assert _same_both_ways(users, task, monkeypatch, ("nils", "nora", "kari"))["nils"] == ("404", [])


def test_a_consent_given_revoked_or_expired(users, agencies, prison_case, consent_basis, monkeypatch):
    task = _prison_task(prison_case)
    expires = timezone.now() + datetime.timedelta(days=2)
    consent = record_consent(
        actor=users["bjorn"],
        case=prison_case,
        agency=agencies["nav"],
        categories=["housing", "health"],
        purpose="Oppfølging",
        legal_basis=consent_basis,
        expires_at=expires,
    )
    given = _same_both_ways(users, task, monkeypatch, ("nils", "helga", "kari"))
    nils_answer, nils_logged = given["nils"]
    assert nils_answer[3]["health"].basis == f"consent:{consent.pk}"
    assert any(row[-2] == consent.pk for row in nils_logged)

    later = expires + datetime.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    expired = _same_both_ways(users, task, monkeypatch, ("nils",))["nils"]
    assert not expired[0][3]["health"].visible
    monkeypatch.undo()

    revoke_consent(actor=users["bjorn"], consent_id=consent.pk)
    revoked = _same_both_ways(users, task, monkeypatch, ("nils", "nora"))["nils"]
    assert not revoked[0][3]["health"].visible and not any(row[-2] for row in revoked[1])


def test_a_break_glass_opening_in_force_and_expired(users, prison_case, monkeypatch):
    task = _prison_task(prison_case)
    grant = open_break_glass(actor=users["nils"], case=prison_case.pk, category="health", reason=REASON)
    opened = _same_both_ways(users, task, monkeypatch, ("nils", "nora", "helga"))
    assert opened["nils"][0][3]["health"].basis == f"break-glass:{grant.pk}"
    assert any(row[-1] == grant.pk for row in opened["nils"][1])
    assert not opened["nora"][0][3]["health"].visible  # personal

    later = grant.expires_at + datetime.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    expired = _same_both_ways(users, task, monkeypatch, ("nils",))["nils"]
    assert not expired[0][3]["health"].visible and not any(row[-1] for row in expired[1])
    assert BreakGlass.objects.filter(pk=grant.pk).exists()


def test_a_task_on_a_branch_the_path_hides(users, agencies, prison_case, consent_basis, monkeypatch):
    """Another agency's task whose path read health (``Task.path_categories``): the path view
    decides from the consents the one statement read (``read_once``)."""
    model = _prison_task(prison_case)
    hidden = Task.objects.create(
        spiff_task_id=uuid.uuid4(),
        instance_id=model.instance_id,
        case=prison_case,
        element_id=model.element_id,
        name="Oppgave på en gren",
        lane="health",
        agency=agencies["health"],
        path_categories=rules.path_mask(["health"]),
    )
    _same_both_ways(users, hidden, monkeypatch, ("kari", "nils", "helga", "bjorn"))
    record_consent(
        actor=users["bjorn"],
        case=prison_case,
        agency=agencies["nav"],
        categories=["health"],
        purpose="Oppfølging",
        legal_basis=consent_basis,
    )
    _same_both_ways(users, hidden, monkeypatch, ("nils", "kari"))


def test_the_api_answer_is_the_same_and_reads_once(users, prison_case, client_for, monkeypatch):
    task = _prison_task(prison_case)
    answers = []
    for folded in (True, False):
        monkeypatch.setattr(selectors, "folds_rows", lambda db, folded=folded: folded)
        with CaptureQueriesContext(connection) as statements:
            response = client_for("kari").get(f"/api/v1/tasks/{tid(task.pk)}/")
        assert response.status_code == 200
        answers.append((response.json(), len(statements.captured_queries)))
    (folded_answer, folded_count), (apart_answer, apart_count) = answers
    assert folded_answer == apart_answer
    # apart: the token, the task, the memberships, the definition, consents, openings, the
    # version the case runs (its path view: what a hidden step wrote), then the log; folded:
    # the token, the task with the rest, the log
    assert apart_count - folded_count == 5, (folded_count, apart_count)
