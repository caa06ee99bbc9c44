"""The open-task summary's rows are written at every step (a bench case's day row is
inserted and deleted again at each of its completions): each index of the table is kept up
for every row written, so it has only the ones a read walks (insight 0011)."""

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def test_the_summary_rows_are_indexed_by_their_key_and_nothing_else():
    found = indexes("insight_opentasksdue")
    # The primary key (the merge deletes emptied rows by it) and the key the merge's upsert
    # and the overdue figure (scope, then the days before today) read: no agency index.
    assert set(found) == {"insight_opentasksdue_pkey", "insight_opentasks_key"}, found
    assert "(scope, due_day, agency_id)" in found["insight_opentasks_key"]


def test_the_overdue_figure_reads_the_summary_by_its_key():
    """The figure's read of the days before today, planned on a table too large to read whole."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO insight_opentasksdue (scope, due_day, agency_id, tasks) "
            "SELECT s, DATE '2026-01-01' + d, 1, 1 FROM generate_series(0, 199) s, generate_series(0, 99) d"
        )
        cursor.execute("ANALYZE insight_opentasksdue")
        cursor.execute(
            "EXPLAIN SELECT agency_id, tasks FROM insight_opentasksdue WHERE scope = %s AND due_day < %s",
            [7, "2026-02-01"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "insight_opentasks_key" in plan and "Seq Scan" not in plan, plan
