"""What the auditor and the coordinator read about retention: never case data, only what
was erased, corrected and exported, when, by whom and by which rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.errors import NotFound
from core.ids import lookup_id
from permissions import rules
from retention.models import ArchiveExport, Correction, ErasureRecord, ErasureTrigger
from retention.rules import Rule, retention_of, unmet_archive_duty
from workflows.models import Case


def may_read(user, case) -> bool:
    return rules.is_case_coordinator(user, case) or rules.can_review_retention(user, case)


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
    case = Case.objects.filter(pk=lookup_id(case_id)).first()
    if case is None or not may_read(user, case):
        raise NotFound("case.not_found")
    retention = retention_of(case)
    return RetentionView(
        case=case,
        category=retention.category,
        rule=retention.rule,
        erase_after=retention.erase_after,
        archive_duty=unmet_archive_duty(case),
        erasure=ErasureRecord.objects.filter(case=case).select_related("requested_by", "reviewed_by").first(),
        corrections=list(Correction.objects.filter(case=case).select_related("corrected_by")),
        exports=list(ArchiveExport.objects.filter(case=case).select_related("requested_by")),
    )


def audit_cases(user):
    """Cases the auditor may review, with an erasure, a correction or an export: newest first."""
    if not rules.is_auditor(user):
        return Case.objects.none()
    touched = (
        Case.objects.filter(erasure__isnull=False)
        | Case.objects.filter(corrections__isnull=False)
        | Case.objects.filter(archive_exports__isnull=False)
    )
    visible = [case for case in touched.distinct().order_by("-id")[:500] if rules.can_review_retention(user, case)]
    return visible


def unreviewed_erasures(user) -> list[ErasureRecord]:
    return [
        record
        for record in ErasureRecord.objects.filter(trigger=ErasureTrigger.REQUEST, reviewed_at__isnull=True)
        .select_related("case", "requested_by")
        .order_by("erased_at")
        if rules.can_review_retention(user, record.case)
    ]
