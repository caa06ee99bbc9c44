"""``manage.py serve``: one production node: gunicorn and the job workers, kept running.

Refuses to start with DEBUG on or on anything but PostgreSQL. Then migrates, scrubs the
stored failure texts once (``scrub_failure_texts``: at once when done), queues the day's roll
of the overdue figure's summary (``insight_roll_overdue``: each roll queues the next), collects the static
files (served by whitenoise), and runs gunicorn (``ops/gunicorn_conf.py``, sized by
WEB_WORKERS and WEB_THREADS) beside JOB_WORKERS job workers, restarting a worker that dies
(``ops.supervisor``). ``--dev`` is ``make run``: runserver and one worker, no checks.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from prometheus_client import multiprocess

from ops.supervisor import Supervisor

GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "python:ops.gunicorn_conf"]
WORKER = [sys.executable, "manage.py", "worker"]


class Command(BaseCommand):
    help = (
        "Run a production node: migrate, scrub_failure_texts, collectstatic, gunicorn and the job workers "
        "(restarted when they die)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", help="address:port for the web server (default WEB_BIND or 127.0.0.1:8000)")
        parser.add_argument("--job-workers", type=int, help="job worker processes (default JOB_WORKERS or 1)")
        parser.add_argument(
            "--skip-setup",
            action="store_true",
            help="no migrate/scrub_failure_texts/collectstatic (a further node, once the first one has done them)",
        )
        parser.add_argument("--dev", action="store_true", help="runserver instead of gunicorn, no production checks")

    def handle(self, *args, bind=None, job_workers=None, skip_setup=False, dev=False, **options):
        env = dict(os.environ)
        bind = bind or env.get("WEB_BIND") or "127.0.0.1:8000"
        count = job_workers if job_workers is not None else int(env.get("JOB_WORKERS") or 1)
        if count < 0:
            raise CommandError("--job-workers must be 0 or more")
        if dev:
            web = [sys.executable, "manage.py", "runserver", bind]
        else:
            self._refuse_unsafe()
            if not skip_setup:
                call_command("migrate", interactive=False, verbosity=1)
                # Stored failure texts scrubbed again with today's scrubber, once (at once when done).
                call_command("scrub_failure_texts")
                # The daily roll of the overdue figure's summary, queued once: each roll queues the next.
                call_command("insight_roll_overdue")
                call_command("collectstatic", interactive=False, verbosity=0)
            env["WEB_BIND"] = bind
            web = GUNICORN
        metrics_dir = self._metrics_dir(env)
        supervisor = Supervisor(env=env, cwd=str(settings.BASE_DIR), on_exit=self._dead(metrics_dir))
        supervisor.add("web", web, restart=False)
        for number in range(count):
            supervisor.add(f"job worker {number + 1}", WORKER, restart=True)
        self.stdout.write(f"Brobygger on http://{bind}/ with {count} job worker(s); Ctrl-C or SIGTERM stops it")
        try:
            code = supervisor.run()
        finally:
            if metrics_dir.owned:
                shutil.rmtree(metrics_dir.path, ignore_errors=True)
        if code:
            raise CommandError(f"the web server exited with {code}", returncode=code)

    def _refuse_unsafe(self) -> None:
        if settings.DEBUG:
            raise CommandError("DEBUG is on: set DEBUG=false to serve in production (make run is for the demo)")
        if connection.vendor != "postgresql":
            raise CommandError(
                "DATABASE_URL must point to PostgreSQL (postgres://...) to serve in production, "
                f"not {connection.vendor}"
            )
        if not settings.STATIC_ROOT:
            raise CommandError("STATIC_ROOT must be set: collectstatic copies the static files there")

    @staticmethod
    def _metrics_dir(env: dict):
        """Where every process of the node writes its metrics; emptied at start (stale files lie)."""
        path, owned = env.get("PROMETHEUS_MULTIPROC_DIR"), False
        if not path:
            path, owned = tempfile.mkdtemp(prefix="brobygger-metrics-"), True
            env["PROMETHEUS_MULTIPROC_DIR"] = path
        Path(path).mkdir(parents=True, exist_ok=True)
        for stale in Path(path).glob("*.db"):
            stale.unlink()
        return _MetricsDir(path, owned)

    @staticmethod
    def _dead(metrics_dir):
        def forget(pid: int) -> None:
            multiprocess.mark_process_dead(pid, metrics_dir.path)

        return forget


class _MetricsDir:
    def __init__(self, path: str, owned: bool):
        self.path, self.owned = path, owned
