"""The summary tables behind the insight pages.

Each row is a count (or a sum) for a period and a few dimensions, kept current in the
transaction that writes the events it counts (``insight.recording``) and rebuilt from the
events and outcomes by ``manage.py insight_backfill``. No row names a case, a task or a
person: the figures must survive the erasure of the people they count.

``scope`` is whose figures a row belongs to: ``0`` for the whole municipality, else the id
of an agency taking part in the cases counted (an agency leader sees the cases of their
own agency). A case with five participants adds to six scopes. It is a plain integer, not
a key: ``0`` has no agency row.
"""

from __future__ import annotations

from django.db import models

WHOLE_MUNICIPALITY = 0


class SummaryRow(models.Model):
    scope = models.PositiveIntegerField(help_text="0: the whole municipality; else an agency id")

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self._meta.model_name} {self.pk} (scope {self.scope})"


class CaseFlow(SummaryRow):
    """Cases opened (``outcome`` empty) and closed (with their outcome and tenure) per month."""

    month = models.DateField(help_text="First day of the month")
    process_key = models.CharField(max_length=200)
    outcome = models.CharField(max_length=50, blank=True, help_text="Outcome kind code; empty for openings")
    tenure = models.CharField(max_length=30, blank=True)
    opened = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "month", "process_key", "outcome", "tenure"], name="insight_caseflow_key"
            )
        ]


class HousingTime(SummaryRow):
    """How many cases were housed after how many days from referral, per quarter housed:
    a histogram, so medians and percentiles come out exact."""

    quarter = models.DateField(help_text="First day of the quarter the person moved in")
    process_key = models.CharField(max_length=200)
    days = models.PositiveIntegerField()
    cases = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "quarter", "process_key", "days"], name="insight_housingtime_key")
        ]


class TaskTime(SummaryRow):
    """Completed tasks per month, process version, element and the agency that held them:
    how long the ball was held (``seconds``), and how many had a deadline and missed it."""

    month = models.DateField(help_text="First day of the month the task was completed")
    definition = models.ForeignKey("bpmn.ProcessDefinition", on_delete=models.PROTECT, related_name="+")
    element_id = models.CharField(max_length=200)
    agency = models.ForeignKey("permissions.Agency", on_delete=models.PROTECT, related_name="+")
    completed = models.PositiveIntegerField(default=0)
    seconds = models.BigIntegerField(default=0, help_text="Sum of the times from created to completed")
    with_deadline = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0, help_text="Completed after their deadline")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "month", "definition", "element_id", "agency"], name="insight_tasktime_key"
            )
        ]
        indexes = [models.Index(fields=["scope", "definition", "month"], name="insight_tasktime_version")]


class TimerFired(SummaryRow):
    """Timers fired per month and element (the boundary timers among them are escalations)."""

    month = models.DateField()
    definition = models.ForeignKey("bpmn.ProcessDefinition", on_delete=models.PROTECT, related_name="+")
    element_id = models.CharField(max_length=200)
    fired = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "month", "definition", "element_id"], name="insight_timer_key")
        ]


class DischargeWait(SummaryRow):
    """Hospital discharges per month of discharge, and the days between "ready for
    discharge" and discharge that the municipality pays for."""

    month = models.DateField()
    discharges = models.PositiveIntegerField(default=0)
    days = models.PositiveIntegerField(default=0)
    # How many of them waited a day or more: the days are theirs alone, so a month's days are
    # shown only where five or more waited (five discharges of which one waited told that
    # one person's days, and its cost, to the day).
    waited = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "month"], name="insight_discharge_key")]


class FiguresVersion(models.Model):
    """How often a scope's summary rows have changed: bumped in the transaction that writes
    them, so a cached figure (``insight.figures.cached``) keyed by it is never stale once
    a change commits. A scope without a row is at version 0."""

    scope = models.PositiveIntegerField(unique=True, help_text="0: the whole municipality; else an agency id")
    version = models.BigIntegerField(default=0)

    def __str__(self):
        return f"scope {self.scope} at version {self.version}"


class OpenTasksDue(models.Model):
    """Open tasks with a deadline, per scope, UTC day of the deadline and agency holding
    them, from the roll's day on (``OpenTasksRoll``; the days before it are folded into
    ``OpenTasksBefore``): "overdue now" sums those and the days before today here, and counts
    today's deadlines live.

    Kept by PostgreSQL itself (triggers of migration 0003 on the tasks and the case
    participants), so every write counts, the steps' and any other: each statement logs its
    changes in ``OpenTasksChange``, and the transaction adds them here as it commits, all in
    one statement in key order (two transactions cannot deadlock on these rows, and hold
    them only while committing). ``tasks`` is never 0 (such rows are deleted).
    """

    scope = models.PositiveIntegerField(help_text="0: the whole municipality; else an agency id")
    due_day = models.DateField(help_text="The UTC day of the deadline")
    # No index of its own (insight 0011): the figures read by scope and day
    # (``insight_opentasks_key``), nothing by the agency alone, and there is no foreign-key
    # check to serve; a bench case's day row is inserted and deleted again at every step, so
    # that index took an entry per row written (five a completion) for no reader.
    agency = models.ForeignKey(
        "permissions.Agency", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    tasks = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "due_day", "agency"], name="insight_opentasks_key")]

    def __str__(self):
        return f"scope {self.scope}: {self.tasks} open, due {self.due_day}"


