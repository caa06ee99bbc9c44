"""API v1: notes and attachments of a case. Thin: one service or selector call each; the
selectors show or mask every item through ``permissions.notes_policy`` (and log it)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.pagination import KeysetPagination
from api.serializers import AgencySerializer, ErrorSerializer, InputSerializer
from api.views import _errors, _input
from permissions.rules import NOTE_CATEGORIES
from workflows import note_selectors, selectors, services, uploads
from workflows.services.notes import NOTE_MAX_CHARS

CASE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="the case")
NOTE_ID = OpenApiParameter("note_pk", int, OpenApiParameter.PATH, description="the note")
ATTACHMENT_ID = OpenApiParameter("attachment_pk", int, OpenApiParameter.PATH, description="the attachment")
CATEGORY_HELP = (
    "the data category of the note; by default the writing agency's own (NAV: economy, health: "
    "health, prison: justice, housing: housing); one the agency may write in the case, else 400"
)
AGENCY_HELP = "the agency you write for, when you work in several that take part (default: the first)"


# --- input -----------------------------------------------------------------------------


class NoteInput(InputSerializer):
    text = serializers.CharField(max_length=NOTE_MAX_CHARS, trim_whitespace=False)
    category = serializers.ChoiceField(choices=NOTE_CATEGORIES, required=False, help_text=CATEGORY_HELP)
    agency = serializers.IntegerField(required=False, min_value=1, help_text=AGENCY_HELP)


class NoteCorrectionInput(InputSerializer):
    text = serializers.CharField(max_length=NOTE_MAX_CHARS, trim_whitespace=False)
    category = serializers.ChoiceField(
        choices=NOTE_CATEGORIES, required=False, help_text="a new category, when the note was filed under the wrong one"
    )
    version = serializers.IntegerField(min_value=1, help_text="the version you correct (409 if it changed since)")


class NoteConfirmationInput(InputSerializer):
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="the version you confirm (409 if it changed since)"
    )


class NoteWithdrawalInput(InputSerializer):
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="the version you withdraw (409 if it changed since)"
    )


class AttachmentInput(InputSerializer):
    file = serializers.FileField(
        required=False,
        allow_empty_file=True,
        use_url=False,
        help_text="a PDF, PNG or JPEG (judged by its bytes) of at most ATTACHMENT_MAX_BYTES",
    )
    category = serializers.ChoiceField(choices=NOTE_CATEGORIES, required=False, help_text=CATEGORY_HELP)
    agency = serializers.IntegerField(required=False, min_value=1, help_text=AGENCY_HELP)


# --- output ----------------------------------------------------------------------------


class NoteRevisionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    category = serializers.CharField()
    text = serializers.CharField()
    written_at = serializers.DateTimeField()
    replaced_at = serializers.DateTimeField()
    change = serializers.CharField(help_text="corrected or withdrawn")


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.pk")
    category = serializers.CharField(source="item.category")
    agency = AgencySerializer(source="item.agency", help_text="the writing agency")
    created_at = serializers.DateTimeField(source="item.created_at")
    withdrawn_at = serializers.DateTimeField(source="item.withdrawn_at", allow_null=True)
    visible = serializers.BooleanField(help_text="false: masked, and `reason` says why")
    reason = serializers.CharField(allow_null=True)
    basis = serializers.CharField(allow_null=True, help_text="on what ground it is shown")


class NoteSerializer(ItemSerializer):
    """A note shown or masked (``notes_policy.ItemView``): masked notes have no text, author or history."""

    text = serializers.CharField(allow_null=True, help_text="null when masked or withdrawn")
    author = serializers.SerializerMethodField()
    corrected_at = serializers.DateTimeField(
        source="item.corrected_at", allow_null=True, help_text="null when masked or never corrected"
    )
    version = serializers.IntegerField(
        source="item.version", allow_null=True, help_text="null when masked; sent back to correct or withdraw"
    )
    history = NoteRevisionSerializer(many=True, help_text="earlier texts you may read, newest first")
    lapsed_on = serializers.DateField(
        allow_null=True,
        help_text="a safety note (a warning) out of time: the date (Europe/Oslo) it lapsed on, SAFETY_WARNING_DAYS "
        "after it was written, corrected or last confirmed. Its text is then shown only to its agency and the "
        "case's coordinator; to the others it is masked and `reason` says it lapsed",
    )
    valid_until = serializers.DateField(
        allow_null=True, help_text="a safety note in force: the last date (Europe/Oslo) it is shown to the participants"
    )
    confirmable = serializers.BooleanField(
        help_text="a safety note you may confirm again (its agency, the coordinator): POST .../confirm/"
    )

    def get_author(self, view) -> str | None:
        author = view.item.author
        return author.get_username() if view.visible and author is not None else None

    def to_representation(self, view):
        # When and how often a note was corrected is its writer's history: a reader shown it
        # masked learns neither, as it learns no text or author.
        shown = super().to_representation(view)
        if not view.visible:
            shown["corrected_at"] = shown["version"] = None
        return shown


class AttachmentSerializer(ItemSerializer):
    """An attachment shown or masked: a masked one has no name, type, size or download."""

    filename = serializers.SerializerMethodField()
    content_type = serializers.SerializerMethodField()
    size = serializers.SerializerMethodField()
    uploaded_by = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField(help_text="where to download it; null when masked or withdrawn")
    lapsed_on = serializers.DateField(
        allow_null=True,
        help_text="a safety attachment (a warning) out of time: the date (Europe/Oslo) it lapsed on, "
        "SAFETY_WARNING_DAYS after it was added or last confirmed. It is then shown and downloaded only by its agency "
        "and the case's coordinator; to the others it is masked (no name, type, size or download) and `reason` says "
        "it lapsed",
    )
    valid_until = serializers.DateField(
        allow_null=True,
        help_text="a safety attachment in force: the last date (Europe/Oslo) it is shown to the participants",
    )
    confirmable = serializers.BooleanField(
        help_text="a safety attachment you may confirm again (its agency, the coordinator): POST .../confirm/"
    )

    def _shown(self, view) -> bool:
        return view.visible and not view.item.is_withdrawn

    def get_filename(self, view) -> str | None:
        return view.item.filename if self._shown(view) else None

    def get_content_type(self, view) -> str | None:
        return view.item.content_type if self._shown(view) else None

    def get_size(self, view) -> int | None:
        return view.item.size if self._shown(view) else None

    def get_uploaded_by(self, view) -> str | None:
        user = view.item.uploaded_by
        return user.get_username() if view.visible and user is not None else None

    def get_download(self, view) -> str | None:
        if not self._shown(view):
            return None
        return reverse("api-attachment-content", args=[view.item.case_id, view.item.pk])


# --- views -----------------------------------------------------------------------------


class _Paged(APIView):
    # One page of a case's notes or attachments, shown through the policy (logged). The
    # ``pagination_class`` also tells drf-spectacular that the answer is a page.
    pagination_class = KeysetPagination

    def paged(self, request, pk, rows_of, views_of, serializer):
        case = selectors.case_for(request.user, pk)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows_of(case), request, view=self)
        views = views_of(actor=request.user, case=case, page=page)
        return paginator.get_paginated_response(serializer(views, many=True).data)


class CaseNotes(_Paged):
    @extend_schema(
        parameters=[CASE_ID],
        responses={200: NoteSerializer(many=True), **_errors(400, 401, 404)},
        tags=["notes"],
        summary="The case's notes, newest first, each shown or masked (reads are logged)",
    )
    def get(self, request, pk):
        return self.paged(request, pk, note_selectors.notes_of, note_selectors.notes_for_case, NoteSerializer)

    @extend_schema(
        parameters=[CASE_ID],
        request=NoteInput,
        responses={201: NoteSerializer, **_errors(400, 401, 403, 404, 409, 413)},
        tags=["notes"],
        summary="Write a note (409: the case is closed)",
    )
    def post(self, request, pk):
        data = _input(NoteInput, request)
        note = services.add_note(actor=request.user, case=pk, **data)
        view = note_selectors.note_for(actor=request.user, case=pk, note_id=note.pk, log=False)
        return Response(NoteSerializer(view).data, status=status.HTTP_201_CREATED)


class CaseNote(APIView):
    @extend_schema(parameters=[CASE_ID, NOTE_ID], responses={200: NoteSerializer, **_errors(401, 404)}, tags=["notes"])
    def get(self, request, pk, note_pk):
        return Response(NoteSerializer(note_selectors.note_for(actor=request.user, case=pk, note_id=note_pk)).data)


class NoteCorrect(APIView):
    @extend_schema(
        parameters=[CASE_ID, NOTE_ID],
        request=NoteCorrectionInput,
        responses={200: NoteSerializer, **_errors(400, 401, 403, 404, 409, 413)},
        tags=["notes"],
        summary="Correct your own note (or, as its agency's lead or coordinator, one whose author left); "
        "the old text stays in its history",
    )
    def post(self, request, pk, note_pk):
        data = _input(NoteCorrectionInput, request)
        services.correct_note(actor=request.user, case=pk, note_id=note_pk, **data)
        return _changed_note(request, pk, note_pk)


def _changed_note(request, pk, note_pk) -> Response:
    """The note as its changer sees it now (not logged again: the change was)."""
    note = note_selectors.note_for(actor=request.user, case=pk, note_id=note_pk, log=False)
    return Response(NoteSerializer(note).data)


class NoteWithdraw(APIView):
    @extend_schema(
        parameters=[CASE_ID, NOTE_ID],
        request=NoteWithdrawalInput,
        responses={200: NoteSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["notes"],
        summary="Withdraw your own note (or, as its agency's lead or coordinator, one whose author left); "
        "its text stays in its history",
    )
    def post(self, request, pk, note_pk):
        data = _input(NoteWithdrawalInput, request)
        services.withdraw_note(actor=request.user, case=pk, note_id=note_pk, **data)
        return _changed_note(request, pk, note_pk)


class NoteConfirm(APIView):
    @extend_schema(
        parameters=[CASE_ID, NOTE_ID],
        request=NoteConfirmationInput,
        responses={200: NoteSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["notes"],
        summary="Confirm a safety note (a warning) again: shown to the participants for SAFETY_WARNING_DAYS from "
        "now (its agency and the case's coordinator; 400 naming `note` for a note of another category)",
    )
    def post(self, request, pk, note_pk):
        data = _input(NoteConfirmationInput, request)
        services.confirm_safety_note(actor=request.user, case=pk, note_id=note_pk, **data)
        return _changed_note(request, pk, note_pk)


class CaseAttachments(_Paged):
    parser_classes = [MultiPartParser]

    @extend_schema(
        parameters=[CASE_ID],
        responses={200: AttachmentSerializer(many=True), **_errors(400, 401, 404)},
        tags=["attachments"],
        summary="The case's attachments, each shown or masked (reads are logged)",
    )
    def get(self, request, pk):
        return self.paged(
            request, pk, note_selectors.attachments_of, note_selectors.attachments_for_case, AttachmentSerializer
        )

    @extend_schema(
        parameters=[CASE_ID],
        request={"multipart/form-data": AttachmentInput},
        responses={
            201: AttachmentSerializer,
            **_errors(400, 401, 403, 404, 409),
            413: OpenApiResponse(
                ErrorSerializer,
                description=("the request is larger than ATTACHMENT_MAX_BYTES and 64 KiB for the other fields"),
            ),
        },
        tags=["attachments"],
        description=(
            "Upload one file as multipart/form-data field `file`. Its type is judged by its bytes, never by "
            "the name or the Content-Type sent: PDF, PNG and JPEG are accepted, anything else is 400 naming "
            f"`file`. At most {settings.ATTACHMENT_MAX_BYTES} bytes by default (ATTACHMENT_MAX_BYTES)."
        ),
    )
    def post(self, request, pk):
        data = _input(AttachmentInput, request)
        attachment = services.add_attachment(actor=request.user, case=pk, upload=data.pop("file", None), **data)
        views = note_selectors.attachments_for_case(actor=request.user, case=pk, page=[attachment], log=False)
        return Response(AttachmentSerializer(views[0]).data, status=status.HTTP_201_CREATED)


class AttachmentContent(APIView):
    @extend_schema(
        parameters=[CASE_ID, ATTACHMENT_ID],
        responses={
            (200, mime): OpenApiResponse(OpenApiTypes.BINARY, description="the file, as a download")
            for mime in uploads.ALLOWED_TYPES
        }
        | _errors(401, 403, 404),
        tags=["attachments"],
        summary="Download an attachment (checked on every download; logged as an export)",
        description=(
            "404 when the case is not visible to you, the attachment is not in this case, or it was "
            "withdrawn; 403 when its category is masked for you."
        ),
    )
    def get(self, request, pk, attachment_pk):
        download = note_selectors.attachment_download(actor=request.user, case=pk, attachment_id=attachment_pk)
        return uploads.file_response(download.attachment, download.content)

    def perform_content_negotiation(self, request, force=False):
        # The answer is the file whatever the client accepts (errors stay JSON).
        return super().perform_content_negotiation(request, force=True)


class AttachmentConfirm(APIView):
    @extend_schema(
        parameters=[CASE_ID, ATTACHMENT_ID],
        request=None,
        responses={200: AttachmentSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["attachments"],
        summary="Confirm a safety attachment (a warning) again: shown to the participants for SAFETY_WARNING_DAYS "
        "from now (its agency and the case's coordinator; 400 naming `attachment` for a file of another category)",
        description=(
            "403 for the other participants, whatever the file; 404 when the case is not visible to you or the "
            "attachment is not in it; 409 when the case is closed or the file withdrawn. A `safety_confirmed` event "
            "naming the attachment is added to the timeline. Confirmed again on the day it was added or last "
            "confirmed, it lapses on the same date: nothing changes, and the answer is the same."
        ),
    )
    def post(self, request, pk, attachment_pk):
        attachment = services.confirm_safety_attachment(actor=request.user, case=pk, attachment_id=attachment_pk)
        views = note_selectors.attachments_for_case(actor=request.user, case=pk, page=[attachment], log=False)
        return Response(AttachmentSerializer(views[0]).data)


class AttachmentWithdraw(APIView):
    @extend_schema(
        parameters=[CASE_ID, ATTACHMENT_ID],
        request=None,
        responses={200: AttachmentSerializer, **_errors(401, 403, 404, 409)},
        tags=["attachments"],
        summary="Withdraw your own attachment (or, as its agency's lead or coordinator, one whose uploader left): "
        "its file is deleted, its record stays",
    )
    def post(self, request, pk, attachment_pk):
        attachment = services.withdraw_attachment(actor=request.user, case=pk, attachment_id=attachment_pk)
        views = note_selectors.attachments_for_case(actor=request.user, case=pk, page=[attachment], log=False)
        return Response(AttachmentSerializer(views[0]).data)
