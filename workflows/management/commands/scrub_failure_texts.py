"""``manage.py scrub_failure_texts``: every stored failure text scrubbed again with today's
scrubber, once (``workflows.failure_texts``). Run by the upgrade step and by ``manage.py serve``;
returns at once when its pass is done."""

from django.core.management.base import BaseCommand

from workflows import failure_texts


class Command(BaseCommand):
    help = (
        "Scrub every stored failure text (jobs' last errors, incidents, incident events) again with "
        "today's scrubber, in batches; once (a finished pass is skipped, a broken-off one goes on)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=failure_texts.BATCH, help="rows per transaction")

    def handle(self, *args, batch=failure_texts.BATCH, **options):
        changed = failure_texts.rescrub(batch=max(batch, 1), out=self.stdout.write)
        if changed is None:
            self.stdout.write("failure texts: scrubbed already")
        else:
            self.stdout.write("failure texts scrubbed: " + ", ".join(f"{key} {n}" for key, n in changed.items()))
