"""The task-reader index after each kind of write a case meets (issue 12's index, reviewed):
the steps, a claim and its release, an agency joining and leaving, a grant taken away, a
withdrawal, a version migration, a follow-on case, an erasure. After each, the index holds
exactly a row per task and agency taking part (deadline and activity as the task's), and
every one-agency reader's lists read from it give the rows of the lists read without it,
each one the rules let them see: no stale row shows a task to someone who no longer may see
it, and none hides one."""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from bpmn.services import deploy_definition
from permissions import grants, rules
from retention.erasure import erase_case
from retention.models import ErasureTrigger
from tests.retention.helpers import archived
from workflows import services
from workflows.filters import TaskFilter
from workflows.models import Task
from workflows.services import versions
from workflows.task_lists import TaskListing

from .helpers import PERSON, complete, open_tasks, start_prison_case
from .test_follow_on import follow_on, referral  # noqa: F401 (a fixture)
from .test_task_reader import EVERY, expected, stored
from .version_models import FORMS, model

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

CAST = ("kari", "nils", "nora", "helga", "bjorn", "siri", "mona", "ada", "aud", "oscar")
FILTERS = ({}, {"status": "active"}, {"overdue": "true"}, {"status": "completed"}, {"case": None})


def _listing(user, filters, descending=False) -> list[int]:
    filterset = TaskFilter(filters, queryset=Task.objects.none(), request=SimpleNamespace(user=user))
    assert filterset.is_valid(), filterset.errors
    return [task.pk for task in TaskListing(user, filterset, descending=descending)[0:EVERY]]


def assert_index_follows_the_rules(case, monkeypatch):
    """The index equals the tasks and participations; every reader's lists with it equal the
    lists without it, and hold only tasks the reader may see."""
    assert stored() == expected()
    readers = [get_user_model().objects.get(username=name) for name in CAST]
    filters = [{**f, "case": case.pk} if "case" in f else f for f in FILTERS]
    indexed = {}
    for user in readers:
        rules.forget_case_access(case)
        for f in filters:
            for descending in (False, True):
                rows = _listing(get_user_model().objects.get(pk=user.pk), f, descending)
                indexed[user.username, str(f), descending] = rows
                fresh = get_user_model().objects.get(pk=user.pk)
                assert all(rules.can_view_task(fresh, Task.objects.get(pk=pk)) for pk in rows), (user, f)
    with monkeypatch.context() as patched:
        patched.setattr(rules, "task_reader_agency", lambda user: None)  # the lists without the index
        for user in readers:
            for f in filters:
                for descending in (False, True):
                    rows = _listing(get_user_model().objects.get(pk=user.pk), f, descending)
                    assert rows == indexed[user.username, str(f), descending], (user.username, f, descending)


def test_steps_claims_joining_leaving_withdrawal_and_a_lost_grant(shipped, users, agencies, monkeypatch):
    case = start_prison_case(users, agencies)
    assert_index_follows_the_rules(case, monkeypatch)
    (intake,) = open_tasks(case)
    services.claim_task(actor=users["kari"], task_id=intake.pk)
    assert_index_follows_the_rules(case, monkeypatch)
    complete(intake, {"has_home": False, "expected_release_date": "2028-01-15"}, actor=users["kari"])
    assert_index_follows_the_rules(case, monkeypatch)
    nav_task = next(t for t in open_tasks(case) if t.agency_id == agencies["nav"].pk)
    services.claim_task(actor=users["nils"], task_id=nav_task.pk)
    services.unclaim_task(actor=users["nils"], task_id=nav_task.pk)
    assert_index_follows_the_rules(case, monkeypatch)
    grants.add_participant(case, "hospital", agencies["hospital"])  # siri's agency joins
    assert_index_follows_the_rules(case, monkeypatch)
    assert any(row[1] == agencies["hospital"].pk for row in stored())
    grants.remove_participant(case, "hospital")  # and leaves
    assert_index_follows_the_rules(case, monkeypatch)
    assert not any(row[1] == agencies["hospital"].pk for row in stored())
    health = agencies["health"]
    if not Task.objects.filter(case=case, agency=health, status__in=("open", "claimed")).exists():
        services.withdraw_agency(actor=users["bjorn"], case=case.pk, agency=health.pk, reason="Ikke aktuelt lenger")
        assert_index_follows_the_rules(case, monkeypatch)
        assert not any(row[1] == health.pk for row in stored())
    # The grant alone taken away: the rows stay, the rules refuse them (the lists compared).
    grants.revoke_agency_access(case, [agencies["nav"]])
    assert_index_follows_the_rules(case, monkeypatch)
    assert _listing(get_user_model().objects.get(username="nils"), {"case": case.pk}) == []


def test_a_version_migration(db, users, agencies, monkeypatch):
    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=users["nils"], process_key="versioned", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    deploy_definition(actor=None, bpmn_xml=model(a_name="Ny", with_c=True), forms=FORMS, check_permission=False)
    versions.migrate_instances(actor=users["ada"], key="versioned", from_version=1)
    assert_index_follows_the_rules(case, monkeypatch)
    complete(open_tasks(case)[0])
    assert_index_follows_the_rules(case, monkeypatch)


def test_a_follow_on_case_and_an_erasure(referral, users, monkeypatch):  # noqa: F811
    new = follow_on(users, referral).case
    assert_index_follows_the_rules(new, monkeypatch)
    assert_index_follows_the_rules(referral, monkeypatch)
    archived(referral)
    erase_case(referral.pk, trigger=ErasureTrigger.REQUEST, actor=users["bjorn"], reason="Personen ba om det")
    assert_index_follows_the_rules(new, monkeypatch)
