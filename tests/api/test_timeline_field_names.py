"""The timeline names no field whose value is masked for the reader. A task's completion
names the fields its form wrote ("fields"), and an optional one written tells its value's
gist: NAV's "rent_arrears_nok" on securing the rent says the person owes rent. Before, the
prison read that name in GET /cases/<id>/timeline/ while the economy category (and the
value) was masked for it; a corrected value's field is already not named to such a reader
(``event_detail_for``)."""

from django.urls import reverse

from tests.workflows.helpers import form_data, open_tasks
from workflows import services


def _completed(client, case, element_id):
    timeline = client.get(reverse("api-case-timeline", args=[case.pk])).json()["results"]
    (event,) = [e for e in timeline if e["kind"] == "task_completed" and e["element_id"] == element_id]
    return event["detail"]


def test_a_completed_tasks_masked_fields_are_not_named_in_the_timeline(client_for, users, prison_case):
    (intake,) = open_tasks(prison_case)
    services.complete_task(
        actor=users["kari"], task_id=intake.pk, data=form_data(intake, {"has_home": True, "consent_nav": True})
    )
    (rent,) = [task for task in open_tasks(prison_case) if task.element_id == "Task_secure_rent"]
    services.complete_task(
        actor=users["nils"],
        task_id=rent.pk,
        data={"rent_secured": True, "housing_allowance_continues": True, "rent_arrears_nok": 5000},
    )
    assert _completed(client_for("nils"), prison_case, "Task_secure_rent")["fields"] == [
        "housing_allowance_continues",
        "rent_arrears_nok",
        "rent_secured",
    ]
    assert "rent_arrears_nok" not in _completed(client_for("kari"), prison_case, "Task_secure_rent")["fields"]
    # The prison's own task names its own fields to the prison.
    assert "expected_release_date" in _completed(client_for("kari"), prison_case, "Task_intake_interview")["fields"]
