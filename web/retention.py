"""Web UI: retention of a case and the auditor's trail (issue 17).

The case's retention page (``cases/<pk>/retention/``) shows the coordinator and the
case's auditors what retention did and will do (the rule, when the case is due, the
unmet archive duty, the erasure, corrections, archive exports: never case data). The
coordinator asks there for the person's rights: erasure before the retention ends (with
a reason; refused with the reason while the archive duty applies), correction of a
wrong value (the old value kept only in the audit trail), and the archive export. The
auditor's page (``retention/``) lists what was erased, requested, exported and corrected
in the cases they audit, the erasures on request that wait for their review, and every
change of the retention rules (who, when, which rule, from what to what).

Same services and selectors as the API (``retention.services``, ``retention.selectors``).
The forms work without JavaScript (post, then a redirect); with htmx they post in place
and the answer's ``#retention`` replaces the section. htmx swaps no 4xx answer, so a
form with errors answers 200 to htmx and 400 otherwise.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bpmn import form_labels, form_values
from core.errors import Conflict, InvalidInput, ServiceError, field_error
from core.http_methods import allow, require_POST
from permissions import rules
from retention import selectors, services
from retention.models import ArchiveStatus, CorrectionStatus, ErasureRecord
from web import schema_forms
from web.pages import auditor_review, error_text, field_errors, form_titles, ui_view
from workflows import selectors as case_selectors
from workflows.models import CaseStatus, JobStatus

PERSON_FIELDS = {
    "person.name": ({"type": "string", "maxLength": 200}, gettext_lazy("The person's name")),
    "person.national_id": (
        {"type": "string", "maxLength": 11, "pattern": "^[0-9]{11}$"},
        gettext_lazy("National identity number"),
    ),
}
KIND_LABELS = {
    "erased": gettext_lazy("Erased: retention period passed"),
    "erasure-request": gettext_lazy("Erased on request"),
    "export": gettext_lazy("Archive export"),
    "correction": gettext_lazy("Value corrected"),
}
RULE_LABELS = {
    "archive-duty": gettext_lazy("the archive duty (arkivlova)"),
    "correction": gettext_lazy("the right to correction (GDPR art. 16)"),
}


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _errors_by_field(errors) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for error in field_errors(errors):
        by_field.setdefault(str(error.get("field") or ""), []).append(str(error.get("message", "")))
    return by_field


def _correctable(case, user=None) -> list[tuple[str, str]]:
    """(field, label) of what the coordinator ``user`` may correct: the person, then the
    case's values they see (``services.correctable_fields``). Without a user: the labels of
    every value (for the trail of corrections already made, which names fields only)."""
    titles = form_titles(case)
    names = services.correctable_fields(user, case) if user is not None else list(case.data or {})
    if user is not None:  # a value only its earlier one of which is theirs (``_value_choices``)
        names += [name for name in services.earlier_choices(user, case) if name not in names]
    fields = [(name, str(label)) for name, (_prop, label) in PERSON_FIELDS.items()]
    fields += sorted(((name, titles.get(name, name)) for name in names), key=lambda pair: pair[1].lower())
    return fields


def _value_schema(case, field: str, label: str) -> dict:
    """The form field of the new value: the field's own schema (a choice stays a choice,
    yes/no stays yes/no), under the name ``value``."""
    if field in PERSON_FIELDS:
        prop = dict(PERSON_FIELDS[field][0])
    else:
        runtime = case_selectors.case_runtime(case)
        prop = {"type": "string"}
        for schema in (runtime.forms if runtime else {}).values():
            found = (schema.get("properties") or {}).get(field)
            if found:
                prop = dict(found)
                break
    prop["title"] = label
    return {"type": "object", "properties": {"value": prop}, "required": ["value"]}


def _value_choices(case, user, field: str) -> list[tuple[str, str]]:
    """(of, label) of the values of ``field`` the correction may be of, for a reader whose
    agency recorded a value that a step on a branch they see later wrote over
    (``services.earlier_choices``): the value the case shows now, when theirs to correct, and
    their own earlier one, shown here; else none (the value the case shows them)."""
    if field not in services.earlier_choices(user, case):
        return []
    earlier = services.earlier_shown(user, case, field)  # its read logged
    current = field in services.correctable_fields(user, case)
    choices = [(services.CURRENT, _("The value the case shows now"))] if current else []
    # As the case page shows a value (``Ja``, ``10. januar 2027``), not Python's ``True``.
    shown = form_values.display_value(earlier)
    text = _("The value your agency recorded before a later step changed it: %(value)s") % {"value": shown}
    return [*choices, (services.EARLIER, text)]


def _correction_form(case, user, field: str, values=None, errors=None) -> dict | None:
    labels = dict(_correctable(case, user))
    if field not in labels:
        return None
    schema = _value_schema(case, field, labels[field])
    (value,) = schema_forms.fields_for(schema, {"value": (values or {}).get("value")}, field_errors(errors))
    choices = _value_choices(case, user, field) if field not in PERSON_FIELDS else []
    chosen = (values or {}).get("of") or choices[0][0] if choices else ""
    return {
        "field": field,
        "label": labels[field],
        "value": value,
        "values": values or {},
        "choices": choices,
        "of": chosen,
    }


def _page(request, pk, *, status=200, erasure=None, correction=None, chosen=None):
    """The retention page; ``erasure`` and ``correction`` carry a refused form's values
    and errors back to it."""
    user = request.user
    view = selectors.retention_view_for(user, pk)
    case = view.case
    coordinator = rules.is_case_coordinator(user, case)
    closed = case.status != CaseStatus.OPEN
    erased = view.erasure is not None
    exports = [(export, _export_status(export)) for export in view.exports]
    pending = any(export.status == ArchiveStatus.PENDING and not failed for export, (_label, failed) in exports)
    correction = correction or {}
    field = correction.get("field") or chosen or ""
    form = (
        _correction_form(case, user, field, correction.get("values"), correction.get("errors")) if coordinator else None
    )
    labels = dict(_correctable(case)) if view.corrections else {}
    context = {
        "case": case,
        "view": view,
        "coordinator": coordinator,
        "closed": closed,
        "erased": erased,
        "rule_label": rules.CATEGORY_LABELS.get(view.category, view.category),
        "archive_duty": [rules.CATEGORY_LABELS.get(c, c) for c in view.archive_duty],
        "can_erase": coordinator and closed and not erased,
        "can_export": coordinator and closed and not erased and not pending,
        "can_correct": coordinator and not erased,
        "correctable": _correctable(case, user) if coordinator and not erased else [],
        "correction": form,
        "correction_errors": _errors_by_field(correction.get("errors")),
        "erasure_values": (erasure or {}).get("values", {}),
        "erasure_errors": _errors_by_field((erasure or {}).get("errors")),
        "exports": exports,
        "corrections": [
            (item, labels.get(item.field, item.field), CorrectionStatus(item.status_for_case).label)
            for item in view.corrections
        ],
    }
    return render(request, "retention/case.html", context, status=status)


def _export_status(export) -> tuple[str, bool]:
    """(what the page says, failed): an export whose job failed after its last attempt
    is failed, with an incident on the case, though its row is still pending."""
    if export.status == ArchiveStatus.PENDING and export.job is not None and export.job.status == JobStatus.FAILED:
        label, failed = _("failed after the last attempt: see the incidents"), True
    else:
        label, failed = str(export.get_status_display()), export.status == ArchiveStatus.FAILED
    if export.replaces_id is not None:  # queued by a correction of the case file
        label = _("%(status)s (the corrected case file)") % {"status": label}
    return label, failed


def _refused(request, pk, exc: ServiceError, **forms):
    """A refused form: shown again with its errors (400 or 409; 200 to htmx, which swaps no 4xx)."""
    messages.error(request, error_text(exc))
    return _page(request, pk, status=200 if _is_htmx(request) else exc.status_code, **forms)


@allow("GET", "HEAD")
@ui_view
def case_retention(request, pk):
    return _page(request, pk, chosen=request.GET.get("field", ""))


@require_POST
@ui_view
def erasure_request(request, pk):
    reason = request.POST.get("reason", "")
    try:
        services.erase_on_request(actor=request.user, case_id=pk, reason=reason)
    except InvalidInput as exc:
        return _refused(request, pk, exc, erasure={"values": {"reason": reason}, "errors": exc.errors})
    except Conflict as exc:
        if exc.code == "retention.archive_duty":
            labels = ", ".join(_duty_labels(str(exc.params.get("categories", "")).split(", ")))
            messages.error(
                request,
                _(
                    "The data is not erased: the case file (%(categories)s) must be handed to the archive first. "
                    "Ask for an archive export, and erase when it is done."
                )
                % {"categories": labels},
            )
            return _page(request, pk, status=200 if _is_htmx(request) else 409, erasure={"values": {"reason": reason}})
        return _refused(request, pk, exc, erasure={"values": {"reason": reason}})
    messages.success(request, _("The person's data in this case is erased. An auditor will review the erasure."))
    return redirect("case-retention", pk=pk)


def _duty_labels(categories) -> list[str]:
    return [str(rules.CATEGORY_LABELS.get(c, c)) for c in categories]


@require_POST
@ui_view
def correction(request, pk):
    post = request.POST
    field, reason, of = post.get("field", ""), post.get("reason", ""), post.get("of", "")
    values = {"value": post.get("value", ""), "reason": reason, "of": of}
    case = services.case_to_correct(request.user, pk)  # 404, or 403 for those who see the case
    try:
        if ErasureRecord.objects.filter(case=case).exists():
            raise Conflict("retention.erased")
        services.check_may_correct(request.user, case, field, services.value_of(of))  # another agency's: 403
        # The field's label only: the form (its earlier value shown, and its read logged) is
        # made where a page shows it.
        label = dict(_correctable(case, request.user)).get(field)
        if label is None:
            raise InvalidInput("retention.invalid", errors=[field_error("field", "retention.unknown_field")])
        data, errors, _raw = schema_forms.data_from_post(_value_schema(case, field, label), post)
        if "value" not in data and not errors:
            errors = [field_error("value", "field.required")]
        if errors:
            raise InvalidInput("retention.invalid", errors=errors)
        made = services.correct_value(
            actor=request.user, case_id=pk, field=field, value=data["value"], reason=reason, of=of or None
        )
    except (InvalidInput, Conflict) as exc:
        return _refused(request, pk, exc, correction={"field": field, "values": values, "errors": exc.errors})
    if made.status == CorrectionStatus.WAITING:
        messages.success(
            request,
            _("The new national id is sent to an auditor of your agency, who confirms it before it is changed."),
        )
    else:
        messages.success(request, _("The value is corrected. The old value is kept only in the audit trail."))
    return redirect("case-retention", pk=pk)


@require_POST
@ui_view
def archive_export(request, pk):
    try:
        services.request_archive_export(actor=request.user, case_id=pk)
    except Conflict as exc:
        return _refused(request, pk, exc)
    messages.success(request, _("The archive export is ordered. The case file is handed to the archive shortly."))
    return redirect("case-retention", pk=pk)


@allow("GET", "HEAD")
@ui_view
def audit(request):
    """The auditor's trail: what was erased, requested, exported and corrected, and the
    erasures on request that wait for review."""
    trail = selectors.audit_trail(request.user)
    titles = _correction_titles(trail)
    return render(
        request,
        "retention/audit.html",
        {
            "waiting": selectors.unreviewed_erasures(request.user),
            "national_ids": services.national_ids_to_review(request.user),
            "merges": services.persons_to_merge(request.user),
            "trail": [
                (entry, KIND_LABELS[entry.kind], _rule_text(entry), _detail_text(entry, titles)) for entry in trail
            ],
            "rule_changes": _rule_changes(selectors.rule_changes_for(request.user)[: selectors.TRAIL_ROWS]),
        },
    )


RULE_FIELD_LABELS = {
    "process_key": gettext_lazy("Process"),
    "category": gettext_lazy("Category"),
    "keep_years": gettext_lazy("Years kept"),
    "access_log_years": gettext_lazy("Access log, years after"),
    "in_case_file": gettext_lazy("Case file"),
    "legal_basis": gettext_lazy("Legal basis"),
}


def _rule_changes(changes) -> list[tuple]:
    """Each change of a rule in words: (change, what, the rule's process and category,
    [(field, before, after)] for each value it set, changed or removed)."""
    processes = dict(case_selectors.process_choices())

    def text(name: str, value) -> str:
        if name == "process_key":
            return str(processes.get(value, value)) if value else _("Every process")
        if name == "category":
            return str(rules.CATEGORY_LABELS.get(value, value)).capitalize() if value else _("Every category")
        if name == "in_case_file":
            return _("Yes") if value else _("No")
        return str(value)

    rows = []
    for change in changes:
        before, after = change.before or {}, change.after or {}
        values = [
            (
                label,
                text(name, before[name]) if name in before else "",
                text(name, after[name]) if name in after else "",
            )
            for name, label in RULE_FIELD_LABELS.items()
            if before.get(name) != after.get(name) or name not in before or name not in after
        ]
        key = f"{text('process_key', change.process_key)} / {text('category', change.category)}"
        rows.append((change, change.get_action_display(), key, values))
    return rows


def _correction_titles(trail: list[selectors.TrailEntry]) -> dict[int, dict[str, str]]:
    """Case id -> the titles of its forms' fields, for the corrections in ``trail``: one
    query for the cases' process versions, the titles read once per version."""
    cases = [entry.case for entry in trail if entry.kind == "correction"]
    case_selectors.remember_runtimes(cases)
    by_version: dict[int | None, dict[str, str]] = {}
    titles: dict[int, dict[str, str]] = {}
    for case in cases:
        runtime = case_selectors.case_runtime(case)
        version = runtime.definition_id if runtime else None
        if version not in by_version:
            by_version[version] = form_labels.field_titles(runtime.forms if runtime else {})
        titles[case.pk] = by_version[version]
    return titles


