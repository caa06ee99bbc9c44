"""Web UI: notes and attachments of a case (the section ``cases/_notes.html`` of the case
page, and the notes page that holds all of them).

Same services and selectors as the API (``workflows.services``, ``workflows.note_selectors``):
every item shown or masked and logged by ``permissions.notes_policy``. The forms work
without JavaScript (post, then a redirect to the case page); with htmx they post in place
and the answer's ``#notes`` replaces the section. htmx swaps no 4xx answer, so a form with
errors is answered 200 to htmx and 400 otherwise.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput
from core.http_methods import allow, require_GET, require_POST
from permissions import rules
from web.pages import error_text, errors_by_field, field_errors, ui_view
from workflows import note_selectors, selectors, services, uploads
from workflows.models import CaseStatus
from workflows.notes import NoteRevision
from workflows.services.notes import removes_warning

CASE_PAGE_NOTES = 10  # the newest notes on the case page; the notes page has them all
NOTES_PER_PAGE = 25
ATTACHMENTS_SHOWN = 50


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _category_choices(form) -> list[tuple[str, str]]:
    """The categories the user may write in, for any of their agencies in the case."""
    seen: list[str] = []
    for categories in form.categories.values():
        seen += [c for c in categories if c not in seen]
    return [(c, str(rules.CATEGORY_LABELS.get(c, c))) for c in rules.NOTE_CATEGORIES if c in seen]


def notes_section(
    request,
    case,
    *,
    page_number=None,
    per_page=CASE_PAGE_NOTES,
    note_values=None,
    note_errors=None,
    upload_values=None,
    upload_errors=None,
) -> dict:
    """What ``cases/_notes.html`` shows: the notes (one page), the attachments, the forms."""
    user = request.user
    paginator = Paginator(note_selectors.notes_of(case), per_page)
    page = paginator.get_page(page_number)
    notes = note_selectors.notes_for_case(actor=user, case=case, page=list(page.object_list))
    attachments = note_selectors.attachments_for_case(
        actor=user, case=case, page=list(note_selectors.attachments_of(case)[:ATTACHMENTS_SHOWN])
    )
    for view in (*notes, *attachments):
        view.item.case = case  # the rules below ask about the case already checked
    form = note_selectors.note_form_for(actor=user, case=case)
    categories = _category_choices(form)
    first = form.agencies[0].pk if form.agencies else None
    # What a writer who left the agency wrote, changed by its lead or coordinator (the service
    # decides again: ``services.notes.change_standing``).
    notes_for_agency, attachments_for_agency = note_selectors.changeable_for_agency(
        user, case, [v.item for v in notes], [v.item for v in attachments]
    )
    return {
        "case": case,
        "page": page,
        "notes": notes,
        "attachments": attachments,
        "more_notes": paginator.count - len(notes) if per_page == CASE_PAGE_NOTES else 0,
        "changeable": {v.item.pk for v in notes if rules.can_change_note(user, v.item)} | notes_for_agency,
        # A safety note another agency wrote that the case's coordinator may withdraw (not correct).
        "warnings_removable": {v.item.pk for v in notes if removes_warning(user, v.item)},
        "withdrawable": {v.item.pk for v in attachments if rules.can_withdraw_attachment(user, v.item)}
        | attachments_for_agency,
        "notes_for_agency": notes_for_agency,
        "attachments_for_agency": attachments_for_agency,
        "withdrawn_for_agency": {v.item.pk for v in notes if _withdrawn_by_other(v.item)},
        "form": form,
        "agencies": form.agencies,
        "categories": categories,
        # A note's own category may be closed to its author since (a consent withdrawn or run
        # out): its correction form keeps it chosen, so that a correction of the text never
        # moves the note to the first category offered (a health note into economy, read by
        # the coordinator); the service refuses it until the author chooses another.
        "category_values": frozenset(value for value, _label in categories),
        "open": case.status == CaseStatus.OPEN,
        "note_values": note_values or {"category": form.defaults.get(first, ""), "agency": str(first or "")},
        "note_errors": errors_by_field(note_errors),
        "upload_values": upload_values or {"category": form.defaults.get(first, ""), "agency": str(first or "")},
        "upload_errors": errors_by_field(upload_errors),
        "max_megabytes": uploads.megabytes(settings.ATTACHMENT_MAX_BYTES),
    }


def _withdrawn_by_other(note) -> bool:
    """A withdrawn note whose withdrawal (its prefetched revisions) was made by someone else
    than its author: its agency's lead or coordinator, the author gone."""
    if not note.is_withdrawn:
        return False
    withdrawal = next((r for r in note.revisions.all() if r.change == NoteRevision.Change.WITHDRAWN), None)
    return withdrawal is not None and withdrawal.replaced_by_id != note.author_id


def _notes_page(request, pk, *, status=200, **section):
    case = selectors.case_for(request.user, pk)
    context = notes_section(request, case, page_number=request.GET.get("page"), per_page=NOTES_PER_PAGE, **section)
    return render(request, "cases/notes.html", {"case": case, "section": context}, status=status)


