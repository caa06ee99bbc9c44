"""A correction of an agency's earlier value leaves the value another agency's step on a branch
wrote over it, also when that step wrote the same value (a form that shows the earlier value and
is confirmed as it stands). The housing office answers for the value its step recorded
(``retention.recorded_by_other_agency``: the health service's correction of it is 403); until
h-attack19 the health service's ``"of": "earlier"`` rewrote the housing office's value (and the
workflow's state) whenever it was the same as the earlier one, its source still the housing
office's, as the case's own was rewritten only where no branch wrote over it."""

import pytest
from django.urls import reverse

from tests.api.test_branch_rewritten_earlier_correction import BODY, FORMS, model
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Case, ProcessInstance, Task

pytestmark = pytest.mark.django_db


def test_the_branch_s_same_value_stays_the_housing_office_s(users, agencies):
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=users["nils"],
        process_key="Proc_earlier_fix",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    intake = Task.objects.get(case=case, element_id="T_intake")
    services.complete_task(actor=users["helga"], task_id=intake.pk, data={"move_date": "2027-01-10"})
    assess = Task.objects.get(case=case, element_id="T_assess")
    services.complete_task(actor=users["helga"], task_id=assess.pk, data={"needs_treatment": True})
    branch_task = Task.objects.get(case=case, status="open")
    # The housing office confirms the date as it stands: its step records it as its own.
    services.complete_task(actor=users["bjorn"], task_id=branch_task.pk, data={"move_date": "2027-01-10"})
    case = Case.objects.get(pk=case.pk)
    housing = case.data_sources["move_date"]
    assert housing == agencies["housing"].pk and case.data_common["move_date"][1] == agencies["health"].pk

    url = reverse("api-case-corrections", args=[case.pk])
    # The housing office's value: not the health service's to correct.
    assert api(users["helga"]).post(url, {**BODY, "of": "current"}, format="json").status_code == 403
    answer = api(users["helga"]).post(url, BODY, format="json")
    assert answer.status_code == 201, answer.json()
    case.refresh_from_db()
    assert case.data_common["move_date"] == ["2027-01-20", agencies["health"].pk]
    # The value the housing office recorded stays as it recorded it, in the case and the state.
    assert case.data["move_date"] == "2027-01-10" and case.data_sources["move_date"] == housing
    for instance in ProcessInstance.objects.filter(case=case):
        assert "2027-01-20" not in str(instance.state)
    shown = api(users["bjorn"]).get(reverse("api-case", args=[case.pk])).json()["data"]["coordination"]
    assert shown["values"]["move_date"] == "2027-01-10"
