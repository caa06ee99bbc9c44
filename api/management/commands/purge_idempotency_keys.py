from django.core.management.base import BaseCommand

from api.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Key rows older than IDEMPOTENCY_KEY_HOURS (run daily, e.g. from cron)."

    def handle(self, *args, **options):
        self.stdout.write(f"{purge_expired()} expired idempotency keys deleted")