def _rule_text(entry: selectors.TrailEntry) -> str:
    if entry.rule in RULE_LABELS:
        return str(RULE_LABELS[entry.rule])
    category = rules.CATEGORY_LABELS.get(entry.detail, entry.detail)
    return _("%(rule)s (the period of %(category)s data)") % {"rule": entry.rule, "category": category}


def _detail_text(entry: selectors.TrailEntry, titles: dict[int, dict[str, str]]) -> str:
    if entry.kind == "export":
        return str(ArchiveStatus(entry.detail).label)
    if entry.kind == "correction":
        if entry.detail in PERSON_FIELDS:
            return str(PERSON_FIELDS[entry.detail][1])
        return titles.get(entry.case.pk, {}).get(entry.detail, entry.detail)
    return ""


@require_POST
@ui_view
def erasure_review(request, erasure_pk):
    return auditor_review(
        request,
        lambda note: services.review_erasure(actor=request.user, erasure_id=erasure_pk, note=note),
        done=_("The erasure is marked as reviewed."),
        back="retention-audit",
    )


@require_POST
@ui_view
def national_id_review(request, correction_pk):
    """The auditor confirms or refuses a national id the coordinator asked for; only they
    are told when another person holds the number."""
    return _decide_national_id(request, services.review_national_id, correction_pk, approve="approve")


