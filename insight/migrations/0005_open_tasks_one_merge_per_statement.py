# The open-task summary's log (0003) queued its deferred merge once per logged row: a
# completion logs about ten rows (its task leaving every scope of the case, the new task
# joining them), so the merge ran ten times as the transaction committed, and all but the
# first found nothing to move. Those calls were the largest trigger cost of a completion:
# 11,255 calls, 41 us each, for 1,350 transactions of ``make bench`` (track_functions).
# Now each logging statement marks one of its rows (``merges``) and only that row queues
# the merge: one call per statement that changed the counts. The first call still moves
# the whole transaction's log, so what is merged, and when, is unchanged.
from importlib import import_module

from django.db import migrations, models

STATEMENTS_BEFORE = import_module("insight.migrations.0004_open_tasks_static_statements").STATIC_SQL

_LOGGED = "INSERT INTO insight_opentaskschange (transaction_id, scope, due_day, agency_id, tasks)"
# Window functions run after GROUP BY and HAVING: exactly one of the rows inserted is marked.
_MARKED = (
    ("sum(t.n)\n        FROM (", "sum(t.n), row_number() OVER () = 1\n        FROM ("),
    ("sum(c.n)\n        FROM changed c", "sum(c.n), row_number() OVER () = 1\n        FROM changed c"),
)


def _marking(sql: str) -> str:
    inserts = sql.count(_LOGGED)
    sql = sql.replace(_LOGGED, _LOGGED[:-1] + ", merges)")
    for before, after in _MARKED:
        sql = sql.replace(before, after)
    if sql.count("row_number() OVER () = 1") != inserts or inserts != 6:
        raise ValueError("every logging statement of 0004 must mark one row")
    return sql


STATEMENTS = _marking(STATEMENTS_BEFORE)
TRIGGER = """
DROP TRIGGER insight_open_tasks_merged ON insight_opentaskschange;
CREATE CONSTRAINT TRIGGER insight_open_tasks_merged AFTER INSERT ON insight_opentaskschange
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {when}EXECUTE FUNCTION insight_open_tasks_merge();
"""


def one_merge_per_statement(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STATEMENTS + TRIGGER.format(when="WHEN (NEW.merges) "), params=None)


def a_merge_per_row(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STATEMENTS_BEFORE + TRIGGER.format(when=""), params=None)


class Migration(migrations.Migration):
    dependencies = [("insight", "0004_open_tasks_static_statements")]

    operations = [
        migrations.AddField(
            model_name="opentaskschange",
            name="merges",
            field=models.BooleanField(db_default=False, help_text="This row's insert merges the log at commit"),
        ),
        migrations.RunPython(one_merge_per_statement, a_merge_per_row),
    ]
