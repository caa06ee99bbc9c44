"""API v1: the person's rights on request (erasure, correction), the auditor's review, what
retention did to a case, and the retention rules with the auditor's trail of their changes.
Thin: one service or selector call each (the same as the pages')."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import InputSerializer
from api.views import LIST, ListView, _errors, _input
from retention import selectors, services
from retention.models import RetentionRule, RetentionRuleChange

CASE_ID = OpenApiParameter("pk", int, OpenApiParameter.PATH, description="the case")


class ErasureInput(InputSerializer):
    reason = serializers.CharField(
        max_length=services.REASON_MAX_CHARS, help_text="the person's request and the ground in law (for the auditor)"
    )


class CorrectionInput(InputSerializer):
    field = serializers.CharField(
        max_length=200, help_text='a form field of the case, or "person.name" / "person.national_id"'
    )
    value = serializers.JSONField(
        allow_null=True,
        help_text="the right value, of the same type as the wrong one; null removes a safety warning "
        "(the only value that may be removed so)",
    )
    reason = serializers.CharField(max_length=services.REASON_MAX_CHARS)
    of = serializers.ChoiceField(
        choices=services.VALUES_OF,
        required=False,
        help_text='which value of the field: "current" (the default), the value the case shows you; "earlier", '
        "the value your agency recorded before a later step of the process wrote over it (the case answer's "
        "`earlier` of the field's category shows it to the agency that recorded it). 400 naming `of` when the case "
        "has no such earlier value; 403 when another agency recorded it",
    )


class ReviewInput(InputSerializer):
    note = serializers.CharField(max_length=services.REASON_MAX_CHARS, required=False, allow_blank=True)


class ErasureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    trigger = serializers.CharField(help_text="retention or request")
    erased_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True, help_text="when the retention ended (by the rule)")
    rule = serializers.CharField(help_text='"rule:<id>" or "default"')
    rule_category = serializers.CharField()
    keep_years = serializers.IntegerField()
    legal_basis = serializers.CharField()
    access_log_until = serializers.DateTimeField()
    access_log_deleted_at = serializers.DateTimeField(
        allow_null=True, help_text="when the retention job deleted the case's access log (its own period over)"
    )
    removed = serializers.SerializerMethodField(
        help_text="what was removed, counted per kind; what it did beyond the case (the person row, the rows "
        "about the person without a case) only to the auditors of the coordinating agency: it tells whether the "
        "person has other cases"
    )
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)
    reason = serializers.CharField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    reviewed_by = serializers.CharField(source="reviewed_by.username", allow_null=True, default=None)
    review_note = serializers.CharField()

    def get_removed(self, record) -> dict[str, int]:
        return selectors.removed_told_to(self.context["user"], record)


class CorrectionSerializer(serializers.Serializer):
    """A correction without its old value: that stays in the audit trail only."""

    id = serializers.IntegerField()
    field = serializers.CharField()
    category = serializers.CharField()
    reason = serializers.CharField()
    corrected_by = serializers.CharField(source="corrected_by.username")
    corrected_at = serializers.DateTimeField()
    status = serializers.CharField(
        source="status_for_case",
        help_text="done; waiting (a national id waits for an auditor of the coordinating agency); refused: not "
        "carried out after the auditor's review (refused, or a number this person cannot be given here: which of "
        "the two is told to the auditor only)",
    )


class NationalIdReviewInput(InputSerializer):
    approve = serializers.BooleanField(help_text="true: change the number; false: refuse the correction")
    note = serializers.CharField(max_length=services.REASON_MAX_CHARS, required=False, allow_blank=True)


class NationalIdReviewSerializer(serializers.Serializer):
    """The auditor's decision: ``merge`` when another person holds the number (only the
    auditor is told)."""

    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    status = serializers.CharField(
        help_text="done, merge (another person holds the number: merge the persons or refuse, "
        "`POST /api/v1/corrections/{id}/merge/`) or refused"
    )
    reviewed_at = serializers.DateTimeField()
    reviewed_by = serializers.CharField(source="reviewed_by.username")


class PersonMergeInput(InputSerializer):
    merge = serializers.BooleanField(
        help_text="true: the two are the same person, so the cases of this case's person that its coordinating "
        "agency coordinates move to the person who holds the number (the old person row is deleted when no other "
        "agency's case is left on it); false: refuse the correction"
    )
    note = serializers.CharField(max_length=services.REASON_MAX_CHARS, required=False, allow_blank=True)


class ArchiveExportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)
    requested_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)
    package = serializers.CharField()
    sha256 = serializers.CharField()
    replaces = serializers.IntegerField(
        source="replaces_id",
        allow_null=True,
        help_text="the export this one corrects (the case file was corrected after it)",
    )


class RetentionSerializer(serializers.Serializer):
    case = serializers.IntegerField(source="case.pk")
    reference = serializers.CharField(source="case.reference")
    rule = serializers.CharField(source="rule.source")
    rule_category = serializers.CharField(source="category")
    keep_years = serializers.IntegerField(source="rule.keep_years")
    legal_basis = serializers.CharField(source="rule.legal_basis")
    erase_after = serializers.DateTimeField(allow_null=True)
    archive_duty = serializers.ListField(child=serializers.CharField(), help_text="case-file categories not archived")
    erasure = ErasureSerializer(allow_null=True)
    corrections = CorrectionSerializer(many=True)
    exports = ArchiveExportSerializer(many=True)


class CaseRetention(APIView):
    @extend_schema(
        parameters=[CASE_ID],
        responses={200: RetentionSerializer, **_errors(401, 404)},
        tags=["retention"],
        summary="What retention did to the case: the rule, the erasure, corrections, archive exports (no case data)",
    )
    def get(self, request, pk):
        view = selectors.retention_view_for(request.user, pk)
        return Response(RetentionSerializer(view, context={"user": request.user}).data)


class CaseErasure(APIView):
    @extend_schema(
        parameters=[CASE_ID],
        request=ErasureInput,
        responses={201: ErasureSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["retention"],
        summary="Erase the person's data of a closed case now, on their request (409 while the archive duty applies)",
    )
    def post(self, request, pk):
        data = _input(ErasureInput, request)
        record = services.erase_on_request(actor=request.user, case_id=pk, reason=data["reason"])
        return Response(ErasureSerializer(record, context={"user": request.user}).data, status=status.HTTP_201_CREATED)


class CaseCorrections(APIView):
    @extend_schema(
        parameters=[CASE_ID],
        request=CorrectionInput,
        responses={201: CorrectionSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["retention"],
        summary="Correct a wrong value on the person's request; the old value stays in the audit trail only",
    )
    def post(self, request, pk):
        data = _input(CorrectionInput, request)
        correction = services.correct_value(actor=request.user, case_id=pk, **data)
        return Response(CorrectionSerializer(correction).data, status=status.HTTP_201_CREATED)


class ErasureReview(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("pk", int, OpenApiParameter.PATH, description="the erasure")],
        request=ReviewInput,
        responses={200: ErasureSerializer, **_errors(400, 401, 404, 409)},
        tags=["retention"],
        summary="An auditor reviews an erasure made on request",
    )
    def post(self, request, pk):
        data = _input(ReviewInput, request)
        record = services.review_erasure(actor=request.user, erasure_id=pk, note=data.get("note", ""))
        return Response(ErasureSerializer(record, context={"user": request.user}).data)


class NationalIdReview(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("pk", int, OpenApiParameter.PATH, description="the correction")],
        request=NationalIdReviewInput,
        responses={200: NationalIdReviewSerializer, **_errors(400, 401, 404, 409)},
        tags=["retention"],
        summary="An auditor of the coordinating agency decides a national id the coordinator asked for",
    )
    def post(self, request, pk):
        data = _input(NationalIdReviewInput, request)
        correction = services.review_national_id(
            actor=request.user, correction_id=pk, approve=data["approve"], note=data.get("note", "")
        )
        return Response(NationalIdReviewSerializer(correction).data)


class PersonMerge(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("pk", int, OpenApiParameter.PATH, description="the correction")],
        request=PersonMergeInput,
        responses={200: NationalIdReviewSerializer, **_errors(400, 401, 404, 409)},
        tags=["retention"],
        summary="The auditor merges the case's person into the person who holds the confirmed national id, or refuses",
    )
    def post(self, request, pk):
        data = _input(PersonMergeInput, request)
        correction = services.merge_persons(
            actor=request.user, correction_id=pk, merge=data["merge"], note=data.get("note", "")
        )
        return Response(NationalIdReviewSerializer(correction).data)


class CaseArchiveExport(APIView):
    @extend_schema(
        parameters=[CASE_ID],
        request=None,
        responses={202: ArchiveExportSerializer, **_errors(401, 403, 404, 409)},
        tags=["retention"],
        summary="Hand a closed case's case file to the archive (PDF/A and Noark 5 metadata, written by a worker)",
    )
    def post(self, request, pk):
        export = services.request_archive_export(actor=request.user, case_id=pk)
        return Response(ArchiveExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


# --- the retention rules (process admins write them; auditors read them and their changes) --

RULE_ID = OpenApiParameter("pk", int, OpenApiParameter.PATH, description="the retention rule")
RULE_VERSION = OpenApiParameter(
    "version", int, description="the version of the rule you delete (409 if it changed since; optional)"
)


class RetentionRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text='erasure records name the rule they followed as "rule:<id>"')
    process_key = serializers.CharField(help_text="the process; empty: every process")
    category = serializers.CharField(help_text="the data category; empty: every category without a rule of its own")
    keep_years = serializers.IntegerField(help_text="years the case's data is kept after the case closes")
    access_log_years = serializers.IntegerField(help_text="years the access log is kept after the erasure")
    in_case_file = serializers.BooleanField(help_text="its fields and notes go into the archived case file")
    legal_basis = serializers.CharField(help_text="the law or decision that sets the period")
    version = serializers.IntegerField(help_text="send it back with a change: 409 if the rule changed since")
    changed_at = serializers.DateTimeField()


class RetentionRuleInput(InputSerializer):
    """For the schema only: ``retention.services.save_retention_rule`` checks the input
    (after the caller's role, so that nobody but a process admin learns what a write needs)."""

    process_key = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="a deployed process; empty (default): every process"
    )
    category = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="a data category; empty (default): every category"
    )
    keep_years = serializers.IntegerField(
        min_value=services.RULE_YEARS[0], max_value=services.RULE_YEARS[1], required=False, help_text="required to add"
    )
    access_log_years = serializers.IntegerField(
        min_value=services.RULE_YEARS[0],
        max_value=services.RULE_YEARS[1],
        required=False,
        help_text="required to add; counted from the erasure, so the log outlives the data it describes",
    )
    in_case_file = serializers.BooleanField(required=False, help_text="default false")
    legal_basis = serializers.CharField(max_length=services.RULE_TEXT_MAX, required=False, help_text="required to add")
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="a change: the version you change (409 if it changed since)"
    )


class RetentionRuleChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.IntegerField(source="rule_id", help_text="the rule's id (it may be deleted since)")
    action = serializers.CharField(help_text="created, changed or deleted")
    changed_by = serializers.CharField(source="changed_by.username")
    changed_at = serializers.DateTimeField()
    process_key = serializers.CharField(help_text="the rule's process after the change (before, when deleted)")
    category = serializers.CharField(help_text="the rule's category after the change (before, when deleted)")
    before = serializers.DictField(allow_null=True, help_text="the rule's values before; null when it was added")
    after = serializers.DictField(allow_null=True, help_text="the rule's values after; null when it was deleted")


class RetentionRuleList(ListView):
    serializer_class = RetentionRuleSerializer
    model = RetentionRule

    def select(self, user):
        return services.retention_rules_for(user)

    @extend_schema(
        responses={200: RetentionRuleSerializer(many=True), **_errors(*LIST, 403)},
        tags=["retention"],
        summary="The retention rules (process admins and auditors)",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=RetentionRuleInput,
        responses={201: RetentionRuleSerializer, **_errors(400, 401, 403, 413)},
        tags=["retention"],
        summary="Add a retention rule (process admins); logged for the auditor",
    )
    def post(self, request):
        rule = services.save_retention_rule(actor=request.user, values=request.data)
        return Response(RetentionRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RetentionRuleDetail(APIView):
    @extend_schema(
        parameters=[RULE_ID],
        responses={200: RetentionRuleSerializer, **_errors(401, 403, 404)},
        tags=["retention"],
        summary="One retention rule (process admins and auditors)",
    )
    def get(self, request, pk):
        return Response(RetentionRuleSerializer(services.retention_rule_for(actor=request.user, rule_id=pk)).data)

    @extend_schema(
        parameters=[RULE_ID],
        request=RetentionRuleInput,
        responses={200: RetentionRuleSerializer, **_errors(400, 401, 403, 404, 409, 413)},
        tags=["retention"],
        summary="Change a retention rule (process admins): the fields given; logged with the values before and after",
    )
    def patch(self, request, pk):
        rule = services.save_retention_rule(actor=request.user, values=request.data, rule_id=pk)
        return Response(RetentionRuleSerializer(rule).data)

    @extend_schema(
        parameters=[RULE_ID, RULE_VERSION],
        responses={204: None, **_errors(400, 401, 403, 404, 409)},
        tags=["retention"],
        summary="Delete a retention rule (process admins): its cases follow the next rule or the default; logged",
    )
    def delete(self, request, pk):
        services.delete_retention_rule(actor=request.user, rule_id=pk, version=request.query_params.get("version"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RetentionRuleChangeList(ListView):
    serializer_class = RetentionRuleChangeSerializer
    model = RetentionRuleChange

    def select(self, user):
        return selectors.rule_changes_for(user)

    @extend_schema(
        responses={200: RetentionRuleChangeSerializer(many=True), **_errors(*LIST, 403)},
        tags=["retention"],
        summary="Who changed which retention rule, when, from what to what (auditors), newest first",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
