import json
import logging
from pathlib import Path

from django.core.management.base import BaseCommand
from django.test.utils import setup_databases, teardown_databases

from workflows import bench

PROCESSES = Path(__file__).resolve().parents[3] / "bpmn" / "processes"


class Command(BaseCommand):
    help = ("Measure the service layer, its floors (bare engine, database alone) and timer workers on the "
            "configured database; prints JSON.")

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=200)
        parser.add_argument("--timers", type=int, default=500, help="timers per worker round (0: skip)")
        parser.add_argument("--threads", type=int, default=4,
                            help="callers at once for the concurrent figure (1: skip it)")

    def handle(self, *args, cases, timers, threads, **options):
        logging.disable(logging.WARNING)
        # A throw-away database on the configured server: real figures, no demo data touched.
        old_config = setup_databases(verbosity=0, interactive=False)
        try:
            result = bench.run(cases=cases, processes_dir=PROCESSES, timer_count=timers, threads=threads)
        finally:
            teardown_databases(old_config, verbosity=0)
        self.stdout.write(json.dumps(result, indent=2))
