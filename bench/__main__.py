"""``python -m bench`` (``make bench``): the service layer, its floors (bare engine, database
alone) and timer workers, measured in a throw-away database on the configured server;
prints JSON."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

PROCESSES = Path(__file__).resolve().parent.parent / "bpmn" / "processes"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--timers", type=int, default=500, help="timers per worker round (0: skip)")
    parser.add_argument("--threads", type=int, default=4, help="callers at once for the concurrent figure (1: skip it)")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    from bench import service

    logging.disable(logging.WARNING)
    # A throw-away database on the configured server: real figures, no demo data touched.
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        result = service.run(cases=args.cases, processes_dir=PROCESSES, timer_count=args.timers, threads=args.threads)
    finally:
        teardown_databases(old_config, verbosity=0)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
