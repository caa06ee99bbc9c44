"""An agency's system that fails an external task writes what it likes in its errorMessage;
the process admin, who sees no case data, reads it in the incident list. The scrub took the
person's name out only as the case wrote it whole ("Ola Nordmann"): a system that wrote the
surname alone ("Nordmann er ikke i registeret"), or the name the other way round
("Nordmann, Ola"), named the person to the admin beside the case's reference."""

import pytest

from workflows.models import Incident, Job

from .test_external_tasks import fetch, waiting  # noqa: F401 (the fixture: the NAV system's task)

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("waiting")
@pytest.mark.parametrize("message", ["Nordmann er ikke i registeret", "Nordmann, Ola: ikke i registeret"])
def test_a_word_of_the_persons_name_in_a_systems_failure_reaches_nobody(client_for, message):
    nils = client_for("nils")
    (task,) = fetch(nils)
    body = {"workerId": "w1", "errorMessage": message, "retries": 0}
    assert nils.post(f"/api/v1/external-tasks/{task['id']}/failure/", body, format="json").status_code == 204

    job = Job.objects.get(delivery_key=task["id"])
    incident = Incident.objects.get(job=job)
    answer = client_for("ada").get("/api/v1/incidents/").json()["results"]
    for text in (str(answer), job.last_error, incident.error):
        assert "Nordmann" not in text
    assert "registeret" in answer[0]["job"]["last_error"]
