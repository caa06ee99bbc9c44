"""A process admin who also works cases (a member of NAV here) sees case data only as a
member: the process admin's views that name cases (moving running cases, incidents) show
where each case stands, which the member's own view of a case hides when a gateway read a
value masked to them. Holding both roles, they would read, by the case's reference, the
branch the health service's gateway took. So those views are for a process admin who works
no cases (separation of duties, as an auditor never reviews their own break-glass opening);
editing, deploying, the legal bases and the retention rules stay theirs."""

import pytest
from django.contrib.auth import get_user_model

from bpmn.services import deploy_definition
from permissions.models import Membership, Role
from tests.api.test_gateway_inference import BRANCH, HEALTH_FORM, HOUSING_FORM, NAV_FORM, branched_case, diagram, model
from tests.clients import api, web

pytestmark = pytest.mark.django_db

__all__ = ["branched_case"]  # the fixture, imported for its use here
FORMS = {"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM, "n.schema.json": NAV_FORM}
MIGRATE_PAGE = "/processes/Proc_branch/versions/1/migrate/?to_version=2"
MIGRATE_API = "/api/v1/process-definitions/Proc_branch/versions/1/migration/?to_version=2"


@pytest.fixture
def admin_at_nav(agencies):
    user = get_user_model().objects.create_user("ada-at-nav", password="x")
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.MEMBER)
    Membership.objects.create(user=user, agency=agencies["housing"], role=Role.PROCESS_ADMIN)
    return user


@pytest.fixture
def second_version(branched_case):
    deploy_definition(
        actor=None,
        bpmn_xml=model().replace('name="Branch on health"', 'name="Branch on health, v2"'),
        forms=FORMS,
        check_permission=False,
    )
    return branched_case


def test_a_process_admin_who_works_cases_is_not_shown_where_they_stand(second_version, admin_at_nav, users):
    case = second_version
    # As a NAV member they see the case, never the branch the health value chose.
    completed, active = diagram(admin_at_nav, case)
    assert BRANCH[0] not in completed | active
    page = web(admin_at_nav).get(MIGRATE_PAGE)
    assert page.status_code == 403 and BRANCH[0] not in page.content.decode()
    answer = api(admin_at_nav).get(MIGRATE_API)
    assert answer.status_code == 403 and BRANCH[0] not in answer.content.decode()
    assert api(admin_at_nav).post(MIGRATE_API.split("?")[0], {"to_version": 2}, format="json").status_code == 403
    assert api(admin_at_nav).get("/api/v1/incidents/").status_code == 403
    # The process admin who works no cases moves them, as before.
    page = web(users["ada"]).get(MIGRATE_PAGE)
    assert page.status_code == 200 and case.reference not in page.content.decode()
    assert BRANCH[0] in page.content.decode()  # the element, with its count: under 5


def test_a_process_admin_who_works_cases_still_edits_and_deploys(second_version, admin_at_nav):
    deployed = api(admin_at_nav).post(
        "/api/v1/process-definitions/",
        {"bpmn_xml": model().replace('name="Branch on health"', 'name="v3"'), "forms": FORMS},
        format="json",
    )
    assert deployed.status_code == 201, deployed.content
    assert web(admin_at_nav).get("/processes/Proc_branch/").status_code == 200
