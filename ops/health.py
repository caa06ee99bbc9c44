"""Health checks for load balancers and orchestrators; they reveal no personal data.

``/healthz``: the process answers (liveness; restart it when this fails).
``/readyz``: it can do useful work (readiness; send it traffic only while this passes):
the database answers, every migration is applied, and a job worker has a heartbeat
younger than the job lease (else timers and notifications stand still). With a read
replica configured it also tells the replica's state and lag as last found, without
asking or depending on them.

A load balancer needs the status code only, and that is all ``/readyz`` tells whoever asks:
``{"status": "ok"}`` or ``{"status": "unavailable"}``. Which check failed (the database, a
pending migration, no live job worker) and the replica's state are for the operators'
monitoring, with ``Authorization: Bearer $METRICS_TOKEN`` as ``/metrics`` asks (403 with a
wrong one). Until 2026-12-06 anyone on the internet read them: when the workers were down
or a migration pending, and the replica's lag (docs/deploy.md, "Health checks").
"""

from __future__ import annotations

import hmac
import math
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from core.http_methods import require_GET
from insight import replica
from workflows.models import WorkerHeartbeat

_migrations_seen_applied = False


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    given = request.headers.get("Authorization", "")
    told = False
    if given.startswith("Bearer "):
        token = settings.METRICS_TOKEN
        if not token or not hmac.compare_digest(given.removeprefix("Bearer ").strip().encode(), token.encode()):
            return JsonResponse({"status": "forbidden"}, status=403)
        told = True
    checks = {"database": _database(), "migrations": "skipped", "worker": "skipped"}
    if checks["database"] == "ok":
        checks["migrations"] = _migrations()
        checks["worker"] = _worker()
    ready = all(value == "ok" for value in checks.values())
    answer: dict = {"status": "ok" if ready else "unavailable"}
    if not told:
        return JsonResponse(answer, status=200 if ready else 503)
    answer["checks"] = checks
    if replica.configured():
        # Told, not required, and never asked here (the state the reports and the metrics
        # last found): while it lags or fails, the reports are read from the primary.
        found = replica.last_found()
        lag = round(found.lag, 3) if found and found.lag is not None and math.isfinite(found.lag) else None
        answer["replica"] = {"state": found.name if found else "unknown", "lag_seconds": lag}
    return JsonResponse(answer, status=200 if ready else 503)


def _database() -> str:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError:
        return "unreachable"


def _migrations() -> str:
    """Once all were applied they stay applied (a rollback of migrations is a redeploy)."""
    global _migrations_seen_applied
    if _migrations_seen_applied:
        return "ok"
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return "unreachable"
    _migrations_seen_applied = not pending
    return "ok" if not pending else "pending"


def _worker() -> str:
    lease = timedelta(seconds=settings.BROBYGGER["JOB_LEASE_SECONDS"])
    try:
        alive = WorkerHeartbeat.objects.filter(stopped_at__isnull=True, beat_at__gte=timezone.now() - lease).exists()
    except DatabaseError:
        return "unreachable"
    return "ok" if alive else "no-live-worker"
