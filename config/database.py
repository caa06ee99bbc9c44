"""The database connection settings from the environment: persistent or pooled connections.

Opening a PostgreSQL connection costs a few milliseconds of the server's CPU (a process
fork, authentication); a request that opens one is several times slower than one that
reuses one. Two ways to reuse them, both measured with ``make bench-http`` (README):

* persistent (default): each web thread keeps its connection for ``DB_CONN_MAX_AGE``
  seconds, checked at the start of a request (``DB_CONN_HEALTH_CHECKS``: ``config.postgresql``)
  so a connection broken by a PostgreSQL restart is replaced instead of failing the request;
* pooled (``DB_POOL=true``): Django 5.2's psycopg pool per process, ``DB_POOL_MIN_SIZE`` to
  ``DB_POOL_MAX_SIZE`` connections shared by the process's threads, checked when taken.
"""

from __future__ import annotations

from collections.abc import Callable

import dj_database_url
from dj_database_url import DBConfig
from django.core.exceptions import ImproperlyConfigured

POSTGRESQL = "django.db.backends.postgresql"
# Django's, with a health check that sends nothing to a healthy connection (config/postgresql).
ENGINE = "config.postgresql"
# psycopg's threshold when DB_PREPARE_THRESHOLD is not set: no statement runs this often on
# one connection, so only those asked to be prepared are (``permissions.prepared``).
PREPARE_COMPILED_ONLY = 2**62


def postgres_settings(
    url: str, *, env_bool: Callable[[str, bool], bool], env_int: Callable[[str, int], int]
) -> DBConfig:
    """The ``default`` database for a ``postgres://`` URL, with reuse and timeouts applied."""
    database = dj_database_url.parse(url)
    database["ENGINE"] = ENGINE
    options = database.setdefault("OPTIONS", {})
    # A dead or failed-over server is noticed in seconds, not after the kernel's TCP timeout.
    options.setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
    database["CONN_HEALTH_CHECKS"] = env_bool("DB_CONN_HEALTH_CHECKS", True)
    # No JIT compilation: the lists' plans carry a high total cost (an index walk that a
    # LIMIT stops after a page), over jit_above_cost, and compiling then took 70-80 ms of a
    # query that runs in 1-10 ms (README "Read paths at scale"). DB_JIT=true keeps the
    # server's setting (a connection pooler that refuses startup options needs it).
    if not env_bool("DB_JIT", False):
        options.setdefault("options", "-c jit=off")
    # Server-side prepared statements: PostgreSQL parses and plans a statement once per
    # connection instead of on every request. By default only the reads compiled once per
    # process (``permissions.prepared.Prepared``: the token, memberships, the access checks,
    # a task or a case by id) are prepared, at their first run: point reads, whose one
    # (generic) plan serves every value. With them PostgreSQL's CPU per bench-http round
    # fell by about a third (README "Performance"). ``DB_PREPARE_THRESHOLD=N`` prepares
    # every other statement too, the N-th time a connection runs it; not the default,
    # because after five runs PostgreSQL may keep a generic plan, and for the task lists
    # of a busy or a quiet agency at a million tasks that plan took 1-2.6 s instead of
    # 30-110 ms ("mine", "overdue"); planning each run anew (plan_cache_mode) kept none of
    # the saving. psycopg prepares only with server-side parameter binding, so it is turned
    # on with it (a step's batch is prepared as well, and pipelined: ``steps.rows``). psycopg
    # forgets its prepared statements after a ROLLBACK, DISCARD ALL, DROP or ALTER on the
    # connection; PostgreSQL re-plans them when a migration changes a table they read.
    # ``DB_PREPARE_THRESHOLD=0`` turns preparing and server-side binding off: needed behind
    # a pooler that hands a server connection to another client after each transaction
    # (PgBouncer in transaction mode, unless 1.21 or later with max_prepared_statements).
    prepare_threshold = env_int("DB_PREPARE_THRESHOLD", PREPARE_COMPILED_ONLY)
    if prepare_threshold < 0:
        raise ImproperlyConfigured("DB_PREPARE_THRESHOLD must be 0 (off) or a positive number of runs")
    if prepare_threshold > 0:
        options["server_side_binding"] = True
        options["prepare_threshold"] = prepare_threshold
    if env_bool("DB_POOL", False):
        min_size, max_size = env_int("DB_POOL_MIN_SIZE", 2), env_int("DB_POOL_MAX_SIZE", 8)
        if not 0 <= min_size <= max_size or max_size < 1:
            raise ImproperlyConfigured("DB_POOL_MIN_SIZE must be between 0 and DB_POOL_MAX_SIZE (at least 1)")
        database["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django refuses both at once
        options["pool"] = {
            "min_size": min_size,
            "max_size": max_size,
            # A request waits this long for a free connection, then fails (503) instead of hanging.
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
        }
    else:
        database["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 600)
    return database
