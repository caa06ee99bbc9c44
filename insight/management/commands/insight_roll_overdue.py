from django.core.management.base import BaseCommand

from insight import rolling


class Command(BaseCommand):
    help = (
        "Queue today's roll of the open-task summary behind the leaders' overdue figure (run daily; "
        "the workers roll, and each roll queues the next day's)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{rolling.enqueue_roll()} overdue roll jobs queued")
