"""Every corpus file over the HTTP API: deploy (with and without a routing map), start a
case, complete its tasks; no answer is a server error (issue 14).

The corpus (``../shared/bpmn-corpus/``) is read in place; without it the test is skipped.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from bench.samples import sample_form_data
from tests.bpmn.engine import corpus_report as report
from tests.bpmn.engine.corpus_run import KINDS, routing_map_for
from tests.ids import tid
from workflows.models import ACTIVE_TASK_STATUSES, Task

if not report.corpus_available():
    pytest.skip(f"BPMN corpus not found at {report.CORPUS}", allow_module_level=True)

pytestmark = pytest.mark.django_db
ROUNDS = 15
WORKER_OF_KIND = {
    "prison": "kari",
    "nav": "nils",
    "health": "helga",
    "housing": "bjorn",
    "hospital": "siri",
    "municipality": "mona",
}


@pytest.fixture
def clients(users):
    """A client per agency kind, each its demo user's (mona works for the municipality)."""
    from accounts.tokens import issue

    made = {}
    for username in (*WORKER_OF_KIND.values(), "ada"):
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Token {issue(users[username])[0]}")
        made[username] = client
    return made


def test_no_corpus_file_gets_a_server_error_over_http(clients, agencies):
    from bpmn.registry import runtime_for

    server_errors = []
    started = 0

    def check(response, what, name):
        if response.status_code >= 500:
            server_errors.append(f"{name}: {what} -> {response.status_code}")
        return response

    participants = {kind: agencies[kind].pk for kind in KINDS}
    for path in report.corpus_files():
        name = report.relative(path)
        text = path.read_bytes().decode("utf-8", errors="replace")
        forms = report.forms_beside(path)
        check(
            clients["ada"].post("/api/v1/process-definitions/", {"bpmn_xml": text, "forms": forms}, format="json"),
            "deploy",
            name,
        )
        deployed = check(
            clients["ada"].post(
                "/api/v1/process-definitions/",
                {"bpmn_xml": text, "forms": forms, "routing": routing_map_for(path.read_bytes())},
                format="json",
            ),
            "deploy with a routing map",
            name,
        )
        if deployed.status_code not in (200, 201):
            continue
        case = check(
            clients["bjorn"].post(
                "/api/v1/cases/",
                {
                    "process_key": deployed.json()["key"],
                    "person": {"name": "Corpus Person", "national_id": "17912099997"},
                    "participants": participants,
                },
                format="json",
            ),
            "start",
            name,
        )
        if case.status_code != 201:
            continue
        started += 1
        for _round in range(ROUNDS):
            task = Task.objects.filter(case_id=case.json()["id"], status__in=ACTIVE_TASK_STATUSES).first()
            if task is None:
                break
            schema, _ = runtime_for(task.instance.definition_id).form_for(task.element_id)
            done = check(
                clients[WORKER_OF_KIND[task.agency.kind]].post(
                    f"/api/v1/tasks/{tid(task.pk)}/complete/",
                    {"data": sample_form_data(schema)},
                    format="json",
                ),
                f"complete {task.element_id}",
                name,
            )
            if done.status_code != 200:
                break
    assert server_errors == []
    assert started > 50  # the files that deploy with a map do start cases
