"""Which retention rule applies to a case's data, and when a closed case is due for erasure.

Most specific first: (process, category), (process, every category), (every process,
category), (every process, every category), then the settings' defaults. A case is kept
as long as the longest period among the categories it holds: it is erased as a whole, so
no category is erased before its own period has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max, Q

from bpmn.registry import runtime_for
from permissions.models import ALL_CATEGORIES, RESTRICTED
from retention.models import ArchiveExport, ArchiveStatus, RetentionRule
from workflows.models import Attachment, CaseOutcome, JobStatus, Note, ProcessInstance


@dataclass(frozen=True)
class Rule:
    """The rule in force for one process and category."""

    keep_years: int
    access_log_years: int
    in_case_file: bool
    legal_basis: str
    rule_id: int | None  # None: the settings' default

    @property
    def source(self) -> str:
        """How the auditor's records name it: ``rule:12`` or ``default``."""
        return f"rule:{self.rule_id}" if self.rule_id is not None else "default"


def conf(name: str):
    return settings.BROBYGGER[name]


def default_rule(category: str) -> Rule:
    return Rule(
        keep_years=conf("RETENTION_CASE_YEARS"),
        access_log_years=conf("RETENTION_ACCESS_LOG_YEARS"),
        in_case_file=category in conf("RETENTION_CASE_FILE_CATEGORIES"),
        legal_basis="default",
        rule_id=None,
    )


def rules_for_process(process_key: str) -> dict[str, Rule]:
    """The rule in force for each category of ``process_key`` (one query)."""
    rows = {
        (row.process_key, row.category): row for row in RetentionRule.objects.filter(process_key__in=["", process_key])
    }
    found = {}
    for category in ALL_CATEGORIES:
        for key in ((process_key, category), (process_key, ""), ("", category), ("", "")):
            row = rows.get(key)
            if row is not None:
                found[category] = Rule(row.keep_years, row.access_log_years, row.in_case_file, row.legal_basis, row.pk)
                break
        else:
            found[category] = default_rule(category)
    return found


def categories_of(case) -> set[str]:
    """The data categories a case holds: its forms' fields, its notes and attachments,
    always ``identity`` (the person) and ``coordination`` (its timeline, participants and
    consents: what every case records), and ``housing`` when it has an outcome. The same
    categories the archive's case file carries (``retention.archive.case_file``), so a case
    whose only housing data is its outcome is kept and archived by housing's rule too."""
    categories = {"identity", "coordination"}
    if CaseOutcome.objects.filter(case=case).exists():
        categories.add("housing")
    for definition_id in ProcessInstance.objects.filter(case=case).values_list("definition_id", flat=True):
        categories.update(runtime_for(definition_id).field_rules.categories)
    categories.update(Note.objects.filter(case=case).values_list("category", flat=True))
    categories.update(Attachment.objects.filter(case=case).values_list("category", flat=True))
    return {category if category in ALL_CATEGORIES else RESTRICTED for category in categories}


@dataclass(frozen=True)
class CaseRetention:
    category: str  # the category whose period is the longest: it decides
    rule: Rule
    erase_after: datetime | None  # None: the case is not closed
    access_log_years: int  # the longest of the case's categories' access-log periods

    def access_log_until(self, erased_at: datetime) -> datetime:
        return add_years(erased_at, self.access_log_years)


def retention_of(case) -> CaseRetention:
    """The rule that decides when ``case`` is erased, and that moment. The access log of
    each category is kept for its own rule's period after the erasure, so the log of the
    whole case for the longest of them, whichever category's data period decides (before,
    the deciding rule's period was used, and of two categories kept alike the first by name
    decided it: coordination, which every case holds, cut health's 20 years to its own 5)."""
    rules = rules_for_process(case.process_key)
    categories = sorted(categories_of(case))
    category = max(categories, key=lambda name: (rules[name].keep_years, rules[name].access_log_years))
    rule = rules[category]
    closed = case.closed_at
    return CaseRetention(
        category,
        rule,
        add_years(closed, rule.keep_years) if closed else None,
        max(rules[name].access_log_years for name in categories),
    )


def add_years(moment: datetime, years: int) -> datetime:
    """The same day ``years`` later; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def unmet_archive_duty(case) -> tuple[str, ...]:
    """The case-file categories the case holds while the archive does not have its case file
    as it stands: no archive export of it done, or one still under way (erased first, its
    package would carry the erased case), or a case file corrected after the last export done
    (the export the correction queued, ``replaces``, not done: failed for good, a new one
    must be ordered). While there are any, the case may not be erased."""
    exports = ArchiveExport.objects.filter(case=case).aggregate(
        done=Max("pk", filter=Q(status=ArchiveStatus.DONE)),
        correction=Max("pk", filter=Q(replaces__isnull=False)),
        under_way=Count("pk", filter=Q(status=ArchiveStatus.PENDING) & ~Q(job__status=JobStatus.FAILED)),
    )
    done, correction = exports["done"], exports["correction"]
    if done is not None and (correction is None or done >= correction) and not exports["under_way"]:
        return ()
    rules = rules_for_process(case.process_key)
    return tuple(sorted(category for category in categories_of(case) if rules[category].in_case_file))
