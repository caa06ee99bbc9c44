"""The person's access report groups reads alike on one day into one line; two reads whose
bases differ only in an element of a branch hidden from the reader are alike to them.

The health service's system fetched two external tasks on the branch a diagnosis chose.
The reader (the housing coordinator, who may not see health data) is told that the health
service's system got health data, not which element ran: which one tells the branch, so the
basis is shown without it (``rules.masked_basis``). The report grouped the reads by the basis
as stored and masked each line afterwards: two elements made two lines, the same element
twice one line with two reads, so the number of lines told how many hidden elements ran
(a branch with two such steps from one that runs one step twice), where the access log
row by row tells nothing of it. Now the lines are grouped by the basis as the reader is
shown it."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from bpmn.services import deploy_definition
from permissions.models import AccessAction, AccessLog, Membership, Role
from tests.clients import api, web
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.service_models import FORMS
from workflows import selectors, services

from .test_external_task_branch_values import ROUTE_TO_HOUSING
from .test_external_tasks import ASSESS_FORM

pytestmark = pytest.mark.django_db


def _user(name, agency, role):
    user = get_user_model().objects.create_user(name, password="x", first_name=name.capitalize())
    Membership.objects.create(user=user, agency=agency, role=role)
    return user


@pytest.fixture
def routed(agencies):
    """A case whose health assessment chose the branch of ``S_a`` (``ROUTE_TO_HOUSING``),
    coordinated by a housing contact, and a system account of the health service."""
    coordinator = _user("koordinator-g", agencies["housing"], Role.COORDINATOR)
    assessor = _user("vurderer-g", agencies["health"], Role.MEMBER)
    system = _user("helsesystem-g", agencies["health"], Role.MEMBER)
    deploy_definition(
        actor=None,
        bpmn_xml=ROUTE_TO_HOUSING,
        forms={"assess.schema.json": ASSESS_FORM, "check.schema.json": FORMS["check.schema.json"]},
        check_permission=False,
    )
    case = services.start_case(
        actor=coordinator,
        process_key="route_to_housing",
        person=PERSON,
        participants={"health": agencies["health"].pk, "housing": agencies["housing"].pk},
    )
    (assess,) = open_tasks(case)
    services.complete_task(actor=assessor, task_id=assess.pk, data={"diagnosis": "F20.0"})
    view = selectors.path_view_for(coordinator, case)
    assert view.hides("S_a") and view.hides("S_b") and not view.hides("Service_1")
    return case, coordinator, system


def _exports(case, system, agency, bases):
    """The health system's exports of health data on ``bases``, a minute apart, yesterday."""
    start = timezone.now().astimezone(timezone.get_default_timezone()).replace(hour=9, minute=0)
    start -= datetime.timedelta(days=1)
    AccessLog.objects.bulk_create(
        AccessLog(
            user=system,
            username=system.username,
            role="member",
            agency=agency,
            case=case,
            person_id=case.person_id,
            category="health",
            action=AccessAction.EXPORT,
            basis=basis,
            at=start + datetime.timedelta(minutes=minute),
        )
        for minute, basis in enumerate(bases)
    )


def _lines(coordinator, case, system) -> list[tuple[str, int]]:
    answer = api(coordinator).get(reverse("api-person-access-report", args=[case.pk]))
    assert answer.status_code == 200, answer.content
    return sorted((e["basis"], e["reads"]) for e in answer.json()["entries"] if e["username"] == system.username)


def test_reads_on_two_hidden_elements_are_one_line_as_two_reads_on_one(routed, agencies):
    case, coordinator, system = routed
    _exports(
        case,
        system,
        agencies["health"],
        [
            "external-task:S_a",
            "external-task:S_b",
            "service-task:route_to_housing:S_a",
            "service-task:route_to_housing:S_b",
            "external-task:Service_1",  # on every branch: named, a line of its own
        ],
    )

    lines = _lines(coordinator, case, system)

    assert lines == [
        ("external-task", 2),
        ("external-task:Service_1", 1),
        ("service-task:route_to_housing", 2),
    ]
    page = web(coordinator).get(reverse("person-access-report", args=[case.pk])).content.decode()
    assert page.count(f"{system.first_name}") == 3  # one line each
    assert "S_a" not in page and "S_b" not in page


def test_the_lines_are_the_same_whichever_hidden_elements_ran(routed, agencies):
    """Two reads on one hidden element, or one on each of two: the reader is told the same."""
    case, coordinator, system = routed
    other = _user("helsesystem2-g", agencies["health"], Role.MEMBER)
    _exports(case, system, agencies["health"], ["external-task:S_a", "external-task:S_a"])
    _exports(case, other, agencies["health"], ["external-task:S_a", "external-task:S_b"])

    assert _lines(coordinator, case, other) == _lines(coordinator, case, system) == [("external-task", 2)]
