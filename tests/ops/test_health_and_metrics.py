"""Health checks and metrics for load balancers and Prometheus: correct, closed, and free of
personal data; request ids in headers, error bodies and log lines."""

import json
import logging
import uuid
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import timezone
from pythonjsonlogger.json import JsonFormatter

from core.errors import InvalidInput
from ops import health
from ops.logs import logging_config
from ops.middleware import RequestMetrics
from tests.ids import tid
from tests.workflows.helpers import PERSON, complete, open_tasks, start_prison_case
from workflows.models import Incident, Job, JobKind, JobStatus, WorkerHeartbeat

pytestmark = pytest.mark.django_db
TOKEN = "metrics-test-token-0123456789abcdef"


def _beat(name="w1", *, age_seconds=1, stopped=False):
    moment = timezone.now() - timedelta(seconds=age_seconds)
    return WorkerHeartbeat.objects.create(
        name=name, hostname="node1", pid=1, started_at=moment, beat_at=moment, stopped_at=moment if stopped else None
    )


@pytest.fixture(autouse=True)
def _migrations_checked_each_time(monkeypatch):
    monkeypatch.setattr(health, "_migrations_seen_applied", False)


@pytest.fixture
def monitoring(settings):
    """Headers of the operators' monitoring: the checks of /readyz are told to it only."""
    settings.METRICS_TOKEN = TOKEN
    return {"Authorization": f"Bearer {TOKEN}"}


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_readyz_needs_a_live_worker(client, settings, monitoring):
    response = client.get("/readyz", headers=monitoring)
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "ok", "worker": "no-live-worker"},
    }
    # A worker that stopped cleanly, or whose heartbeat is older than the job lease, is not alive.
    _beat("stopped", stopped=True)
    _beat("stale", age_seconds=settings.BROBYGGER["JOB_LEASE_SECONDS"] + 5)
    assert client.get("/readyz", headers=monitoring).status_code == 503
    _beat("alive")
    response = client.get("/readyz", headers=monitoring)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "worker": "ok"}}
    assert "alive" not in response.content.decode() and "node1" not in response.content.decode()


def test_readyz_fails_on_unapplied_migrations(client, monkeypatch, monitoring):
    _beat()
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets: [("workflows", "9999_not_applied")],
    )
    response = client.get("/readyz", headers=monitoring)
    assert response.status_code == 503 and response.json()["checks"]["migrations"] == "pending"


def test_readyz_fails_when_the_database_is_unreachable(client, monkeypatch, monitoring):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", refuse)
    response = client.get("/readyz", headers=monitoring)
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "unreachable", "migrations": "skipped", "worker": "skipped"}


@pytest.mark.parametrize("token", ["", TOKEN])
def test_readyz_tells_the_internet_its_status_only(client, settings, monkeypatch, token):
    """A load balancer needs the status code; which check failed is the monitoring's (with
    the metrics token). Until 2026-12-06 anyone read that the workers were down or a
    migration pending."""
    settings.METRICS_TOKEN = token
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}
    _beat()
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    monkeypatch.setattr(health, "_migrations_seen_applied", False)
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets: [("workflows", "9999_not_applied")],
    )
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}
    # A wrong token is refused rather than answered as to anyone: the monitoring is misconfigured.
    wrong = client.get("/readyz", headers={"Authorization": "Bearer wrong-token-wrong-token-wrong"})
    assert wrong.status_code == 403 and "checks" not in wrong.json()


@pytest.mark.parametrize(
    ("token", "header", "status"),
    [
        ("", f"Bearer {TOKEN}", 404),  # no token configured: metrics are off
        (TOKEN, None, 401),
        (TOKEN, "Bearer wrong-token-wrong-token-wrong", 403),
        (TOKEN, f"Token {TOKEN}", 401),
    ],
)
def test_metrics_are_not_public(client, settings, token, header, status):
    settings.METRICS_TOKEN = token
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == status
    assert b"brobygger_" not in response.content


def _scrape(client):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return response.content.decode()


def _value(text: str, name: str, **labels) -> float:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        if metric.split("{")[0] == name and all(f'{key}="{val}"' in metric for key, val in labels.items()):
            return float(value)
    return 0.0


def test_metrics_count_the_work_and_tell_the_queue_without_personal_data(
    client, settings, shipped, users, agencies, django_capture_on_commit_callbacks
):
    settings.METRICS_TOKEN = TOKEN
    before = _scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        case = start_prison_case(users, agencies)
        (intake,) = open_tasks(case)
        complete(intake, {"has_home": False})
    # A timer ten minutes overdue and an open incident, as an operator would be paged for.
    instance = case.instances.get()
    Job.objects.update_or_create(
        kind=JobKind.TIMER,
        status=JobStatus.PENDING,
        instance=instance,
        defaults={"case": case, "due_at": timezone.now() - timedelta(minutes=10)},
    )
    Incident.objects.create(instance=instance, case=case, kind="test", element_id="Task_x", error="boom")
    _beat()
    client.get("/api/v1/tasks/")  # an unauthenticated request: latency is counted by route, 4xx
    text = _scrape(client)

    started = _value(text, "brobygger_cases_started_total", process="prison_release_to_housing")
    assert started - _value(before, "brobygger_cases_started_total", process="prison_release_to_housing") == 1
    done = _value(text, "brobygger_task_completions_total", process="prison_release_to_housing", agency_kind="prison")
    assert (
        done
        - _value(before, "brobygger_task_completions_total", process="prison_release_to_housing", agency_kind="prison")
        == 1
    )
    assert _value(text, "brobygger_jobs_due", kind="timer") >= 1
    assert _value(text, "brobygger_timer_lag_seconds") >= 590
    assert _value(text, "brobygger_jobs_oldest_due_age_seconds", kind="timer") >= 590
    assert _value(text, "brobygger_incidents_open") == 1
    assert _value(text, "brobygger_workers_alive") == 1
    assert (
        _value(text, "brobygger_http_request_duration_seconds_count", route="api/v1/tasks/", method="GET", status="4xx")
        >= 1
    )
    # Routes, never paths with ids; no person, case or user.
    for secret in (PERSON["name"], PERSON["national_id"], case.reference, "kari", f"/tasks/{tid(intake.pk)}"):
        assert secret not in text


