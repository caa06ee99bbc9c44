"""Prometheus metrics (prometheus-client): what operators alert on, never personal data.

Counted in the process where it happens (request latency by route, case starts and task
completions through ``core.hooks``, timers fired by workers). Under ``manage.py serve`` all
processes of a node write to ``PROMETHEUS_MULTIPROC_DIR`` and any web process answers for
all of them. The state of the queue (jobs due and how late, incidents open, timer lag,
live workers) is read from the database when scraped, so every node tells the same truth.

Labels are routes, process keys, agency kinds and job kinds: bounded, and no case, person
or user ever appears.
"""

from __future__ import annotations

import hmac
import os
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from core.http_methods import allow
from insight import replica
from workflows.models import Incident, Job, JobStatus, WorkerHeartbeat

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "brobygger_http_request_duration_seconds",
    "Time to answer an HTTP request, by route",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
CASES_STARTED = Counter("brobygger_cases_started_total", "Cases started", ["process"])
TASKS_COMPLETED = Counter("brobygger_task_completions_total", "User tasks completed", ["process", "agency_kind"])
TIMERS_FIRED = Counter("brobygger_timers_fired_total", "Timer jobs fired by workers")
TIMER_FIRING_LAG = Histogram(
    "brobygger_timer_firing_lag_seconds",
    "How long after its due time a timer fired",
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)


def count_case_started(*, process: str) -> None:
    CASES_STARTED.labels(process=process).inc()


def count_task_completed(*, process: str, agency_kind: str) -> None:
    TASKS_COMPLETED.labels(process=process, agency_kind=agency_kind).inc()


def count_timer_fired(*, lag_seconds: float) -> None:
    TIMERS_FIRED.inc()
    TIMER_FIRING_LAG.observe(max(lag_seconds, 0.0))


class QueueCollector:
    """Gauges read from the database at each scrape (a few indexed aggregates)."""

    def collect(self):
        moment = timezone.now()
        due = GaugeMetricFamily("brobygger_jobs_due", "Pending jobs whose due time has come", labels=["kind"])
        age = GaugeMetricFamily(
            "brobygger_jobs_oldest_due_age_seconds", "How long the oldest due pending job has waited", labels=["kind"]
        )
        rows = (
            Job.objects.filter(status=JobStatus.PENDING, due_at__lte=moment)
            .values("kind")
            .annotate(n=Count("id"), oldest=Min("due_at"))
            .order_by()
        )
        for row in rows:
            due.add_metric([row["kind"]], row["n"])
            age.add_metric([row["kind"]], (moment - row["oldest"]).total_seconds())
        yield due
        yield age
        running = GaugeMetricFamily(
            "brobygger_jobs_leased", "E-mail and webhook jobs a worker holds now", labels=["kind"]
        )
        for row in Job.objects.filter(status=JobStatus.RUNNING).values("kind").annotate(n=Count("id")).order_by():
            running.add_metric([row["kind"]], row["n"])
        yield running
        timer = next((row for row in rows if row["kind"] == "timer"), None)
        yield GaugeMetricFamily(
            "brobygger_timer_lag_seconds",
            "How late the most overdue timer not yet fired is (0: none overdue)",
            value=(moment - timer["oldest"]).total_seconds() if timer else 0.0,
        )
        yield GaugeMetricFamily(
            "brobygger_incidents_open",
            "Incidents not yet resolved",
            value=Incident.objects.filter(resolved_at__isnull=True).count(),
        )
        lease = timedelta(seconds=settings.BROBYGGER["JOB_LEASE_SECONDS"])
        alive = WorkerHeartbeat.objects.filter(Q(stopped_at__isnull=True), beat_at__gte=moment - lease).count()
        yield GaugeMetricFamily(
            "brobygger_workers_alive", "Workers whose heartbeat is younger than the job lease", value=alive
        )
        if (found := replica.state()) is not None:  # only with DATABASE_REPLICA_URL
            yield GaugeMetricFamily(
                "brobygger_replica_lag_seconds",
                "How far the read replica of the reports is behind the primary (+Inf: unreachable)",
                value=found.lag if found.lag is not None else float("inf"),
            )


def registry() -> CollectorRegistry:
    """All processes of this node (multiprocess mode) or this one, plus the queue gauges."""
    combined = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)
    scrape = CollectorRegistry()
    scrape.register(_Forward(combined))
    scrape.register(QueueCollector())
    return scrape


class _Forward:
    """Another registry's samples, so the queue gauges join without registering globally."""

    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self):
        yield from self.source.collect()


@allow("GET", "HEAD")
def metrics_view(request):
    """``GET /metrics``: 404 while METRICS_TOKEN is unset, 401 without a token, 403 with a wrong one."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("not found\n", status=404, content_type="text/plain")
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer "):
        response = HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(given.removeprefix("Bearer ").strip().encode(), token.encode()):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
