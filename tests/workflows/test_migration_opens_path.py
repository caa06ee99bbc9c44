"""Moving running cases to a new version cannot show a reader the branch a case took when
the version it took it on hid that branch from them.

The health service's gateway sent the case to the supported home on a health value
(``needs_treatment``): NAV sees the gateway in progress, never the branch. A process admin
deploys a version whose gateway reads a coordination field instead (every participant sees
it) and moves the running cases. The branch was still chosen by the health value; on the
new version's rule NAV would see it. So no case moves (decided per version, as for a field
shown more widely: which branch a case took is case data), with the reason naming the
element."""

import pytest
from django.contrib.auth.models import User

from bpmn.registry import runtime_for
from bpmn.services import deploy_definition
from tests.api.test_gateway_inference import BRANCH, HOUSING_FORM, NAV_FORM, branched_case, diagram, model
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import ProcessInstance, Task
from workflows.services import versions

pytestmark = pytest.mark.django_db

__all__ = ["branched_case"]  # the fixture, imported for its use here
HEALTH_FORM_V2 = {
    "type": "object",
    "properties": {
        "needs_treatment": {"type": "boolean", "x-category": "health"},
        "urgent": {"type": "boolean", "x-category": "coordination"},
    },
}


def deploy(bpmn_xml, health_form):
    forms = {"h.schema.json": health_form, "b.schema.json": HOUSING_FORM, "n.schema.json": NAV_FORM}
    return deploy_definition(actor=None, bpmn_xml=bpmn_xml, forms=forms, check_permission=False)


def test_a_new_version_cannot_show_the_branch_an_old_one_hid(branched_case, users):
    assert BRANCH[0] not in set().union(*diagram(users["nils"], branched_case))
    opened = model().replace("needs_treatment == True", "urgent == True")
    assert opened != model()
    deploy(opened, HEALTH_FORM_V2)
    plan = versions.migration_counts(actor=users["ada"], key="Proc_branch", from_version=1, to_version=2)
    assert [(r.problems, r.cases.value) for r in plan.standings] == [
        ((versions.Problem("Gateway_treatment", "path-opened"),), 1)
    ]
    record = services.migrate_instances(actor=users["ada"], key="Proc_branch", from_version=1, to_version=2)
    assert record.migrated == [] and len(record.refused) == 1
    assert ProcessInstance.objects.get(case=branched_case).definition.version == 1
    assert BRANCH[0] not in set().union(*diagram(users["nils"], branched_case))


def test_a_new_version_that_hides_as_much_still_takes_the_cases(branched_case, users):
    """A gateway that reads what it read and more hides the branch from the same readers."""
    narrower = model().replace("needs_treatment == True", "needs_treatment == True and urgent != False")
    deploy(narrower, HEALTH_FORM_V2)
    record = services.migrate_instances(actor=users["ada"], key="Proc_branch", from_version=1, to_version=2)
    assert len(record.migrated) == 1 and record.refused == []
    assert ProcessInstance.objects.get(case=branched_case).definition.version == 2
    assert BRANCH[0] not in set().union(*diagram(users["nils"], branched_case))
    # The timeline tells NAV the case moved, not which (hidden) task it moved with.
    timeline = api(users["nils"]).get(f"/api/v1/cases/{branched_case.pk}/timeline/").json()["results"]
    (moved,) = [event for event in timeline if event["kind"] == "version_migrated"]
    assert (moved["detail"]["to_version"], moved["detail"]["tasks"]) == (2, [])
    assert BRANCH[0] not in str(timeline)
    # The health service, whose gateway it is, sees the mapping.
    timeline = api(users["helga"]).get(f"/api/v1/cases/{branched_case.pk}/timeline/").json()["results"]
    (moved,) = [event for event in timeline if event["kind"] == "version_migrated"]
    assert moved["detail"]["tasks"] == [{"from": BRANCH[0], "to": BRANCH[0]}]


def test_a_task_a_new_version_newly_hides_is_listed_as_the_new_version_hides_it(users, agencies):
    """Version 1 branched on a coordination field every participant sees; version 2's gateway
    reads it and the health value. A case moved to version 2 waits on the branch: its task is hidden
    from NAV's lists as a task created on version 2 would be. Before, the task row kept version
    1's path categories (none hidden), so NAV listed it and counted it across cases."""
    old = deploy(model().replace("needs_treatment == True", "urgent == True"), HEALTH_FORM_V2).definition
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_branch",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    assess = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=assess.pk, data={"needs_treatment": True, "urgent": True})
    branch = Task.objects.get(case=case, element_id=BRANCH[0])
    assert nav_count(case) == 1  # version 1 hid nothing from NAV
    # Reads what version 1 read (so no branch is shown more widely) and the health value.
    new = deploy(model().replace("== True", "== True and urgent == True", 1), HEALTH_FORM_V2).definition
    record = services.migrate_instances(
        actor=users["ada"], key="Proc_branch", from_version=old.version, to_version=new.version
    )
    assert len(record.migrated) == 1, record.refused
    branch.refresh_from_db()
    assert branch.path_categories == runtime_for(new.pk).path_masks[BRANCH[0]] != 0
    assert nav_count(case) == 0


def nav_count(case):
    """The open tasks NAV's case list counts for ``case`` (a count across cases, read from
    the task rows' path categories)."""
    answer = api(User.objects.get(username="nils")).get("/api/v1/cases/").json()["results"]
    (row,) = [listed for listed in answer if listed["id"] == case.pk]
    return row["open_task_count"]
