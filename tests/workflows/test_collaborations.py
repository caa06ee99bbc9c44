"""A collaboration with two executable pools runs as one case: each pool a participant of
one SpiffWorkflow workflow (``BpmnParser.get_collaboration``), each pool's tasks in the
inbox of the agency its pool (or lane) routes to, the message between the pools caught in
the step that threw it, on the timeline and the diagram; field rules and gateway-path
hiding as in a single process (issue 14, point 5)."""

import pytest

from bpmn.services import InvalidModel, deploy_definition
from core.errors import Forbidden, InvalidInput, NotFound
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.pool_models import COLLABORATION, FORMS, ROUTING
from workflows import selectors, services
from workflows.models import CaseStatus, Event, EventKind, InstanceStatus, OutboxMessage
from workflows.services import versions

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployed():
    return deploy_definition(
        actor=None, bpmn_xml=COLLABORATION, forms=FORMS, routing=ROUTING, check_permission=False
    ).definition


def start(users, agencies, *kinds):
    return services.start_case(
        actor=users["bjorn"],
        process_key="rehousing",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("nav", "housing", *kinds)},
    )


def test_the_collaboration_deploys_as_one_process_with_each_pools_routing(deployed):
    assert deployed.key == "rehousing" and deployed.name == "Bolig etter NAV-vurdering"
    tasks = deployed.metadata["user_tasks"]
    assert {element: (task["agency_kind"], task["routed_by"]) for element, task in tasks.items()} == {
        "Task_assess": ("nav", "pool"),  # the pool "NAV": an alias
        "Task_offer": ("housing", "pool"),  # the pool "Boligkontoret": the routing map
    }


def test_a_pool_nothing_routes_is_refused_naming_the_pool_and_the_entry_to_add():
    with pytest.raises(InvalidModel) as refused:
        deploy_definition(actor=None, bpmn_xml=COLLABORATION, forms=FORMS, check_permission=False)
    (issue,) = refused.value.issues
    assert issue.element_id == "housing_offer" and '"pools": {"Boligkontoret": "<kind>"}' in issue.message


def test_two_executable_processes_outside_one_collaboration_are_refused_with_the_fix():
    apart = COLLABORATION.replace('processRef="housing_offer"', 'processRef="elsewhere"')
    with pytest.raises(InvalidModel) as refused:
        deploy_definition(
            actor=None, bpmn_xml=apart, forms=FORMS, routing={"default": "housing"}, check_permission=False
        )
    (issue,) = refused.value.issues
    assert issue.code == "several-executable-processes" and "pools of one collaboration" in issue.message


def test_each_pools_task_lands_with_its_agency_and_the_message_reaches_the_other_pool(deployed, users, agencies):
    case = start(users, agencies)
    (assess,) = open_tasks(case)
    assert (assess.element_id, assess.agency) == ("Task_assess", agencies["nav"])
    with pytest.raises((Forbidden, NotFound)):  # the housing office does not do NAV's task
        services.complete_task(actor=users["hanne"], task_id=assess.pk, data={"income": 1, "needs_housing": True})

    services.complete_task(actor=users["nils"], task_id=assess.pk, data={"income": 21000, "needs_housing": True})

    (offer,) = open_tasks(case)
    assert (offer.element_id, offer.agency) == ("Task_offer", agencies["housing"])
    received = Event.objects.get(case=case, kind=EventKind.MESSAGE_RECEIVED)
    assert (received.element_id, received.agency) == ("Catch_need", agencies["housing"])
    assert received.detail == {
        "name": "housing_needed",
        "from_element": "Throw_need",
        "from_pool": "NAV",
        "to_pool": "Boligkontoret",
        "fields": ["needs_housing"],
    }
    assert not OutboxMessage.objects.filter(case=case).exists()  # caught in the step, not through the outbox
    diagram = selectors.case_diagram_for(case, users["bjorn"])
    assert {"Task_assess", "Throw_need", "End_nav", "Catch_need", "Gateway_need"} <= set(diagram.completed)
    assert diagram.active == ["Task_offer"]
    # field rules: the housing office's task writes its own form's fields, not NAV's
    with pytest.raises(InvalidInput):
        services.complete_task(actor=users["hanne"], task_id=offer.pk, data={"address": "Storgata 1", "income": 0})
    with pytest.raises((Forbidden, NotFound)):
        services.complete_task(actor=users["nils"], task_id=offer.pk, data={"address": "Storgata 1"})

    services.complete_task(actor=users["hanne"], task_id=offer.pk, data={"address": "Storgata 1"})

    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED and case.instances.get().status == InstanceStatus.COMPLETED
    assert case.data["address"] == "Storgata 1" and case.data["income"] == 21000


