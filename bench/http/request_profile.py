"""``python -m bench.http.request_profile``: where the time of one API request goes.

Through Django's whole request handling (every middleware, authentication, the view, the
serializer: all that gunicorn runs, less its HTTP parsing) on a throw-away PostgreSQL
database: for each route of the bench-http round, the wall time, the SQL statements and
the time spent waiting for them, and a cProfile of the completion, the opened task and the inbox read.
"""

from __future__ import annotations

import argparse
import os
import sys

from .server import PASSWORD, setup_django_in_process, throwaway_database


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http.request_profile", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60, help="cases worked (default 60)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per profile (default 25)")
    parser.add_argument(
        "--trips",
        action="store_true",
        help="count round trips and statements on the wire per route (libpq's trace; not in the profiled rounds)",
    )
    args = parser.parse_args(argv)
    with throwaway_database(os.environ.get("DATABASE_URL", "")) as url:
        setup_django_in_process(
            {
                "DATABASE_URL": url,
                "DEBUG": "false",
                "DEMO_PASSWORD": PASSWORD,
                # As in production: a JSON log line per request (made, then written to /dev/null)
                # and the second factor asked of password sessions (tokens are issued directly).
                "LOG_REQUESTS": "true",
                "LOG_FORMAT": "json",
                "REQUIRE_TWO_FACTOR": "true",
                "SECRET_KEY": os.environ.get("SECRET_KEY") or "profile-only-" + "x" * 40,
            }
        )
        from bench.http import rounds as profiled  # after django.setup(): it imports models

        try:
            report = profiled.profile(args.rounds, args.top, args.trips)
        finally:
            from django.db import connections

            connections.close_all()
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
