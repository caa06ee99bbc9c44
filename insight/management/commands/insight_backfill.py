from django.core.management.base import BaseCommand, CommandError

from insight import backfill


class Command(BaseCommand):
    help = "Rebuild the insight summary tables from the recorded cases, outcomes, tasks and timer events."

    def add_arguments(self, parser):
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace rows already there (never after people were erased: their figures would be lost).",
        )

    def handle(self, *args, replace=False, **options):
        if backfill.has_rows() and not replace:
            raise CommandError("the summary tables have rows already; give --replace to rebuild them")
        for table, rows in backfill.rebuild().items():
            self.stdout.write(f"{table}: {rows} rows")
