from django.core.management.base import BaseCommand

from retention.jobs import enqueue_due_erasures


class Command(BaseCommand):
    help = (
        "Queue an erasure job for every closed case past its retention, and an access-log deletion for every "
        "erased case whose access log is past its own period (run daily; the workers erase)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{enqueue_due_erasures()} retention jobs queued")
