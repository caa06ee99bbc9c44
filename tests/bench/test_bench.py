"""`make bench` runs every part it reports (a broken part must not wait for someone to run it)."""

import pytest

from bench import service as bench

from ..conftest import PROCESSES

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_benchmark_runs_every_part_and_reports_each_figure():
    result = bench.run(cases=2, processes_dir=PROCESSES, timer_count=3, threads=2)

    assert result["database"] == "postgresql"
    # Each prison-release case here ends after seven completions (has_home False, home found).
    assert result["task_completions"] == 14 and result["task_completions_per_second"] > 0
    assert result["complete_task_p95_ms"] >= result["complete_task_p50_ms"] > 0
    # The CPU of a completion, this process's and its PostgreSQL backend's (on this machine);
    # a few completions may fall between the backend's clock ticks, so at least 0.
    assert result["cpu_per_completion_ms"]["python"] > 0
    assert result["cpu_per_completion_ms"]["postgresql"] >= 0
    assert result["concurrent"]["threads"] == 2 and result["concurrent"]["task_completions"] == 14
    assert result["database_floor"]["transactions"] == 2 and result["database_floor"]["per_second"] > 0
    assert result["bare_engine"]["steps"] == 14
    assert [r["workers"] for r in result["timer_throughput"]["rounds"]] == [1, 2]
    assert all(r["timers_per_second"] > 0 for r in result["timer_throughput"]["rounds"])
