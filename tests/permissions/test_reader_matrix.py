"""Every kind of reader against every kind of standing, through both forms of the lists'
visibility check and through statements compiled once per shape and shared by readers.

The lists decide in SQL (``rules._participates_with_grant``: ``EXISTS`` for agencies in few
cases, per-row checks walked in index order for busy ones; ``rules.listed_task_rows``), and
the task lists send a statement compiled for the first reader of a shape with the next
reader's ids in place (``workflows.task_lists``, ``rules.reader_shape``). Each list must hold
exactly what the rules decide one row at a time (``can_view_case``, the case page's rule,
and ``task_listed``), for a reader in two agencies, an agency taking part without its grant,
a grant without taking part, coordinators, auditors, process admins, two offices of one
kind, and after a withdrawal. A reader never gets another's rows through a shared statement.
"""

import itertools
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from permissions import rules
from permissions.grants import grant_agency_access, revoke_agency_access
from permissions.models import Agency, AgencyKind, Membership, Role
from tests.clients import api as _api
from tests.clients import web as _web
from tests.ids import task_key
from workflows import selectors
from workflows.models import Case, Task, TaskStatus

from .conftest import DISCHARGE_KINDS, OTHER_PERSON, PERSON, PRISON_KINDS, _start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FORMS = {"exists": 10**9, "walked": 1}  # WALK_FROM_PARTICIPATIONS for each form


def _agency(name, kind):
    group = Group.objects.create(name=f"agency:{name}")
    return Agency.objects.create(name=name, kind=kind, municipality="Sarpsborg", group=group)


def _user(name, memberships):
    user = get_user_model().objects.create_user(name, password="x")
    for agency, role in memberships:
        Membership.objects.create(user=user, agency=agency, role=role)
    return user


def _task(case, agency, mask, status=TaskStatus.OPEN):
    model = Task.objects.filter(case=case).first()
    return Task.objects.create(
        spiff_task_id=uuid.uuid4(),
        instance_id=model.instance_id,
        case=case,
        element_id=f"E{mask}",
        name=f"Oppgave {mask}",
        lane=agency.kind,
        agency=agency,
        path_categories=mask,
        status=status,
    )


@pytest.fixture
def standing(users, agencies, shipped):
    """Six cases whose standings differ, each with tasks of every participant on hidden and
    open paths; a second NAV office and a second housing office."""
    nav2, housing2 = _agency("NAV Fredrikstad", AgencyKind.NAV), _agency("Fredrikstad boligkontor", AgencyKind.HOUSING)
    a = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    b = _start(users["siri"], "institution_discharge_to_housing", OTHER_PERSON, agencies, DISCHARGE_KINDS)
    c = _start(users["kari"], "prison_release_to_housing", OTHER_PERSON, agencies, PRISON_KINDS)
    d = _start(users["siri"], "institution_discharge_to_housing", PERSON, agencies, DISCHARGE_KINDS)
    e = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    f = _start(users["kari"], "prison_release_to_housing", OTHER_PERSON, agencies, PRISON_KINDS)
    # c: housing takes part without its grant; the hospital holds a grant without taking part.
    revoke_agency_access(c, [agencies["housing"]])
    grant_agency_access(c, [agencies["hospital"]])
    # d: the second NAV office takes part with its grant; NAV's own grant is gone.
    d.participants.create(kind="nav2", agency=nav2)
    grant_agency_access(d, [nav2])
    revoke_agency_access(d, [agencies["nav"]])
    # e: the second housing office takes part, coordinates, but without a grant.
    e.participants.create(kind="housing2", agency=housing2)
    Case.objects.filter(pk=e.pk).update(coordinator_agency=housing2)
    # f: the health service holds its grant but no longer takes part.
    f.participants.filter(agency=agencies["health"]).delete()
    masks = (0, 1, 4, 8, 16, 32 | 8, 128, 2 | 4)
    for case in (a, b, c, d, e, f):
        for participant in Case.objects.get(pk=case.pk).participants.select_related("agency"):
            for mask in masks:
                _task(case, participant.agency, mask)
            _task(case, participant.agency, 0, status=TaskStatus.COMPLETED)
    return {"nav2": nav2, "housing2": housing2, "cases": [a, b, c, d, e, f]}


def _readers(users, agencies, standing):
    nav2, housing2 = standing["nav2"], standing["housing2"]
    made = {
        "two NAV offices": [(agencies["nav"], Role.MEMBER), (nav2, Role.MEMBER)],
        "NAV 2 alone": [(nav2, Role.MEMBER)],
        "housing 2 coordinator": [(housing2, Role.COORDINATOR)],
        "housing lead and hospital member": [(agencies["housing"], Role.LEAD), (agencies["hospital"], Role.MEMBER)],
        "coordinator of housing and NAV": [
            (agencies["housing"], Role.COORDINATOR),
            (agencies["nav"], Role.COORDINATOR),
        ],
        "auditor of health, member of prison": [(agencies["health"], Role.AUDITOR), (agencies["prison"], Role.MEMBER)],
        "process admin and health member": [
            (agencies["housing"], Role.PROCESS_ADMIN),
            (agencies["health"], Role.MEMBER),
        ],
        "member and coordinator of housing": [
            (agencies["housing"], Role.MEMBER),
            (agencies["housing"], Role.COORDINATOR),
        ],
        "hospital and health": [(agencies["hospital"], Role.MEMBER), (agencies["health"], Role.LEAD)],
        "municipality": [(agencies["municipality"], Role.MEMBER)],
        "auditor only": [(agencies["nav"], Role.AUDITOR)],
    }
    readers = {name: _user(f"r{index}", memberships) for index, (name, memberships) in enumerate(made.items())}
    for name in ("nils", "nora", "helga", "bjorn", "hanne", "lise", "siri", "kari", "ada", "aud", "oscar", "tove"):
        readers[name] = users[name]
    return readers


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def _truth(user, cases):
    """What the rules decide one row at a time: the case page's rule, then per task."""
    seen = {case.pk for case in cases if rules.can_view_case(_fresh(user), Case.objects.get(pk=case.pk))}
    reader = _fresh(user)
    tasks = set()
    for task in Task.objects.filter(case_id__in=seen).select_related("case"):
        if rules.task_listed(reader, task, task.case):
            tasks.add(task.pk)
    return seen, tasks


