# Each logging statement of the open-task summary (0005) queued the deferred merge once:
# a completion that creates a task logs in two statements (its task leaving the counts, the
# new task joining them), so the merge ran twice as the transaction committed, and the
# second call found nothing (the first moves the whole transaction's log): 1.57 calls a
# completion in ``make bench``, 0.57 of them empty. Now a statement queues the merge only
# when the transaction's log is empty as it starts: then no merge is queued yet (or the one
# queued has run already, under SET CONSTRAINTS ... IMMEDIATE). A log row a later statement
# finds is always its merge's: rolling back to a savepoint takes the earlier statement's rows
# and its queued merge together, and everything after them with it.
from importlib import import_module

from django.db import migrations

STATEMENTS_BEFORE = import_module("insight.migrations.0005_open_tasks_one_merge_per_statement").STATEMENTS

_MARK = "row_number() OVER () = 1"
_FIRST_OF_TRANSACTION = (
    "row_number() OVER () = 1\n"
    "            AND NOT EXISTS (SELECT FROM insight_opentaskschange WHERE transaction_id = txid_current())"
)


def _first_of_transaction(sql: str) -> str:
    if sql.count(_MARK) != 6:
        raise ValueError("every logging statement of 0005 marks one row")
    return sql.replace(_MARK, _FIRST_OF_TRANSACTION)


STATEMENTS = _first_of_transaction(STATEMENTS_BEFORE)


def one_merge_per_transaction(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STATEMENTS, params=None)


def one_merge_per_statement(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STATEMENTS_BEFORE, params=None)


class Migration(migrations.Migration):
    dependencies = [("insight", "0009_open_tasks_log_unlogged")]

    operations = [migrations.RunPython(one_merge_per_transaction, one_merge_per_statement)]
