"""An agency's system that fails an external task prints the case's values its own way: the
diagnosis in capitals, the address wrapped over two lines, the debt with its thousands
grouped ("12 500", "12.500"), the date in Norwegian order ("01.03.2026"). The scrub took
the values out only as the case wrote them, so each reached the process admin, who sees no
case data, in the incident list (h-scrub2). An error stored before is scrubbed again when
shown, so a row an older version kept reads without them too."""

import pytest

from workflows.models import Incident, Job

from .test_external_tasks import fetch, waiting  # noqa: F401 (the fixture: the NAV system's task)

pytestmark = pytest.mark.django_db

DATA = {"health_note": "Schizofreni, paranoid", "address": "Storgata 12, 0155 Oslo", "debt_nok": 12500}
DATES = {"moved_in": "2026-03-01"}
SPELLINGS = ("SCHIZOFRENI", "schizofreni", "STORGATA", "Oslo", "12 500", "12.500", "01.03.2026", "1. mars")


def _with_values(case):
    case.data = {**(case.data or {}), **DATA, **DATES}
    case.save(update_fields=["data"])


def _shown(client_for) -> str:
    answer = client_for("ada").get("/api/v1/incidents/")
    assert answer.status_code == 200
    return str(answer.json()["results"])


@pytest.mark.parametrize(
    "message",
    [
        "SCHIZOFRENI, PARANOID: diagnosekode mangler",
        "Adressen STORGATA 12,\n  0155 OSLO: ikke i registeret",
        "gjeld kr 12 500,- over grensen",
        "gjeld 12.500 over grensen",
        "innflyttet 01.03.2026 etter fristen",
        "innflyttet 1. mars 2026 etter fristen",
    ],
)
def test_a_value_as_a_partner_system_spells_it_reaches_nobody(client_for, waiting, message):  # noqa: F811
    _with_values(waiting)
    nils = client_for("nils")
    (task,) = fetch(nils)
    body = {"workerId": "w1", "errorMessage": message, "retries": 0}
    assert nils.post(f"/api/v1/external-tasks/{task['id']}/failure/", body, format="json").status_code == 204

    job = Job.objects.get(delivery_key=task["id"])
    incident = Incident.objects.get(job=job)
    shown = _shown(client_for)
    for text in (shown, job.last_error, incident.error):
        for value in SPELLINGS:
            assert value not in text, (value, text)
    assert "…" in shown


def test_an_error_stored_before_reads_without_the_values_spelled_otherwise(client_for, waiting):  # noqa: F811
    _with_values(waiting)
    nils = client_for("nils")
    (task,) = fetch(nils)
    body = {"workerId": "w1", "errorMessage": "feil", "retries": 0}
    assert nils.post(f"/api/v1/external-tasks/{task['id']}/failure/", body, format="json").status_code == 204
    raw = "SCHIZOFRENI, PARANOID; STORGATA 12, 0155 OSLO; 12 500; 01.03.2026: ikke i registeret"
    job = Job.objects.get(delivery_key=task["id"])
    Job.objects.filter(pk=job.pk).update(last_error=raw, last_error_message=None)
    Incident.objects.filter(job=job).update(error=raw, error_message=None)

    shown = _shown(client_for)
    for value in SPELLINGS:
        assert value not in shown, (value, shown)
    assert "ikke i registeret" in shown
