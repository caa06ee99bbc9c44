"""A message thrown on the branch of a gateway that read a lapsed safety warning tells no
other case what the warning said.

The health service's ``branch_notice`` throws "housing_ready" only on the branch of a
gateway on ``threat`` (a safety warning); NAV's ``move_in`` case of the person waits for it.
Once the warning has lapsed, NAV sees only "Advarsel utløpt" in the sending case (the
agency that recorded it and the coordinator keep it: ``rules.decide_lapsed_warning``).
Before, the branch's grounds (``workflows.jobs.messages._branch_grounds``) asked only
whether NAV may see safety data, not whether the warning was still in force: the message
was delivered, NAV's waiting task ended and its move task opened, and NAV read from its
own inbox which branch the lapsed warning chose, that is what it said. Now a lapsed warning
read by the branch keeps the message from every case whose agencies do not all keep it, as
the payload's fields are kept (``_admitted_payload``): it counts as nothing waiting."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from bpmn.services import deploy_definition
from permissions import policy
from permissions.models import AccessLog, Membership, Role
from permissions.rules import ROLE_MESSAGE
from tests.clients import api
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_message_thrown_on_a_branch import branch_notice
from tests.workflows.message_models import FORMS, move_in_model
from workflows import selectors, services
from workflows.jobs import handlers
from workflows.models import Case, OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db

THREAT = "Truet ansatte med kniv"
LONG_AGO = "2020-01-15T10:00:00+00:00"
WARNING_FORMS = {
    **FORMS,
    "applicant.schema.json": {
        "type": "object",
        "properties": {
            "applicant_id": {"type": "string", "title": "Søker", "x-category": "coordination"},
            "threat": {"type": "string", "title": "Advarsel", "x-category": "safety"},
        },
        "required": ["applicant_id"],
        "additionalProperties": False,
    },
}


def _worker(agency, role, username):
    user = get_user_model().objects.create_user(username, password="x")
    Membership.objects.create(user=user, agency=agency, role=role)
    user.groups.add(agency.group)
    return user


def _thrown_on_the_warning_branch(agencies):
    """NAV's waiting case and the health service's sending case whose gateway chose the throw's
    branch on the warning, lapsed since; the message not yet delivered."""
    nav = _worker(agencies["nav"], Role.MEMBER, "nav-gren")
    health = _worker(agencies["health"], Role.MEMBER, "helse-gren")
    deploy_definition(actor=None, bpmn_xml=move_in_model(), forms=WARNING_FORMS, check_permission=False)
    xml = branch_notice(f'threat == "{THREAT}"')
    deploy_definition(actor=None, bpmn_xml=xml, forms=WARNING_FORMS, check_permission=False)
    both = {"nav": agencies["nav"].pk, "health": agencies["health"].pk}
    waiting = services.start_case(actor=nav, process_key="move_in", person=PERSON, participants=both)
    (register,) = open_tasks(waiting)
    services.complete_task(actor=nav, task_id=register.pk, data={"applicant_id": "A-17"})
    sender = services.start_case(actor=nav, process_key="branch_notice", person=PERSON, participants=both)
    (prepare,) = open_tasks(sender)
    services.complete_task(actor=health, task_id=prepare.pk, data={"applicant_id": "A-17", "threat": THREAT})
    # The warning's time runs out before the message is delivered (it waited, or the warning
    # was recorded long before the step whose gateway read it).
    Case.objects.filter(pk=sender.pk).update(data_recorded_at={"threat": LONG_AGO})
    sender.refresh_from_db()
    views = policy.case_data_for(nav, sender, selectors.case_field_rules(sender), log=False)
    assert "threat" in views["safety"].lapsed and "threat" not in views["safety"].values  # "Advarsel utløpt"
    return nav, waiting, sender


def test_a_lapsed_warning_that_chose_the_branch_does_not_reach_another_case(agencies):
    _nav, waiting, sender = _thrown_on_the_warning_branch(agencies)

    while handlers.run_one("w"):
        pass

    assert OutboxMessage.objects.get(case=sender).status != OutboxStatus.DELIVERED
    # NAV's case still waits: its inbox does not tell which branch the warning chose.
    assert [task.element_id for task in open_tasks(waiting)] == []
    assert not AccessLog.objects.filter(case=waiting, role=ROLE_MESSAGE, category="safety").exists()


def test_the_timeline_does_not_show_the_branch_a_lapsed_warning_chose(agencies):
    """In the sending case itself: NAV's timeline (the API's, which skips the path analysis
    when the reader's standing opens every category the gateways read) showed the throw on
    the branch the lapsed warning chose, which the case page hides from NAV."""
    nav, _waiting, sender = _thrown_on_the_warning_branch(agencies)
    branch = selectors.path_view_for(nav, sender).hidden  # as the case page hides it
    assert "Throw_ready" in branch

    answer = api(nav).get(reverse("api-case-timeline", args=[sender.pk]))

    assert answer.status_code == 200
    shown = {event["element_id"] for event in answer.json()["results"]}
    assert "Task_prepare" in shown and not shown & branch