def _listed(user):
    from types import SimpleNamespace

    from workflows.filters import TaskFilter
    from workflows.task_lists import TaskListing

    reader = _fresh(user)
    cases = {case.pk for case in selectors.cases_for(reader)}
    filterset = TaskFilter({}, queryset=Task.objects.none(), request=SimpleNamespace(user=reader))
    assert filterset.is_valid()
    listing = TaskListing(_fresh(user), filterset)
    tasks = [task.pk for task in listing[0:1000]]
    assert len(tasks) == len(set(tasks))
    assert listing.count_upto(1000) == len(tasks)
    # Each row the reader's own: a statement shared with an earlier reader carries these ids.
    return cases, set(tasks)


def _api_ids(user, path):
    """Every row's id of an API list, page after page (a fresh user object per request)."""
    ids, url = [], path
    while url:
        answer = _api(_fresh(user)).get(url)
        assert answer.status_code == 200, (path, answer.status_code)
        ids += [row["id"] for row in answer.json()["results"]]
        url = answer.json()["next"]
    assert len(ids) == len(set(ids)), path
    return set(ids)


def _listed_over_http(user, cases):
    """The same lists as the API and the case list page give them, and the tasks of each
    case by ``?case=`` (read per row whatever the reader's reach)."""
    tasks = {task_key(public) for public in _api_ids(user, "/api/v1/tasks/?page_size=100")}
    listed = _api_ids(user, "/api/v1/cases/?page_size=4"), tasks
    page = _web(_fresh(user)).get("/cases/")
    assert page.status_code == 200
    assert {case.pk for case in page.context["cases"]} == listed[0]
    for case in cases:
        of_case = {task_key(public) for public in _api_ids(user, f"/api/v1/tasks/?case={case.pk}&page_size=100")}
        assert of_case == set(Task.objects.filter(pk__in=listed[1], case=case).values_list("pk", flat=True)), case.pk
    return listed


def test_every_reader_lists_exactly_what_the_rules_decide_row_by_row(users, agencies, standing, monkeypatch):
    readers = _readers(users, agencies, standing)
    truth = {name: _truth(user, standing["cases"]) for name, user in readers.items()}
    # Sanity: the standings do tell the readers apart.
    a, b, c, d, e, f = (case.pk for case in standing["cases"])
    assert truth["two NAV offices"][0] == {a, b, c, d, e, f} and truth["NAV 2 alone"][0] == {d}
    assert truth["nils"][0] == {a, b, c, e, f}  # NAV lost its grant on d
    assert truth["housing lead and hospital member"][0] == {a, b, d, e, f}  # c: neither agency has both
    assert truth["helga"][0] == {a, b, c, d, e}  # f: a grant without taking part
    assert not truth["auditor only"][0] and not truth["oscar"][0] and not truth["ada"][0]
    assert truth["tove"] == (set(), set())  # NAV's access administrator: no case, no task
    for form, order in itertools.product(FORMS, ("forward", "backward")):
        monkeypatch.setattr(rules, "WALK_FROM_PARTICIPATIONS", FORMS[form])
        names = list(readers) if order == "forward" else list(reversed(readers))
        for name in names:
            assert _listed(readers[name]) == truth[name], (form, order, name)


@pytest.mark.parametrize("form", FORMS)
def test_every_reader_gets_over_http_exactly_what_the_rules_decide(users, agencies, standing, monkeypatch, form):
    readers = _readers(users, agencies, standing)
    truth = {name: _truth(user, standing["cases"]) for name, user in readers.items()}
    monkeypatch.setattr(rules, "WALK_FROM_PARTICIPATIONS", FORMS[form])
    for name, user in readers.items():
        if not rules.case_agency_ids(_fresh(user)):
            continue  # no case role: the lists answer empty (the page itself may refuse)
        assert _listed_over_http(user, standing["cases"]) == truth[name], (form, name)


def test_a_withdrawal_takes_the_rows_away_at_once_from_a_statement_already_compiled(users, agencies, standing):
    a = standing["cases"][0]
    helga = users["helga"]
    before_cases, before_tasks = _listed(helga)
    assert a.pk in before_cases and Task.objects.filter(case=a, pk__in=before_tasks).exists()
    revoke_agency_access(a, [agencies["health"]])
    after_cases, after_tasks = _listed(helga)
    assert a.pk not in after_cases
    assert not Task.objects.filter(case=a, pk__in=after_tasks).exists()
    assert (after_cases, after_tasks) == _truth(helga, standing["cases"])
