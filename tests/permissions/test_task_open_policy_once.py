"""Opening a task decides what its reader sees of the case data once, not twice, when their path
view hides nothing (``workflows.selectors._opened_case_data``).

The path view (which branches a reader may not be told of) decides from what the reader sees of
the case data; the answer is those same views, less what a step on a hidden branch wrote, and
logged. It computed them twice (the path view's unlogged pass, then the answer's logged one).
Now the answer's views, with their log rows held back, serve the path view too: inserted when
it hides no field, made again without the hidden fields when it does. The answer and the
access-log rows must be exactly the two passes' for every reader."""

import pytest
from django.contrib.auth import get_user_model

from permissions import policy, rules
from permissions.models import AccessLog, Membership, Role
from workflows import selectors
from workflows.models import Task

pytestmark = pytest.mark.django_db

LOGGED = ("user_id", "username", "role", "agency_id", "case_id", "person_id", "category", "action", "basis")
READER_AGENCIES = ("prison", "nav", "health", "housing")


@pytest.fixture
def readers(agencies):
    """A caseworker of each participating agency (their own users, not the demo cast's)."""
    found = {}
    for kind in READER_AGENCIES:
        user = get_user_model().objects.create_user(f"leser-{kind}", password="eget-passord")
        Membership.objects.create(user=user, agency=agencies[kind], role=Role.MEMBER)
        found[kind] = user
    return found


def _logged_since(last: int) -> list:
    return list(AccessLog.objects.filter(id__gt=last).order_by("id").values_list(*LOGGED))


def _last_log_id() -> int:
    return AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _two_passes(user, task_id):
    """The answer's case data as it was made before: the path view's own unlogged pass
    (``branch_fields_hidden``), then the answer's logged pass without the hidden fields."""
    with rules.read_once():
        task, definition_id, at = selectors._opened_task(user, task_id)
        runtime = selectors.runtime_for(definition_id)
        fields = runtime.field_rules
        person_read: list = []
        person = policy.person_for(user, task.case, fields, task=task, logged=person_read, at=at)
        hidden = selectors.branch_fields_hidden(user, task.case, runtime)
        data = policy.case_data_for(user, task.case, fields, task=task, at=at, also_log=person_read, hidden=hidden)
        return person, data, hidden


def _counting_case_data_for(monkeypatch) -> list:
    calls: list = []
    original = policy.case_data_for

    def counted(*args, **kwargs):
        calls.append(kwargs.get("hidden", ()))
        return original(*args, **kwargs)

    monkeypatch.setattr(policy, "case_data_for", counted)
    return calls


def _reader(user):
    return get_user_model().objects.get(pk=user.pk)  # a new request's user: no remembered reads


def test_an_opened_task_shows_and_logs_what_the_two_passes_did(readers, prison_case, monkeypatch):
    task = Task.objects.get(case=prison_case, status__in=("open", "claimed"))
    hides = {}
    for kind, user in readers.items():
        before = _last_log_id()
        person, expected, hidden = _two_passes(_reader(user), task.pk)
        expected_rows = _logged_since(before)

        calls = _counting_case_data_for(monkeypatch)
        before = _last_log_id()
        view = selectors.task_view_for(_reader(user), task.pk)
        rows = _logged_since(before)
        monkeypatch.undo()

        assert view.case_data == expected, kind
        assert view.person == person, kind
        assert rows == expected_rows and rows, kind
        # once when nothing is hidden; when fields are, once more for the answer without them
        assert len(calls) == (2 if hidden else 1), (kind, hidden)
        hides[kind] = bool(hidden)
    # both ways taken: the housing office is told every branch, the others not all of them
    assert hides == {"prison": True, "nav": True, "health": True, "housing": False}


def test_a_reader_whose_path_view_hides_fields_is_not_shown_them(readers, prison_case, monkeypatch):
    """The release date the intake wrote, written over on the no-home branch (``data_common``),
    for a reader from whom that branch is hidden: the answer (made again) leaves the branch's
    value out, as the two passes did, and its rows are logged once."""
    task = Task.objects.get(case=prison_case, status__in=("open", "claimed"))
    prison_case.data = {**prison_case.data, "expected_release_date": "2027-05-01"}
    prison_case.save(update_fields=["data"])
    for kind, user in readers.items():
        before = _last_log_id()
        _person, expected, hidden = _two_passes(_reader(user), task.pk)
        expected_rows = _logged_since(before)
        before = _last_log_id()
        view = selectors.task_view_for(_reader(user), task.pk)
        assert view.case_data == expected, (kind, hidden)
        assert _logged_since(before) == expected_rows, kind