def test_no_need_the_housing_pool_ends_without_a_task(deployed, users, agencies):
    case = start(users, agencies)
    (assess,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=assess.pk, data={"income": 41000, "needs_housing": False})
    assert open_tasks(case) == []
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    assert "End_not_needed" in selectors.case_diagram_for(case, users["bjorn"]).completed


def test_a_reader_who_may_not_see_what_the_gateway_reads_sees_no_branch(deployed, users, agencies):
    case = start(users, agencies, "health")
    (assess,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=assess.pk, data={"income": 21000, "needs_housing": True})
    health = selectors.case_diagram_for(case, users["helga"])  # health does not see housing data
    assert "Task_offer" not in set(health.active) | set(health.completed)
    assert "Catch_need" in health.completed  # before the gateway: no branch told
    housing = selectors.case_diagram_for(case, users["hanne"])
    assert housing.active == ["Task_offer"]


def test_a_running_collaboration_moves_to_its_next_version(deployed, users, agencies):
    case = start(users, agencies)
    (assess,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=assess.pk, data={"income": 21000, "needs_housing": True})
    deploy_definition(
        actor=None,
        bpmn_xml=COLLABORATION.replace('name="Tilby bolig"', 'name="Tilby bolig og kontrakt"'),
        forms=FORMS,
        routing=ROUTING,
        check_permission=False,
    )
    plan = versions.migration_counts(actor=users["ada"], key="rehousing", from_version=1)
    assert plan.movable.value == 1 and [row.problems for row in plan.standings] == [()], plan
    services.migrate_instances(actor=users["ada"], key="rehousing", from_version=1)
    (offer,) = open_tasks(case)
    assert offer.name == "Tilby bolig og kontrakt" and offer.agency == agencies["housing"]
    services.complete_task(actor=users["hanne"], task_id=offer.pk, data={"address": "Storgata 1"})
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED


def test_the_case_page_shows_the_message_between_the_pools(deployed, users, agencies, client):
    case = start(users, agencies, "health")
    (assess,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=assess.pk, data={"income": 21000, "needs_housing": True})
    client.force_login(users["bjorn"])
    page = client.get(f"/cases/{case.pk}/")
    events = client.get(f"/cases/{case.pk}/sections/events/")  # the folded events list
    assert page.status_code == 200 and "Melding mottatt" in events.content.decode()
    assert "Catch_need" in [event.element_id for event, _label in events.context["events"]["rows"]]
    assert page.context["diagram"]["active"] == ["Task_offer"]
    client.force_login(users["helga"])  # health: the gateway reads housing data it does not see
    page = client.get(f"/cases/{case.pk}/")
    events = client.get(f"/cases/{case.pk}/sections/events/")
    assert page.status_code == 200 and "Melding mottatt" in events.content.decode()
    shown = [event.element_id for event, _label in events.context["events"]["rows"]]
    assert "Catch_need" in shown and "Task_offer" not in shown
    assert "Task_offer" not in page.context["diagram"]["active"]
    assert all(task.element_id != "Task_offer" for holder in page.context["holders"] for task in holder["tasks"])
