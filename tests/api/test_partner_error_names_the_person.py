"""An agency's system that fails an external task writes what it likes in its errorMessage;
the process admin, who sees no case data, reads it in the incident list. The scrub took the
person's name out only as the case wrote it whole ("Ola Nordmann"): a system that wrote the
surname alone ("Nordmann er ikke i registeret"), or the name the other way round
("Nordmann, Ola"), named the person to the admin beside the case's reference. Nor did it as a
register writes it (h-attack16): in capitals ("NORDMANN, OLA", as the population register
does) or lower case, or the national id in its printed form, six digits and five
("179120 99997"): the reason an erasure keeps was scrubbed of those, this text was not."""

import pytest

from workflows.models import Incident, Job

from .test_external_tasks import fetch, waiting  # noqa: F401 (the fixture: the NAV system's task)

pytestmark = pytest.mark.django_db


NAME_AND_NUMBER = ("Nordmann", "NORDMANN", "nordmann", "OLA", "17912099997", "179120 99997", "179120-99997")


@pytest.mark.usefixtures("waiting")
@pytest.mark.parametrize(
    "message",
    [
        "Nordmann er ikke i registeret",
        "Nordmann, Ola: ikke i registeret",
        "NORDMANN, OLA: ikke i registeret",
        "nordmann ola: ikke i registeret",
        "fnr 179120 99997: ikke i registeret",
        "fnr 179120-99997: ikke i registeret",
    ],
)
def test_a_word_of_the_persons_name_in_a_systems_failure_reaches_nobody(client_for, message):
    nils = client_for("nils")
    (task,) = fetch(nils)
    body = {"workerId": "w1", "errorMessage": message, "retries": 0}
    assert nils.post(f"/api/v1/external-tasks/{task['id']}/failure/", body, format="json").status_code == 204

    job = Job.objects.get(delivery_key=task["id"])
    incident = Incident.objects.get(job=job)
    answer = client_for("ada").get("/api/v1/incidents/").json()["results"]
    for text in (str(answer), job.last_error, incident.error):
        for value in NAME_AND_NUMBER:
            assert value not in text, (value, text)
    assert "registeret" in answer[0]["job"]["last_error"]
