"""``python -m bench.insight [--tasks N]`` (``make bench-insight``): the insight pages at
national size. Fills the summary tables as N completed tasks (and their cases, outcomes,
escalations and discharges, spread over three years, the five shipped processes and the
demo agencies) would, through the same ``insight.recording.Tally`` the steps use, in a
throw-away database; then asks every insight page and an export as the municipality
leader and as an agency leader, and prints in JSON the median and p95 of each with its
figures cached, and its first request after the cache was emptied (which computes them).

The pages read only the summary tables, whose size grows with months x elements x
agencies, not with the number of tasks: this loader writes what 1,000,000 tasks leave
there without running a million engine steps.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.insight", description=__doc__)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    from bench import insight_run

    logging.disable(logging.WARNING)
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        start = time.perf_counter()
        rows = insight_run.load(args.tasks)
        loaded = round(time.perf_counter() - start, 1)
        pages = insight_run.measure(args.rounds)
    finally:
        teardown_databases(old_config, verbosity=0)
    print(json.dumps({"tasks": args.tasks, "summary_rows": rows, "load_seconds": loaded, "pages": pages}, indent=2))


if __name__ == "__main__":
    main()
