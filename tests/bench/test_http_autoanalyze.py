"""``python -m bench.http`` analyzes a table when autovacuum would, on a server where it is off.

This machine's PostgreSQL runs with autovacuum off, so nothing analyzed the bench's tables as
a run grew them, and the server's connections kept plans made on nearly empty tables (README,
"Production server"). ``bench.http.autoanalyze`` does what autovacuum's defaults would:
``ANALYZE`` once the rows changed since the last exceed
``autovacuum_analyze_threshold + autovacuum_analyze_scale_factor x reltuples``.
"""

import pytest
from django.db import connection

from bench.http import autoanalyze
from bench.http.autoanalyze import AutoAnalyze, Settings, TableStats

DEFAULTS = Settings(autovacuum=False, track_counts=True, threshold=50, scale_factor=0.1)


def _table(changed: int, reltuples: float, options: tuple[str, ...] = ()) -> TableStats:
    return TableStats("public", "workflows_task", reltuples, changed, options)


def test_a_table_is_analyzed_once_its_changes_pass_the_threshold_and_not_before():
    # 50 + 0.1 x 1,000 rows = 150 changed rows: autovacuum analyzes at the 151st.
    assert not autoanalyze.due(_table(150, 1000), DEFAULTS)
    assert autoanalyze.due(_table(151, 1000), DEFAULTS)
    # At 100,000 rows (the bench's history) it takes 10,050 changes.
    assert not autoanalyze.due(_table(10_050, 100_000), DEFAULTS)
    assert autoanalyze.due(_table(10_051, 100_000), DEFAULTS)
    # Never analyzed nor vacuumed (reltuples -1): the base threshold alone.
    assert not autoanalyze.due(_table(50, -1), DEFAULTS)
    assert autoanalyze.due(_table(51, -1), DEFAULTS)


def test_a_table_s_own_storage_parameters_come_first_as_autovacuum_reads_them():
    own = ("autovacuum_analyze_threshold=0", "autovacuum_analyze_scale_factor=0.5")
    assert not autoanalyze.due(_table(500, 1000, own), DEFAULTS)
    assert autoanalyze.due(_table(501, 1000, own), DEFAULTS)
    assert not autoanalyze.due(_table(1_000_000, 1000, ("autovacuum_enabled=false",)), DEFAULTS)


def test_the_server_s_settings_decide_whether_the_bench_analyzes_at_all():
    assert DEFAULTS.needed
    assert not Settings(autovacuum=True, track_counts=True, threshold=50, scale_factor=0.1).needed
    # Without counts autovacuum has nothing to go by, and neither has the bench.
    assert not Settings(autovacuum=False, track_counts=False, threshold=50, scale_factor=0.1).needed


def _database_url() -> str:
    settings = connection.settings_dict
    user, host, port = settings["USER"] or "", settings["HOST"] or "localhost", settings["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


def _changed(cursor) -> int:
    cursor.execute("SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'bench_analyze_probe'")
    return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_poller_analyzes_a_table_past_the_threshold_and_nothing_on_a_server_with_autovacuum(monkeypatch):
    on = Settings(autovacuum=True, track_counts=True, threshold=50, scale_factor=0.1)
    monkeypatch.setattr(autoanalyze, "read_settings", lambda _connection: on)
    assert not AutoAnalyze(_database_url()).start().active  # the server's autovacuum does it

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_analyze_probe (id bigint PRIMARY KEY)")
        try:
            poller = AutoAnalyze(_database_url())
            assert poller.open(DEFAULTS)
            cursor.execute("INSERT INTO bench_analyze_probe SELECT generate_series(1, 40)")
            cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute("SELECT 1")  # the counts flushed at this statement's end
            assert "public.bench_analyze_probe" not in poller.poll_once()  # 40 changed: under 50
            cursor.execute("INSERT INTO bench_analyze_probe SELECT generate_series(41, 100)")
            cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute("SELECT 1")
            assert "public.bench_analyze_probe" in poller.poll_once()  # 100 changed, never analyzed
            assert _changed(cursor) == 0
            assert "public.bench_analyze_probe" not in poller.poll_once()
            assert poller.summary()["tables"]["public.bench_analyze_probe"] == 1
            poller.stop()
        finally:
            cursor.execute("DROP TABLE bench_analyze_probe")
