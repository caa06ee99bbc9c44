"""The lists of access logs decide per case exactly as ``rules.can_view_access_log`` does.

The person's access report (API and page) gathers the access log of each of the person's
cases whose log the reader may read (``rules.cases_with_readable_access_log``). Who accessed
a person's data, and which agencies did, is itself confidential (that someone is in
treatment or in prison): the report must not hold a case whose own log the reader is
refused, and must not leave out one they read. Both the coordinator's role (it counts only
in the case's coordinating agency while that agency takes part with its grant) and the
auditor's (an auditor of an agency that takes part with its grant) are read per agency,
never over all the reader's agencies at once.
"""

import pytest
from django.contrib.auth import get_user_model

from permissions import rules
from permissions.grants import revoke_agency_access
from permissions.models import Membership, Role
from tests.clients import api as _api
from tests.clients import web as _web
from workflows.models import Case

from .conftest import PERSON, PRISON_KINDS, _start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(params=["few cases", "many cases"])
def read_as(request, monkeypatch):
    """Both forms of the visibility check (``EXISTS``; per-row checks in index order)."""
    if request.param == "many cases":
        monkeypatch.setattr(rules, "WALK_FROM_PARTICIPATIONS", 1)
    return request.param


def _user(name, memberships):
    user = get_user_model().objects.create_user(name, password="x")
    for agency, role in memberships:
        Membership.objects.create(user=user, agency=agency, role=role)
    return user


def _two_cases(users, agencies):
    """Two prison cases of the same person, both coordinated by housing; each read once by
    the health service, so each has access-log rows of its own."""
    first = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    second = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    assert first.person_id == second.person_id
    assert first.coordinator_agency_id == second.coordinator_agency_id == agencies["housing"].pk
    for case in (first, second):
        assert _api(users["helga"]).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    return first, second


def _report(user, case) -> dict:
    response = _api(user).get(f"/api/v1/cases/{case.pk}/person-access-report/")
    assert response.status_code == 200, response.content
    return response.json()


def _assert_report_follows_the_rule(user, report_case, cases):
    readable = {case.pk for case in cases if rules.can_view_access_log(user, Case.objects.get(pk=case.pk))}
    report = _report(user, report_case)
    assert {row["id"] for row in report["cases"]} == readable
    assert {row["case"]["id"] for row in report["entries"]} <= readable
    assert "withheld_cases" not in report  # whether the person has other cases is not told
    page = _web(user).get(f"/cases/{report_case.pk}/person-access-report/")
    assert page.status_code == 200
    assert {case.pk for case in page.context["report"].cases} == readable
    return readable


def test_a_coordinator_in_two_agencies_gets_no_log_of_a_case_whose_coordinating_agency_lost_its_grant(
    users, agencies, shipped, read_as
):
    first, second = _two_cases(users, agencies)
    both = _user("two-hats", [(agencies["housing"], Role.COORDINATOR), (agencies["nav"], Role.COORDINATOR)])
    assert revoke_agency_access(second, [agencies["housing"]]) == 1
    # NAV still takes part in the second case with its grant: the case opens to them, its log does not.
    assert _api(both).get(f"/api/v1/cases/{second.pk}/").status_code == 200
    assert _api(both).get(f"/api/v1/cases/{second.pk}/access-log/").status_code in (403, 404)

    assert _assert_report_follows_the_rule(both, first, [first, second]) == {first.pk}


def test_a_coordinator_who_also_audits_gets_the_log_they_read_as_auditor(users, agencies, shipped, read_as):
    first, second = _two_cases(users, agencies)
    both = _user("coordinator-auditor", [(agencies["housing"], Role.COORDINATOR), (agencies["health"], Role.AUDITOR)])
    assert revoke_agency_access(second, [agencies["housing"]]) == 1
    # Health takes part in the second case with its grant: its auditor reads that case's log.
    assert _api(both).get(f"/api/v1/cases/{second.pk}/access-log/").status_code == 200

    assert _assert_report_follows_the_rule(both, first, [first, second]) == {first.pk, second.pk}
