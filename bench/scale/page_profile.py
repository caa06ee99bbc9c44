"""``python -m bench.scale.page_profile --database NAME``: where one page's time goes, in-process.

On a database kept by ``bench.scale`` (``--keep-database``; its rows are read, nothing is
loaded), each reader (the busiest and the quietest housing office by default) reads its
newest case's page (``--path``, ``{case}`` filled as ``bench.scale`` fills it) through
Django's whole request handling (middleware, session, the view, the template), as gunicorn
runs it less its HTTP parsing: the wall time, the CPU of this thread and of its PostgreSQL
backend (the scheduler's account, hardly moved by other work on the machine), the
statements and the page's size, p50 over ``--requests``; with ``--profile``, cProfile's top
functions and the SQL of one request.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale.page_profile", description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a database kept by bench.scale (brob_1m_...)")
    parser.add_argument("--path", default="/cases/{case}/", help="the page ({case}: the reader's newest case)")
    parser.add_argument("--readers", default="busy housing,quiet housing", help="comma-separated")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="cProfile and the SQL of one request")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)

    from bench.http.server import with_database

    os.environ.update(
        {
            "DATABASE_URL": with_database(os.environ.get("DATABASE_URL", ""), args.database),
            "DEBUG": "false",
            "LOG_REQUESTS": "false",
            "REQUIRE_TWO_FACTOR": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "profile-only-" + "x" * 40,
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from bench.scale import page_profile_run  # after django.setup(): it imports models

    print(page_profile_run.run(args.path, [r.strip() for r in args.readers.split(",")], args.requests, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