@require_POST
@ui_view
def person_merge(request, correction_pk):
    """The auditor merges the case's person into the one who holds the confirmed national id,
    or refuses (``services.merge_persons``)."""
    return _decide_national_id(request, services.merge_persons, correction_pk, merge="merge")


def _decide_national_id(request, decide, correction_pk, **decision):
    """One of the auditor's decisions on a national id: the posted ``decision`` (the one
    keyword's value, or "refuse") as a boolean, the outcome said on the auditor's page."""
    ((name, yes),) = decision.items()
    posted = request.POST.get("decision", "")
    try:
        correction = decide(
            actor=request.user,
            correction_id=correction_pk,
            note=request.POST.get("note", ""),
            **{name: {yes: True, "refuse": False}.get(posted, posted)},
        )
    except (Conflict, InvalidInput) as exc:
        messages.error(request, error_text(exc))
        return redirect("retention-audit")
    if correction.status == CorrectionStatus.MERGE:
        messages.warning(
            request,
            _(
                "Another person in Brobygger has this national id, so it is not changed. Check that the two are "
                "the same person, then merge them or refuse below; the coordinator sees the correction as waiting."
            ),
        )
    elif correction.status != CorrectionStatus.DONE:
        messages.success(request, _("The correction of the national id is refused. Nothing was changed."))
    elif name == "merge":
        messages.success(
            request,
            _(
                "The persons are merged: the cases now belong to the person with this national id. The old "
                "number is kept only in the audit trail."
            ),
        )
    else:
        messages.success(request, _("The national id is changed. The old one is kept only in the audit trail."))
    return redirect("retention-audit")
