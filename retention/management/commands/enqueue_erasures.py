from django.core.management.base import BaseCommand

from retention.jobs import enqueue_due_erasures


class Command(BaseCommand):
    help = "Queue an erasure job for every closed case past its retention (run daily; the workers erase)."

    def handle(self, *args, **options):
        self.stdout.write(f"{enqueue_due_erasures()} erasure jobs queued")
