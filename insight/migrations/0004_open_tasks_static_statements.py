# The open-task summary's statement triggers (0003) built their statement as text and ran
# it with EXECUTE, so PostgreSQL parsed and planned it again at every write to the tasks:
# 1.7 ms of the backend's time per task completion in ``auto_explain`` (a fifth of the
# completion's database time), more than the UPDATE itself. The same statements written
# out per operation are planned once per connection (PL/pgSQL keeps the plans of its
# static statements); what they write is unchanged.
from importlib import import_module

from django.db import migrations

# 0003's two functions, as the reverse puts them back (its text up to the merge function).
_BEFORE = import_module("insight.migrations.0003_open_tasks_due").TRIGGERS_SQL
FUNCTIONS_BEFORE = _BEFORE[: _BEFORE.index("CREATE FUNCTION insight_open_tasks_merge")].replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
)

_TASKS = """
        INSERT INTO insight_opentaskschange (transaction_id, scope, due_day, agency_id, tasks)
        SELECT txid_current(), s.scope, (t.due_at AT TIME ZONE 'UTC')::date, t.agency_id, sum(t.n)
        FROM ({changed}) t
        CROSS JOIN LATERAL (
            SELECT 0::bigint AS scope
            UNION SELECT p.agency_id FROM workflows_caseparticipant p WHERE p.case_id = t.case_id
        ) s
        WHERE t.status IN ('open', 'claimed') AND t.due_at IS NOT NULL
        GROUP BY 2, 3, 4 HAVING sum(t.n) <> 0;"""
_COLUMNS = "case_id, agency_id, due_at, status"

_PARTICIPANTS = """
        WITH moved AS (SELECT case_id, agency_id, sum(n) AS n FROM ({moved}) m GROUP BY 1, 2),
        changed AS (
            SELECT m.case_id, m.agency_id, (now.parts > 0)::int - (now.parts + m.n > 0)::int AS n
            FROM moved m CROSS JOIN LATERAL (
                SELECT count(*) AS parts FROM workflows_caseparticipant p
                WHERE p.case_id = m.case_id AND p.agency_id = m.agency_id
            ) now
        )
        INSERT INTO insight_opentaskschange (transaction_id, scope, due_day, agency_id, tasks)
        SELECT txid_current(), c.agency_id, (t.due_at AT TIME ZONE 'UTC')::date, t.agency_id, sum(c.n)
        FROM changed c JOIN workflows_task t ON t.case_id = c.case_id
        WHERE c.n <> 0 AND t.status IN ('open', 'claimed') AND t.due_at IS NOT NULL
        GROUP BY 2, 3, 4;"""

STATIC_SQL = """
CREATE OR REPLACE FUNCTION insight_open_tasks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN{tasks_inserted}
    ELSIF TG_OP = 'DELETE' THEN{tasks_deleted}
    ELSE{tasks_updated}
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION insight_open_tasks_participants_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- per (case, agency): the parts before the statement less those after it
    IF TG_OP = 'INSERT' THEN{participants_inserted}
    ELSIF TG_OP = 'DELETE' THEN{participants_deleted}
    ELSE{participants_updated}
    END IF;
    RETURN NULL;
END $$;
"""
for _name, _statement in {
    "tasks_inserted": _TASKS.replace("{changed}", "SELECT {columns}, 1 AS n FROM new_rows"),
    "tasks_deleted": _TASKS.replace("{changed}", "SELECT {columns}, -1 AS n FROM old_rows"),
    "tasks_updated": _TASKS.replace(
        "{changed}", "SELECT {columns}, 1 AS n FROM new_rows UNION ALL SELECT {columns}, -1 FROM old_rows"
    ),
    "participants_inserted": _PARTICIPANTS.replace("{moved}", "SELECT case_id, agency_id, -1 AS n FROM new_rows"),
    "participants_deleted": _PARTICIPANTS.replace("{moved}", "SELECT case_id, agency_id, 1 AS n FROM old_rows"),
    "participants_updated": _PARTICIPANTS.replace(
        "{moved}",
        "SELECT case_id, agency_id, -1 AS n FROM new_rows UNION ALL SELECT case_id, agency_id, 1 FROM old_rows",
    ),
}.items():
    STATIC_SQL = STATIC_SQL.replace("{" + _name + "}", _statement.replace("{columns}", _COLUMNS))


def static_statements(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STATIC_SQL, params=None)


def dynamic_statements(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS_BEFORE, params=None)


class Migration(migrations.Migration):
    dependencies = [("insight", "0003_open_tasks_due")]

    operations = [migrations.RunPython(static_statements, dynamic_statements)]