def test_a_rolled_back_completion_is_not_counted(
    client, settings, shipped, users, agencies, django_capture_on_commit_callbacks
):
    settings.METRICS_TOKEN = TOKEN
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    before = _value(_scrape(client), "brobygger_task_completions_total", agency_kind="prison")
    with pytest.raises(InvalidInput), django_capture_on_commit_callbacks(execute=True) as callbacks:
        complete(intake, {"has_home": "not a boolean"})
    assert callbacks == []
    assert _value(_scrape(client), "brobygger_task_completions_total", agency_kind="prison") == before


def test_every_answer_names_its_request_and_api_errors_repeat_it(client):
    response = client.get("/api/v1/tasks/")
    assert response.status_code == 401
    request_id = response["X-Request-ID"]
    assert uuid.UUID(request_id)
    assert response.json()["request_id"] == request_id
    assert client.get("/api/v1/no-such-thing/").json()["request_id"]


def test_a_proxy_request_id_is_kept_when_it_is_a_uuid_and_replaced_otherwise(client):
    given = uuid.uuid4().hex
    assert client.get("/healthz", headers={"X-Request-ID": given})["X-Request-ID"] == given
    forged = client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 500})["X-Request-ID"]
    assert forged != "<script>" + "x" * 500 and uuid.UUID(forged)


def test_a_lost_database_answers_503_with_the_request_id():
    request = RequestFactory().get("/api/v1/tasks/")
    response = RequestMetrics(lambda r: None).process_exception(request, OperationalError("server closed"))
    assert response.status_code == 503 and response["Retry-After"]
    assert set(json.loads(response.content)) == {"detail", "errors", "request_id"}
    assert RequestMetrics(lambda r: None).process_exception(request, ValueError("a bug")) is None


def test_log_lines_are_json_with_the_request_id():
    config = logging_config(json_lines=True, level="INFO")["formatters"]["default"]
    formatter = JsonFormatter(fmt=config["fmt"], style=config["style"], rename_fields=config["rename_fields"])
    record = logging.LogRecord("brobygger.request", logging.INFO, __file__, 1, "request", None, None)
    record.request_id, record.route, record.status = "abc123", "api/v1/tasks/", 200
    line = json.loads(formatter.format(record))
    assert line["request_id"] == "abc123" and line["level"] == "INFO" and line["logger"] == "brobygger.request"
    assert line["message"] == "request" and line["route"] == "api/v1/tasks/" and line["status"] == 200


def test_an_unexpected_api_error_answers_500_with_the_request_id(client, users, monkeypatch):
    from api import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug, with a value that must not leak: 17912099997")

    monkeypatch.setattr(views.AgencyList, "get", broken)
    client.raise_request_exception = False
    client.force_login(users["kari"])
    response = client.get("/api/v1/agencies/")
    assert response.status_code == 500
    body = response.json()
    assert body["request_id"] == response["X-Request-ID"] and "17912099997" not in response.content.decode()


@pytest.mark.parametrize("json_lines", [True, False])
def test_the_log_line_of_an_unexpected_error_tells_its_class_and_place_never_its_message(
    client, users, monkeypatch, caplog, json_lines
):
    """An exception's message may quote what the code worked on (a national id, a diagnosis
    a script read): the line keeps the class and the stack, as the error reporter does."""
    from logging.config import DictConfigurator

    from api import views

    national_id = "".join(["179120", "99997"])  # not in the source line the stack shows

    def broken(*args, **kwargs):
        raise RuntimeError(f"a bug, with a value that must not leak: {national_id}")

    monkeypatch.setattr(views.AgencyList, "get", broken)
    client.raise_request_exception = False
    client.force_login(users["kari"])
    with caplog.at_level(logging.ERROR):
        assert client.get("/api/v1/agencies/").status_code == 500

    config = logging_config(json_lines=json_lines, level="INFO")["formatters"]["default"]
    formatter = DictConfigurator({}).configure_formatter(dict(config))
    lines = "\n".join(formatter.format(record) for record in caplog.records if record.exc_info)
    assert "RuntimeError" in lines and "in broken" in lines  # what failed, and where
    assert "17912099997" not in lines


@pytest.mark.parametrize("json_lines", [True, False])
def test_a_refused_request_is_logged_without_its_query(client, users, caplog, json_lines):
    """Django logs every 4xx answer ("Bad Request: /path") with the request itself, whose
    text is the path with its query string: a search for a person (their name, their date
    of birth) then stood in the JSON line of any refusal (a bad page size, a stale cursor)."""
    from logging.config import DictConfigurator

    client.force_login(users["nils"])
    with caplog.at_level(logging.WARNING):
        assert client.get("/api/v1/cases/?q=Ola+Nordmann+17.09.1920&page_size=0").status_code == 400
        assert client.get("/cases/?q=Ola+Nordmann+17.09.1920&x=%00").status_code == 400
    config = logging_config(json_lines=json_lines, level="INFO")["formatters"]["default"]
    formatter = DictConfigurator({}).configure_formatter(dict(config))
    lines = "\n".join(formatter.format(record) for record in caplog.records)
    assert "Bad Request" in lines  # the lines are there, with the path
    assert "Nordmann" not in lines and "1920" not in lines, lines
