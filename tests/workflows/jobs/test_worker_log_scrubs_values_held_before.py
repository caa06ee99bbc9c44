"""The worker's log line of a failed connector call is scrubbed as the incident list shows the
error (h-scrub2): since h-scrub4 of every value the case holds and held. A value corrected away
before the call, which the other system remembered and quoted, was written to the log (read by
operators, who see no case data): the case's data and saved state held the new value only."""

import logging

import pytest

from retention import services as retention_services
from workflows.jobs.worker import Worker
from workflows.models import ServiceConnector

from .test_service_tasks import SECRET, connector_setup, service_job, waiting_case  # noqa: F401 (fixture)
from .test_worker_log_scrubbed import _answering_a_status_line

pytestmark = pytest.mark.django_db

OLD_ID = "A-17"  # what waiting_case's NAV caseworker wrote, corrected before the call


def test_a_value_corrected_away_before_the_call_is_scrubbed_in_the_workers_log(
    connector_setup,  # noqa: F811
    users,
    agencies,
    caplog,
):
    server = _answering_a_status_line(b"HTTP/1.1 applicant A-17 not in the register\r\n\r\n")
    try:
        url = f"http://127.0.0.1:{server.getsockname()[1]}/income"
        ServiceConnector.objects.create(name="income-register", url=url, secret=SECRET, agency=agencies["nav"])
        case = waiting_case(users, agencies)
        retention_services.correct_value(
            actor=users["nils"], case_id=case.pk, field="applicant_id", value="A-99214", reason="Feil søker"
        )
        with caplog.at_level(logging.WARNING, logger="workflows.jobs.worker"):
            Worker(name="w").run(once=True)
    finally:
        server.close()
    (line,) = [record.getMessage() for record in caplog.records if record.name == "workflows.jobs.worker"]
    assert OLD_ID not in service_job(case).last_error  # stored as logged (h-scrub5)
    # Since 2026-12-07 (h-outgoing2) an answer that is no HTTP is not quoted at all, in the log
    # neither: its class alone.
    assert "not in the register" not in line
    assert OLD_ID not in line, line
