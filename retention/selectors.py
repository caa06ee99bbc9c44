"""What the auditor and the coordinator read about retention: never case data, only what
was erased, corrected and exported, when, by whom and by which rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.errors import Forbidden, NotFound
from permissions import rules
from retention.models import (
    PERSON_WIDE_REMOVALS,
    ArchiveExport,
    Correction,
    ErasureRecord,
    ErasureTrigger,
    RetentionRuleChange,
)
from retention.rules import Rule, retention_of, unmet_archive_duty
from workflows import selectors as case_selectors
from workflows.models import Case

PERSON_FIELDS = ("person.name", "person.national_id")
NATIONAL_ID = "person.national_id"


def may_read(user, case) -> bool:
    return rules.is_case_coordinator(user, case) or rules.can_review_retention(user, case)


def removed_told_to(user, record: ErasureRecord) -> dict[str, int]:
    """``record.removed`` as ``user`` may read it. The person-wide kinds
    (``PERSON_WIDE_REMOVALS``) tell whether the person has other cases: only the auditors of
    the coordinating agency are told them, the control function already told whether another
    person holds a national id (``rules.can_review_national_id``). A participating agency's
    auditor reviews the erasure of the case from its own counts."""
    if rules.can_review_national_id(user, record.case):
        return dict(record.removed)
    return {kind: count for kind, count in record.removed.items() if kind not in PERSON_WIDE_REMOVALS}


@dataclass(frozen=True)
class RetentionView:
    case: Case
    category: str  # the category whose period decides
    rule: Rule
    erase_after: datetime | None
    archive_duty: tuple[str, ...]  # case-file categories the archive does not have yet
    erasure: ErasureRecord | None
    corrections: list[Correction]
    exports: list[ArchiveExport]


def retention_view_for(user, case_id) -> RetentionView:
    """What the retention page and ``GET /api/v1/cases/{id}/retention/`` show. Every answer but
    a 404 rests on the reader's standing in the case (its coordinator, its auditors), so that
    standing is read first, by the id alone (``case_of_standing``), and the case's row only
    when it stands: a case the reader has no part in and an id no case has run the same
    statements before their 404 (until h-attack27 the row was read first, a statement more for
    a case that exists)."""
    case = case_selectors.case_of_standing(user, case_id)
    if case is None or not may_read(user, case):
        raise NotFound("case.not_found")
    retention = retention_of(case)
    return RetentionView(
        case=case,
        category=retention.category,
        rule=retention.rule,
        erase_after=retention.erase_after,
        archive_duty=unmet_archive_duty(case),
        erasure=ErasureRecord.objects.filter(case=case).select_related("case", "requested_by", "reviewed_by").first(),
        corrections=_corrections_for(user, case),
        exports=list(ArchiveExport.objects.filter(case=case).select_related("requested_by", "job")),
    )


def _corrections_for(user, case) -> list[Correction]:
    """The case's corrections as ``user`` may read them: all for its auditors; for the
    coordinator those of the person and of the values they see. Another agency corrects what
    it recorded (``rules.can_correct_value``), values perhaps masked for the coordinator:
    the field, its category and the reason written would tell what they do not see."""
    corrections = list(Correction.objects.filter(case=case).select_related("corrected_by"))
    if not corrections or rules.can_review_retention(user, case):
        return corrections
    named = case_selectors.corrections_named_to(user, case)
    return [c for c in corrections if c.field in PERSON_FIELDS or named(c.field, c.agency_id)]


TRAIL_ROWS = 200  # the newest entries of each kind; the Django admin lists them all


@dataclass(frozen=True)
class TrailEntry:
    """One thing retention did or was asked to do, for the auditor: no case data."""

    at: datetime
    kind: str  # erased, erasure-request, export, correction
    case: Case
    who: str  # the username, or "" for the retention job
    rule: str  # the rule or ground it was done by
    detail: str  # the status, the field, the period
    reason: str  # what the coordinator wrote (a request's ground, a correction's why)
    erasure: ErasureRecord | None = None


def _audited(user):
    return rules.audited_cases(user, Case.objects.all())


def audit_trail(user) -> list[TrailEntry]:
    """What was erased, requested, exported and corrected in the cases ``user`` audits,
    newest first: when, by whom, by which rule. Four queries whatever the rows."""
    if not rules.is_auditor(user):
        raise Forbidden("retention.not_auditor")
    cases = _audited(user)
    entries: list[TrailEntry] = []
    for record in (
        ErasureRecord.objects.filter(case__in=cases)
        .select_related("case", "requested_by", "reviewed_by")
        .order_by("-erased_at", "-id")[:TRAIL_ROWS]
    ):
        by_request = record.trigger == ErasureTrigger.REQUEST
        entries.append(
            TrailEntry(
                at=record.erased_at,
                kind="erasure-request" if by_request else "erased",
                case=record.case,
                who=record.requested_by.get_username() if record.requested_by else "",
                rule=record.legal_basis if record.rule == "default" else f"{record.rule}: {record.legal_basis}",
                detail=record.rule_category,
                reason=record.reason,
                erasure=record,
            )
        )
    for export in (
        ArchiveExport.objects.filter(case__in=cases)
        .select_related("case", "requested_by")
        .order_by("-requested_at", "-id")[:TRAIL_ROWS]
    ):
        entries.append(
            TrailEntry(
                at=export.requested_at,
                kind="export",
                case=export.case,
                who=export.requested_by.get_username() if export.requested_by else "",
                rule="archive-duty",
                detail=export.status,
                reason="",
            )
        )
    for correction in (
        Correction.objects.filter(case__in=cases)
        .select_related("case", "corrected_by")
        .order_by("-corrected_at", "-id")[:TRAIL_ROWS]
    ):
        entries.append(
            TrailEntry(
                at=correction.corrected_at,
                kind="correction",
                case=correction.case,
                who=correction.corrected_by.get_username(),
                rule="correction",
                detail=correction.field,
                reason=correction.reason,
            )
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:TRAIL_ROWS]


def unreviewed_erasures(user) -> list[ErasureRecord]:
    """Erasures on request in the cases ``user`` audits that wait for review, oldest first."""
    return list(
        ErasureRecord.objects.filter(trigger=ErasureTrigger.REQUEST, reviewed_at__isnull=True, case__in=_audited(user))
        .select_related("case", "requested_by")
        .order_by("erased_at", "id")[:TRAIL_ROWS]
    )


def rule_changes_for(user):
    """Every change of the retention rules, newest first: who, when, which rule, its values
    before and after. For auditors (others: 403); a queryset in a total order (the API pages
    through it, the page shows the newest ``TRAIL_ROWS``)."""
    if not rules.can_view_retention_rule_changes(user):
        raise Forbidden("retention.rule_changes_forbidden")
    return RetentionRuleChange.objects.select_related("changed_by").order_by("-changed_at", "-id")
