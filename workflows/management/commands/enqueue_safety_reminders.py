from django.core.management.base import BaseCommand

from workflows.jobs.safety_reminders import enqueue_safety_reminders


class Command(BaseCommand):
    help = (
        "Queue a reminder job for every open case with a safety warning that lapses within SAFETY_REMINDER_DAYS "
        "and whose keepers have not been told in its time in force (run daily; the workers send the mails)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{enqueue_safety_reminders()} safety reminder jobs queued")
