from django.core.management.base import BaseCommand

from insight import figures


class Command(BaseCommand):
    help = "Delete the kept decisions of groups of scopes no longer read that the groups read now have taken in."

    def handle(self, *args, **options):
        self.stdout.write(f"{figures.prune_decided_ledgers()} kept ledgers deleted")