class OpenTasksBefore(models.Model):
    """Open tasks with a deadline before the roll's day (``OpenTasksRoll.through``), per scope
    and agency holding them: the days ``OpenTasksDue`` no longer holds, folded into one row.

    So "overdue now" reads a scope's rows here (one per agency) and the few day rows from
    the roll's day to today, however many days hold open tasks. The daily roll
    (``insight.rolling``, a job) folds the days before yesterday in; a change to an earlier
    day lands here as it commits (the merge of ``OpenTasksDue``, in the same key order).
    ``tasks`` is never 0 (such rows are deleted)."""

    scope = models.PositiveIntegerField(help_text="0: the whole municipality; else an agency id")
    agency = models.ForeignKey(
        "permissions.Agency", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    tasks = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "agency"], name="insight_opentasksbefore_key")]

    def __str__(self):
        return f"scope {self.scope}: {self.tasks} open, due before the roll's day"


class OpenTasksRoll(models.Model):
    """How far the daily roll has folded the day rows: open tasks due before ``through`` are
    counted in ``OpenTasksBefore``, the others in ``OpenTasksDue``. One row (id 1), written by
    the roll and the rebuild (migration 0012's functions); none until the first of them: then
    every day is in ``OpenTasksDue``. ``through`` never goes back."""

    through = models.DateField(help_text="The first UTC day not folded")

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="insight_opentasksroll_one_row")]

    def __str__(self):
        return f"open tasks folded before {self.through}"


class OpenTasksChange(models.Model):
    """A transaction's changes to ``OpenTasksDue`` until it commits (then moved there):
    outside the transaction that wrote them, no row is ever seen.

    So the table is UNLOGGED (migration 0009): a crash, which empties such a table, can only
    take rows of transactions that never committed, and the five to ten rows a completion
    logs and deletes again write no WAL (about 30 records, 10 kB and more after each
    checkpoint). Its rows are found by ``transaction_id`` only: no index on the agency, which
    each row's insert would keep up for nothing (README "Performance")."""

    transaction_id = models.BigIntegerField(db_index=True, help_text="txid_current() of the writer")
    scope = models.PositiveIntegerField()
    due_day = models.DateField()
    agency = models.ForeignKey(
        "permissions.Agency", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    tasks = models.IntegerField(help_text="Open tasks added (less those no longer open)")
    # One row of each logging statement's rows: only it queues the deferred merge (migration
    # 0005), which moves the whole transaction's log; the other rows queue no call.
    merges = models.BooleanField(db_default=False, help_text="This row's insert merges the log at commit")

    def __str__(self):
        return f"transaction {self.transaction_id}: scope {self.scope} {self.tasks:+d}"


class DecidedLedger(models.Model):
    """What the readings of a family of figures have shown, kept so that no later reading
    undoes it (``insight.privacy.merge``): every cell any reading had, with its number, its
    sums and whether (and how) it was hidden. One per family and group of scopes read
    together (``insight.figures.read_together``: every scope some leader reads and the
    municipality's, one group, so that each scope reads the same to every reader): a finished
    month's cell is decided at its first reading and read the same afterwards, and what a later
    reading hides is decided with every earlier reading's numbers taken as known. When the
    group changes (a leader comes or goes, gains or loses an agency), its ledger takes in the
    ledgers of the groups it overlaps (``folded``, ``insight.privacy.fold``).

    Numbers only, keyed by figure and period, never a case or a person, like the summary
    rows (so they survive erasure as the figures do). Written on the primary, under a lock of
    the row, so two readings at once decide one after the other."""

    family = models.CharField(max_length=40)
    scopes = models.TextField(help_text="The scopes read together, comma-separated, in order")
    until = models.DateField(help_text="The first month not counted by the latest reading")
    ledger = models.JSONField(default=dict)
    folded = models.JSONField(
        default=dict,
        db_default={},  # the code of before the upgrade writes rows without it
        help_text="Each other group's ledger taken in (its id -> when it was last written)",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["family", "scopes"], name="insight_decided_key")]

    def __str__(self):
        return f"{self.family} of scopes {self.scopes} through {self.until}"
