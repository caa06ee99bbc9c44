"""The tables a step writes keep no index that another index of theirs already covers."""

import pytest
from django.db import connection

# Written on every completion or case start (README "Performance").
STEP_TABLES = ("workflows_task", "workflows_event", "workflows_case", "workflows_processinstance", "workflows_job")

# A plain B-tree index whose columns begin another plain, whole-table B-tree index of the same
# table: every lookup it serves the longer one serves, and every insert (and every update that
# is no HOT update: a task's completion, a case's new deadline) writes an entry in both.
COVERED = """
WITH indexes AS (
    SELECT c.relname AS table_name, i.relname AS index_name, x.indisunique AS is_unique,
           string_to_array(x.indkey::text, ' ')::int[] AS columns
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class c ON c.oid = x.indrelid
    JOIN pg_am am ON am.oid = i.relam
    WHERE c.relname = ANY(%s) AND am.amname = 'btree' AND x.indpred IS NULL AND x.indexprs IS NULL
)
SELECT a.index_name, b.index_name FROM indexes a JOIN indexes b
  ON a.table_name = b.table_name AND a.index_name <> b.index_name
WHERE NOT a.is_unique AND cardinality(a.columns) < cardinality(b.columns)
  AND b.columns[1:cardinality(a.columns)] = a.columns
ORDER BY 1
"""


@pytest.mark.postgres
def test_no_index_of_the_tables_a_step_writes_is_covered_by_another(db):
    """Five were (migration 0058): the task's instance, agency and assignee, the event's case,
    the case's responsible; a completion wrote about five index entries more for them."""
    with connection.cursor() as cursor:
        cursor.execute(COVERED, [list(STEP_TABLES)])
        assert cursor.fetchall() == []
