"""``manage.py worker``: run background jobs (timers, e-mail, webhooks). See docs/workers.md."""

from django.core.management.base import BaseCommand

from workflows.jobs.worker import Worker


class Command(BaseCommand):
    help = "Run due jobs: timers, notifications, webhooks. Any number of workers may run at once."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="process what is due now, then exit")
        parser.add_argument("--name", help="worker name in the heartbeat table (default: host:pid:random)")
        parser.add_argument("--poll", type=float, help="seconds between polls when idle (default: settings)")

    def handle(self, *args, once=False, name=None, poll=None, **options):
        worker = Worker(name=name, poll_seconds=poll)
        worker.install_signal_handlers()
        if not once:
            self.stdout.write(f"worker {worker.name} started (Ctrl-C or SIGTERM stops it)")
        done = worker.run(once=once, on_ready=lambda: self._ready(worker))
        self.stdout.write(f"worker {worker.name}: {done} jobs done")

    def _ready(self, worker) -> None:
        # Supervisors and tests wait for this line: the worker is listening and idle.
        self.stdout.write(f"worker {worker.name} ready: waiting for jobs")
        self.stdout.flush()
