"""Lists and the case page agree for someone who works in two agencies.

A case is seen through *one* agency that both takes part in it and whose group holds the
guardian grant ``view_case`` on it (``rules._participating_memberships``, the case page).
The lists once checked the two separately over all the user's agencies, so a user in
housing (which takes part in the prison case but lost its grant) and in the hospital (whose
group holds a grant on that case but does not take part) saw the case in every list while
its page answered 404. Here every list of the API and the pages is read as that user, in
both ways the lists are read (few participations: ``EXISTS``; many: per-row checks), and
each must list exactly the cases whose page opens.
"""

import pytest
from django.contrib.auth import get_user_model

from permissions import rules
from permissions.grants import grant_agency_access, revoke_agency_access
from permissions.models import Membership, Role
from tests.clients import api as _api
from tests.clients import web as _web
from workflows.models import Case, Task

from .conftest import DISCHARGE_KINDS, OTHER_PERSON, PERSON, PRISON_KINDS, _start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(params=["few cases", "many cases"])
def read_as(request, monkeypatch):
    """Both plans of the lists: ``EXISTS`` (an agency in few cases) and the per-row checks
    PostgreSQL walks in index order (an agency in ``WALK_FROM_PARTICIPATIONS`` or more)."""
    if request.param == "many cases":
        monkeypatch.setattr(rules, "WALK_FROM_PARTICIPATIONS", 1)
    return request.param


@pytest.fixture
def split_standing(users, agencies, shipped):
    """The prison case (housing takes part, its grant withdrawn; the hospital, which does
    not take part, holds a grant) and the discharge case (both take part with grants)."""
    prison = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    discharge = _start(users["siri"], "institution_discharge_to_housing", OTHER_PERSON, agencies, DISCHARGE_KINDS)
    housing, hospital = agencies["housing"], agencies["hospital"]
    assert revoke_agency_access(prison, [housing]) == 1
    grant_agency_access(prison, [hospital])
    assert prison.participants.filter(agency=housing).exists()
    assert not prison.participants.filter(agency=hospital).exists()
    return prison, discharge


def _user(name, memberships):
    user = get_user_model().objects.create_user(name, password="x")
    for agency, role in memberships:
        Membership.objects.create(user=user, agency=agency, role=role)
    return user


def _api_rows(user, path):
    response = _api(user).get(path)
    assert response.status_code == 200, response.content
    assert response.json()["next"] is None
    return response.json()["results"]


def _web_rows(user, path, name):
    response = _web(user).get(path)
    assert response.status_code == 200
    return list(response.context[name])


def _opens(user, case) -> bool:
    """Whether the case page opens (API and page must answer alike)."""
    api = _api(user).get(f"/api/v1/cases/{case.pk}/").status_code
    page = _web(user).get(f"/cases/{case.pk}/").status_code
    assert {api, page} <= {200, 404} and api == page, (api, page)
    return api == 200


def _listed_case_ids(user):
    tasks = {row["id"] for row in _api_rows(user, "/api/v1/tasks/")}
    tasks |= {
        task.pk
        for tab in ("mine", "agency", "responsible", "overdue")
        for task in _web_rows(user, f"/tasks/?tab={tab}", "tasks")
    }
    caseload = _api(user).get("/api/v1/caseload/").json()
    return {
        "api cases": {row["id"] for row in _api_rows(user, "/api/v1/cases/")},
        "api and inbox tasks": set(Task.objects.filter(pk__in=tasks).values_list("case_id", flat=True)),
        "web cases": {case.pk for case in _web_rows(user, "/cases/", "cases")},
        "today": {case.pk for case in _web_rows(user, "/today/", "cases")},
        "caseload open cases": sum(row["open_cases"] for load in caseload for row in load["rows"]),
    }


def test_a_user_in_two_agencies_sees_in_the_lists_exactly_the_cases_whose_page_opens(split_standing, agencies, read_as):
    prison, discharge = split_standing
    tove = _user("tone", [(agencies["housing"], Role.LEAD), (agencies["hospital"], Role.MEMBER)])
    Case.objects.filter(pk__in=[prison.pk, discharge.pk]).update(responsible=tove)  # both on her "today"

    assert not _opens(tove, prison)
    assert _opens(tove, discharge)
    assert _listed_case_ids(tove) == {
        "api cases": {discharge.pk},
        "api and inbox tasks": {discharge.pk},
        "web cases": {discharge.pk},
        "today": {discharge.pk},
        "caseload open cases": 1,
    }
    for path in (f"/api/v1/cases/{prison.pk}/person/", f"/cases/{prison.pk}/person/"):
        assert (_api(tove) if "api" in path else _web(tove)).get(path).status_code == 404, path

    # Once the hospital takes part as well, the prison case is seen through it, everywhere.
    Case.objects.get(pk=prison.pk).participants.create(kind="hospital", agency=agencies["hospital"])
    assert _opens(tove, prison)
    listed = _listed_case_ids(tove)
    assert listed["api cases"] == listed["web cases"] == {prison.pk, discharge.pk}


def test_an_auditor_in_two_agencies_lists_only_the_cases_whose_log_they_may_read(split_standing, agencies, read_as):
    prison, discharge = split_standing
    audun = _user("audun", [(agencies["housing"], Role.AUDITOR), (agencies["hospital"], Role.AUDITOR)])

    assert [rules.can_view_access_log(audun, case) for case in (prison, discharge)] == [False, True]
    assert {case.pk for case in _web_rows(audun, "/audit/", "cases")} == {discharge.pk}
    assert _api(audun).get(f"/api/v1/cases/{prison.pk}/access-log/").status_code == 404
    assert _api(audun).get(f"/api/v1/cases/{discharge.pk}/access-log/").status_code == 200


def test_a_coordinator_role_counts_only_in_the_coordinating_agency_that_has_its_grant(users, agencies, shipped):
    """The access log and the coordinator's retention actions (erasure, corrections) belong
    to coordinators of the case's coordinating agency while it takes part with its grant. A
    coordinator of housing who is also a coordinator at NAV (which takes part) once read the
    log after housing's grant was withdrawn: the two memberships were checked apart."""
    prison = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    assert prison.coordinator_agency_id == agencies["housing"].pk
    both = _user("two-hats", [(agencies["housing"], Role.COORDINATOR), (agencies["nav"], Role.COORDINATOR)])
    assert _opens(both, prison)  # through NAV, with housing's grant
    assert _api(both).get(f"/api/v1/cases/{prison.pk}/access-log/").status_code == 200

    assert revoke_agency_access(prison, [agencies["housing"]]) == 1
    prison = Case.objects.get(pk=prison.pk)
    assert _opens(both, prison)  # NAV still takes part: the case itself stays open to them
    assert not rules.can_view_access_log(both, prison)
    assert not rules.is_case_coordinator(both, prison)
    assert _api(both).get(f"/api/v1/cases/{prison.pk}/access-log/").status_code in (403, 404)
    assert _web(both).get(f"/cases/{prison.pk}/retention/").status_code in (403, 404)
