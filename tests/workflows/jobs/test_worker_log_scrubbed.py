"""The worker writes each failed attempt of a connector call, a webhook or an e-mail to its
log with the error's text (JSON lines, read by operators who see no case data). Another
system's words are in that text: a connector that answers a status line naming the person
("HTTP/1.1 NORDMANN, OLA ikke funnet") had it in the log line as it was said, though the
incident list shows the same error scrubbed (h-scrub2). The line is scrubbed as the incident
list shows it now."""

import logging
import socket
import threading

import pytest

from bpmn.services import deploy_definition
from tests.workflows.helpers import PERSON
from tests.workflows.service_models import FORMS, connector_model
from workflows import selectors
from workflows.jobs.worker import Worker
from workflows.models import Incident, ServiceConnector

from .test_service_tasks import SECRET, connector_setup, service_job, waiting_case  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

STATUS_LINE = b"HTTP/1.1 NORDMANN, OLA 179120 99997 ikke funnet\r\n\r\n"


def _answering_a_status_line(status_line: bytes = STATUS_LINE):
    """A connector's server that answers every call with ``status_line`` (no HTTP status)."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(status_line)

    threading.Thread(target=serve, daemon=True).start()
    return server


def _call_failed(server, users, agencies, caplog):
    """A case whose connector call goes to ``server`` and fails, the worker run once: the
    case, its service job and the worker's one log line of the failure."""
    try:
        url = f"http://127.0.0.1:{server.getsockname()[1]}/income"
        ServiceConnector.objects.create(name="income-register", url=url, secret=SECRET, agency=agencies["nav"])
        case = waiting_case(users, agencies)
        with caplog.at_level(logging.WARNING, logger="workflows.jobs.worker"):
            Worker(name="w").run(once=True)
    finally:
        server.close()
    (line,) = [record.getMessage() for record in caplog.records if record.name == "workflows.jobs.worker"]
    return case, service_job(case), line


def test_a_connectors_words_naming_the_person_are_scrubbed_in_the_workers_log(
    connector_setup,  # noqa: F811
    users,
    agencies,
    caplog,
):
    _case, job, line = _call_failed(_answering_a_status_line(), users, agencies, caplog)
    # Since h-outgoing2 an answer that is no HTTP is not quoted at all, scrubbed or not: the
    # server's log names its class (``test_unreachable_says_one_thing.py``).
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "BadStatusLine" in logged and "connector unreachable" in line
    for value in ("ikke funnet", "NORDMANN", "OLA", PERSON["national_id"], "179120 99997"):
        assert value not in line and value not in job.last_error and value not in logged, value


def test_a_computed_field_a_connector_echoes_is_scrubbed_where_the_call_failed(
    connector_setup,  # noqa: F811
    users,
    agencies,
    caplog,
):
    """A connector's field a model computes (a total of debts) is in no field of the case,
    which an error is scrubbed of when shown: a system that echoed it put it in the job's
    error, the incident list and the worker's log. The call's failure is scrubbed of the
    fields it sent."""
    computed = connector_model().replace('value="2026"', 'value="len(applicant_id) * 3000 + 500"')
    deploy_definition(actor=None, bpmn_xml=computed, forms=FORMS, check_permission=False)
    server = _answering_a_status_line(b"HTTP/1.1 GJELD 12 500 over grensen\r\n\r\n")
    case, job, line = _call_failed(server, users, agencies, caplog)
    shown = selectors.incident_job_error(Incident(job=job, case=case))
    logged = " ".join(record.getMessage() for record in caplog.records)
    for text in (job.last_error, line, shown, logged):  # not quoted at all since h-outgoing2
        assert "over grensen" not in text and "12 500" not in text, text
