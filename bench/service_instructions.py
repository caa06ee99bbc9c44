"""``python -m bench.service_instructions``: ``make bench``'s service layer, counted in instructions.

Wall-clock figures of ``make bench`` move with the machine's load by more than a change is worth;
instruction counts do not. The same loop as ``bench.service`` (the prison-release process through
``services.start_case`` and ``services.complete_task``, the demo cast's workers), in three steps:

    python -m bench.service_instructions prepare --database NAME
        the schema, the shipped processes and the demo cast (no valgrind; once, then a copy
        for each run: ``CREATE DATABASE copy TEMPLATE NAME``)
    valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=DIR/cg.out \\
        python -m bench.service_instructions run --database copy
        works ``--warmup`` cases uncounted, then ``--cases`` cases with callgrind counting only
        inside each ``start_case`` and ``complete_task`` call (the garbage collector off), one
        dump per call named after it; prints the statements and round trips per call and the
        database's rows and pages for the counted cases (``--plain``: one connection
        throughout, for a PostgreSQL server itself run under callgrind, whose backend then
        counts the server's side; its process id printed)
    python -m bench.service_instructions summary DIR
        instructions per call (mean, min, max) of each.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from bench.http.server import with_database

REPO = Path(__file__).resolve().parent.parent


def _setup(database_url: str) -> None:
    os.environ.update({"DATABASE_URL": database_url, "DEBUG": "false"})
    os.environ.setdefault("SECRET_KEY", "instructions-only-" + "x" * 40)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    logging.disable(logging.WARNING)


def prepare(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "false"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True)
    _setup(database_url)
    from bench import service_counted  # after django.setup(): it imports models

    service_counted.deploy_and_seed(REPO / "bpmn" / "processes")


def run(database_url: str, cases: int, warmup: int, plain: bool = False) -> dict:
    _setup(database_url)
    from bench import service_counted  # after django.setup(): it imports models

    return service_counted.run(cases, warmup, plain)


def summary(directory: str) -> dict:
    from bench.http.instructions import summary as by_route

    report = by_route(directory)
    report.pop("per completion round", None)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.service_instructions", description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["prepare", "run", "summary"])
    parser.add_argument("directory", nargs="?", help="summary: the directory of callgrind's files")
    parser.add_argument("--database", help="prepare, run: a database name on DATABASE_URL's server")
    parser.add_argument("--cases", type=int, default=3, help="cases counted (run; default 3)")
    parser.add_argument("--warmup", type=int, default=3, help="cases worked before (run; default 3)")
    parser.add_argument("--plain", action="store_true", help="one connection throughout (for a server under callgrind)")
    args = parser.parse_args(argv)
    if args.step == "summary":
        print(json.dumps(summary(args.directory or "."), indent=2))
        return 0
    if not args.database:
        parser.error("--database is required")
    url = with_database(os.environ.get("DATABASE_URL", ""), args.database)
    if args.step == "prepare":
        prepare(url)
    else:
        print(json.dumps(run(url, args.cases, args.warmup, args.plain)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