@allow("GET", "HEAD", "POST")
@ui_view
def notes_page(request, pk):
    """GET: every note of the case (paged) and its attachments. POST: write a note."""
    if request.method == "POST":
        return _add_note(request, pk)
    return _notes_page(request, pk)


def _done(request, pk, text):
    messages.success(request, text)
    if _is_htmx(request):  # the notes page: its #notes replaces the section in place
        return redirect("case-notes", pk=pk)
    return redirect(reverse("case", args=[pk]) + "#notes")


def _refused(request, pk, **section):
    return _notes_page(request, pk, status=200 if _is_htmx(request) else 400, **section)


def _conflict(request, pk, exc):
    messages.error(request, error_text(exc))
    return redirect("case-notes", pk=pk) if _is_htmx(request) else redirect(reverse("case", args=[pk]) + "#notes")


def _add_note(request, pk):
    values = {key: request.POST.get(key, "") for key in ("text", "category", "agency")}
    try:
        services.add_note(
            actor=request.user,
            case=pk,
            text=values["text"],
            category=values["category"] or None,
            agency=values["agency"] or None,
        )
    except InvalidInput as exc:
        return _refused(request, pk, note_values=values, note_errors=exc.errors)
    except Conflict as exc:
        return _conflict(request, pk, exc)
    return _done(request, pk, _("The note is saved."))


@require_POST
@ui_view
def note_correct(request, pk, note_pk):
    post = request.POST
    try:
        services.correct_note(
            actor=request.user,
            case=pk,
            note_id=note_pk,
            text=post.get("text", ""),
            category=post.get("category") or None,
            version=post.get("version"),
        )
    except InvalidInput as exc:
        messages.error(request, "; ".join(e["message"] for e in field_errors(exc.errors)) or error_text(exc))
        return _refused(request, pk)
    except Conflict as exc:
        return _conflict(request, pk, exc)
    return _done(request, pk, _("The note is corrected. The earlier text is kept in its history."))


@require_POST
@ui_view
def note_withdraw(request, pk, note_pk):
    try:
        services.withdraw_note(actor=request.user, case=pk, note_id=note_pk, version=request.POST.get("version"))
    except Conflict as exc:
        return _conflict(request, pk, exc)
    return _done(request, pk, _("The note is withdrawn."))


@require_POST
@ui_view
def note_confirm(request, pk, note_pk):
    """A safety note (a warning) confirmed again by its agency or the case's coordinator
    (``services.confirm_safety_note``: 403 for the others, 404 for outsiders)."""
    try:
        note = services.confirm_safety_note(
            actor=request.user, case=pk, note_id=note_pk, version=request.POST.get("version")
        )
    except (InvalidInput, Conflict) as exc:
        return _conflict(request, pk, exc)
    until = note_selectors.warning_valid_until(note)
    return _done(
        request,
        pk,
        _("The warning is confirmed and shown to the participants until %(date)s.")
        % {"date": date_format(until, "j. F Y")},
    )


@require_POST
@ui_view
def attachment_confirm(request, pk, attachment_pk):
    """A safety attachment (a warning) confirmed again by its agency or the case's coordinator
    (``services.confirm_safety_attachment``: 403 for the others, 404 for outsiders)."""
    try:
        attachment = services.confirm_safety_attachment(actor=request.user, case=pk, attachment_id=attachment_pk)
    except (InvalidInput, Conflict) as exc:
        return _conflict(request, pk, exc)
    until = note_selectors.warning_valid_until(attachment)
    return _done(
        request,
        pk,
        _("The warning is confirmed and shown to the participants until %(date)s.")
        % {"date": date_format(until, "j. F Y")},
    )


@require_POST
@ui_view
def attachment_add(request, pk):
    values = {key: request.POST.get(key, "") for key in ("category", "agency")}
    try:
        services.add_attachment(
            actor=request.user,
            case=pk,
            upload=request.FILES.get("file"),
            category=values["category"] or None,
            agency=values["agency"] or None,
        )
    except InvalidInput as exc:
        return _refused(request, pk, upload_values=values, upload_errors=exc.errors)
    except Conflict as exc:
        return _conflict(request, pk, exc)
    return _done(request, pk, _("The attachment is saved."))


@require_GET
@ui_view
def attachment_download(request, pk, attachment_pk):
    download = note_selectors.attachment_download(actor=request.user, case=pk, attachment_id=attachment_pk)
    return uploads.file_response(download.attachment, download.content)


@require_POST
@ui_view
def attachment_withdraw(request, pk, attachment_pk):
    try:
        services.withdraw_attachment(actor=request.user, case=pk, attachment_id=attachment_pk)
    except Conflict as exc:
        return _conflict(request, pk, exc)
    return _done(request, pk, _("The attachment is withdrawn and its file deleted."))
