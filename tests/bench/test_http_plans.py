"""``python -m bench.http --analyze``: the plans made on nearly empty tables are made again.

The bench's server starts on nearly empty tables, and a connection keeps the plans it made then
(foreign-key checks, statements prepared on the server, the triggers' statements): a read by
key planned as a sequential scan of a page or two went on scanning the task table as the run
grew it by thousands of rows. ``server.analyze`` (after the warm-up, with ``--analyze``) makes
PostgreSQL plan them again on the tables as they are, as autovacuum does in a live database.
"""

import pytest
from django.db import connection

from bench.http import server

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    settings = connection.settings_dict
    user, host, port = settings["USER"] or "", settings["HOST"] or "localhost", settings["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


def _plan(cursor) -> str:
    cursor.execute("EXPLAIN EXECUTE probe_by_key(1)")
    return "\n".join(row[0] for row in cursor.fetchall())


def test_a_plan_made_on_an_empty_table_is_made_again_after_the_warm_up():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_plan_probe (id bigint PRIMARY KEY, payload text)")
        try:
            # A few rows, counted (a migration's index build on the empty table counts them too):
            # planned once then, as the server's connections plan at its start.
            cursor.execute("INSERT INTO bench_plan_probe SELECT n, repeat('x', 200) FROM generate_series(1, 10) n")
            cursor.execute("ANALYZE bench_plan_probe")
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            cursor.execute("PREPARE probe_by_key(bigint) AS SELECT payload FROM bench_plan_probe WHERE id = $1")
            assert "Seq Scan" in _plan(cursor)
            cursor.execute("INSERT INTO bench_plan_probe SELECT n, repeat('x', 200) FROM generate_series(11, 20000) n")
            assert "Seq Scan" in _plan(cursor)  # kept while the table grew: 20,000 rows read for one

            server.analyze(_database_url())

            assert "Index Scan using bench_plan_probe_pkey" in _plan(cursor)
        finally:
            cursor.execute("DEALLOCATE probe_by_key")
            cursor.execute("RESET plan_cache_mode")
            cursor.execute("DROP TABLE bench_plan_probe")
