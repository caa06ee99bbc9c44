"""API v1 views (design §7). Thin: validate input, make one service or selector call,
shape the answer. Access is decided in ``permissions.rules``; errors are mapped to HTTP
by ``api.exceptions.exception_handler``."""

from __future__ import annotations

from types import SimpleNamespace

from django.db.models import Model
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import sign_in
from api import serializers as s
from api.exceptions import coded, error_body
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import idempotent
from api.pagination import CURSOR, PAGE_SIZE, GroupKeysetPagination, check_parameters
from api.parsers import LimitedJSONParser
from bpmn.models import ProcessDefinition
from bpmn.services import deploy_definition
from core.errors import InvalidInput, field_error
from insight import migration_preview
from insight.privacy import SMALL
from permissions.models import AccessLog, Agency, BreakGlass, Consent, LegalBasis
from workflows import filters, selectors, services
from workflows.case_lists import CASE_ANSWER_FIELDS, CaseListing
from workflows.models import Case, Event, Incident, Task
from workflows.services import external_tasks
from workflows.task_lists import TASK_ANSWER_FIELDS, TaskListing


def _errors(*codes: int) -> dict:
    described = {
        400: "invalid input: `errors` names each field (or BPMN element) and what is wrong",
        401: "not authenticated",
        403: "you see the object but may not do this",
        404: "no such object, or not visible to you",
        409: "the object is no longer in a state that allows this",
        413: "the request body is too large",
        429: "too many requests from this user (`API_RATE_LIMIT`): `Retry-After` says the seconds to wait",
    }
    if 401 in codes:  # every route of a signed-in user counts against their rate (api/throttling.py)
        codes = (*codes, 429)
    return {code: OpenApiResponse(s.ErrorSerializer, description=described[code]) for code in codes}


READ = (401,)
LIST = (400, 401, 404)  # 400: a bad filter, cursor or page_size; 404: the case is not visible
OBJECT = (401, 404)
ACTION = (400, 401, 403, 404, 409, 413)
ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
EXTERNAL_TASK_ID = OpenApiParameter("task_id", str, OpenApiParameter.PATH, description="the `id` fetch-and-lock gave")


def _input(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ListView(generics.ListAPIView):
    # A list in keyset pages (api.pagination) whose rows come from one selector call
    # (``select``): only what the user may see, in a total order the selector gives. A
    # ``filterset_class`` (workflows.filters) may narrow it; a bad filter value answers
    # 400. (A comment, not a docstring: drf-spectacular would show it as every
    # list's description.)

    model: type[Model] | None = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request data
            return self.model.objects.none()
        return self.select(self.request.user)

    def select(self, user):  # pragma: no cover - every list defines it
        raise NotImplementedError


class PreparedListView(ListView):
    # A list whose ``select`` gives a ``permissions.prepared.PreparedList`` (its pages read by
    # statements compiled once per shape): no filter backend runs over it (a list with
    # filters validates them in ``select``), the keyset pagination reads it.

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- auth and directory ----------------------------------------------------------------


class TokenView(APIView):
    # Password sign-in: django-axes locks a username out after too many failures (429),
    # and a user who must give a second factor sends ``otp`` (accounts.sign_in).
    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        request=s.TokenInput,
        responses={
            200: s.TokenSerializer,
            **_errors(400, 413),
            429: OpenApiResponse(s.ErrorSerializer, description="too many failed sign-ins"),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        data = _input(s.TokenInput, request)
        try:
            # The HttpRequest, not DRF's wrapper: django-axes marks a lockout on it.
            user, device = sign_in.password_sign_in(
                request._request, data["username"], data["password"], data.get("otp", "")
            )
        except sign_in.SignInRefused as refused:
            raise ValidationError({refused.field: [coded(refused.code)]}) from None
        token, expiry = sign_in.issue_token(request._request, user, device)
        return Response({"token": token, "expiry": expiry})


class AgencyList(ListView):
    serializer_class = s.AgencySerializer
    model = Agency

    def select(self, user):
        return selectors.agencies_for(user)

    @extend_schema(responses={200: s.AgencySerializer(many=True), **_errors(*LIST)}, tags=["directory"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


INCLUDE_RETIRED = OpenApiParameter(
    "include_retired", bool, description="process admins: retired legal bases too (default false)"
)


class LegalBasisList(ListView):
    serializer_class = s.LegalBasisSerializer
    model = LegalBasis
    query_parameters = ("include_retired",)

    def select(self, user):
        # Anything but true or false is 400: "yes" or "1" read as false answered the list
        # without the retired bases as if it held them all.
        include_retired = self.request.query_params.get("include_retired", "false")
        if include_retired not in ("true", "false"):
            raise InvalidInput("query.invalid", errors=[field_error("include_retired", "field.expected_boolean")])
        if include_retired == "true":
            return selectors.legal_bases_to_manage(user)
        return selectors.legal_bases_for(user)

    @extend_schema(
        parameters=[INCLUDE_RETIRED],
        responses={200: s.LegalBasisSerializer(many=True), **_errors(*LIST, 403)},
        tags=["consents"],
        summary="The provisions a consent or sharing can rest on (kept by process admins)",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.LegalBasisInput,
        responses={201: s.LegalBasisSerializer, **_errors(400, 401, 403, 413)},
        tags=["consents"],
        summary="Add a legal basis (process admins)",
    )
    def post(self, request):
        basis = services.create_legal_basis(actor=request.user, values=request.data)
        return Response(s.LegalBasisSerializer(basis).data, status=status.HTTP_201_CREATED)


class LegalBasisDetail(APIView):
    @extend_schema(
        parameters=[ID], responses={200: s.LegalBasisSerializer, **_errors(401, 403, 404)}, tags=["consents"]
    )
    def get(self, request, pk):
        basis = services.legal_basis_to_manage(actor=request.user, basis_id=pk)
        return Response(s.LegalBasisSerializer(basis).data)

    @extend_schema(
        parameters=[ID],
        request=s.LegalBasisInput,
        responses={200: s.LegalBasisSerializer, **_errors(400, 401, 403, 404, 413)},
        tags=["consents"],
        summary="Change a legal basis (process admins): the fields given",
    )
    def patch(self, request, pk):
        basis = services.update_legal_basis(actor=request.user, basis_id=pk, values=request.data)
        return Response(s.LegalBasisSerializer(basis).data)

    @extend_schema(
        parameters=[ID],
        responses={204: None, **_errors(401, 403, 404, 409)},
        tags=["consents"],
        summary="Delete a legal basis no consent rests on (process admins); one in use: 409, retire it",
    )
    def delete(self, request, pk):
        services.delete_legal_basis(actor=request.user, basis_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LegalBasisRetire(APIView):
    @extend_schema(
        parameters=[ID],
        request=None,
        responses={200: s.LegalBasisSerializer, **_errors(401, 403, 404, 409)},
        tags=["consents"],
        summary="Retire a legal basis (process admins): no new consent may rest on it",
    )
    def post(self, request, pk):
        return Response(s.LegalBasisSerializer(services.retire_legal_basis(actor=request.user, basis_id=pk)).data)


# --- process definitions ---------------------------------------------------------------


class ProcessDefinitionList(ListView):
    serializer_class = s.ProcessDefinitionSerializer
    model = ProcessDefinition

    def select(self, user):
        return selectors.process_definitions_for(user)

    @extend_schema(
        responses={200: s.ProcessDefinitionSerializer(many=True), **_errors(*LIST)}, tags=["process definitions"]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.DeployInput,
        responses={
            201: OpenApiResponse(s.ProcessDefinitionDetailSerializer, description="a new version was deployed"),
            200: OpenApiResponse(
                s.ProcessDefinitionDetailSerializer, description="identical to the latest version, which is returned"
            ),
            **_errors(400, 401, 403, 409, 413),
        },
        tags=["process definitions"],
    )
    def post(self, request):
        data = _input(s.DeployInput, request)
        result = deploy_definition(
            actor=request.user,
            bpmn_xml=data["bpmn_xml"],
            forms=data["forms"],
            lanes=data.get("lanes") or None,
            routing=data.get("routing") or None,
            called=[dict(entry) for entry in data.get("called", [])] or None,
        )
        return Response(
            s.ProcessDefinitionDetailSerializer(result.definition, context={"request": request}).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class ProcessDefinitionDetail(APIView):
    @extend_schema(
        responses={200: s.ProcessDefinitionDetailSerializer, **_errors(*OBJECT)}, tags=["process definitions"]
    )
    def get(self, request, key):
        definition = selectors.process_definition_for(request.user, key)
        return Response(s.ProcessDefinitionDetailSerializer(definition, context={"request": request}).data)


class ProcessDefinitionVersion(APIView):
    @extend_schema(
        responses={200: s.ProcessDefinitionDetailSerializer, **_errors(*OBJECT)}, tags=["process definitions"]
    )
    def get(self, request, key, version):
        definition = selectors.process_definition_for(request.user, key, version)
        return Response(s.ProcessDefinitionDetailSerializer(definition, context={"request": request}).data)


class VersionMigrationView(APIView):
    """Moving the running cases of one version to another (process admins)."""

    @extend_schema(
        parameters=[s.MigrationPreviewInput],
        responses={200: s.MigrationPlanSerializer, **_errors(400, 401, 403, 404)},
        tags=["process definitions"],
        description=(
            "Preview, in counts: a row per standing of the running cases of this version (the elements they "
            "wait on, where they would wait in the target version, and the reasons that keep them from moving), "
            "each case counted in one row, and how many can move and cannot. No case "
            f"is named: a count under {SMALL} is hidden (`count` null, `shown` 'fewer than {SMALL}'), and so is a "
            "number that would let one be worked out from the numbers beside it (`shown` 'hidden'). "
            "`case` is refused (400): a process admin's model could send each case its own way by its data. "
            "Changes nothing."
        ),
    )
    def get(self, request, key, version):
        if "case" in request.query_params:
            raise InvalidInput("migration.preview_one_case", errors=[field_error("case", "migration.preview_one_case")])
        query = s.MigrationPreviewInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        plan = migration_preview.preview_migration(
            actor=request.user,
            key=key,
            from_version=version,
            to_version=query.validated_data.get("to_version"),
        )
        return Response(s.MigrationPlanSerializer(plan).data)

    @extend_schema(
        request=s.MigrationInput,
        responses={200: s.VersionMigrationSerializer, **_errors(400, 401, 403, 404, 413)},
        tags=["process definitions"],
        description=(
            "Move every running case of this version (or one, with `case`) to the target version in one "
            "audited action. Cases that cannot move stay, listed in `refused` with their reasons."
        ),
    )
    def post(self, request, key, version):
        data = _input(s.MigrationInput, request)
        record = services.migrate_instances(
            actor=request.user,
            key=key,
            from_version=version,
            to_version=data.get("to_version"),
            case_id=data.get("case"),
        )
        return Response(s.VersionMigrationSerializer(record).data)


# --- external tasks --------------------------------------------------------------------


class ExternalTaskFetch(APIView):
    throttle_scope = "external_tasks"  # an agency's system polling: a rate of its own (api/throttling.py)

    @extend_schema(
        request=s.FetchAndLockInput,
        responses={200: s.LockedExternalTaskSerializer(many=True), **_errors(400, 401, 413)},
        tags=["external tasks"],
        description=(
            "Camunda's fetch-and-lock: up to `maxTasks` due service tasks of the topics, routed to an agency "
            "you work in, each locked to `workerId` for `lockDuration` ms, with the fields it declares."
        ),
    )
    def post(self, request):
        data = _input(s.FetchAndLockInput, request)
        tasks = external_tasks.fetch_and_lock(
            actor=request.user,
            worker_id=data["workerId"],
            topics=[{"topic": t["topicName"], "lock_seconds": t["lockDuration"] / 1000} for t in data["topics"]],
            max_tasks=data["maxTasks"],
        )
        return Response(s.LockedExternalTaskSerializer(tasks, many=True).data)


class ExternalTaskComplete(APIView):
    throttle_scope = "external_tasks"  # an agency's system polling: a rate of its own (api/throttling.py)

    @extend_schema(
        parameters=[EXTERNAL_TASK_ID],
        request=s.ExternalCompleteInput,
        responses={204: None, **_errors(400, 401, 404, 409, 413)},
        tags=["external tasks"],
        description="Complete a locked task; `variables` must meet the task's form (400 naming each field).",
    )
    def post(self, request, task_id):
        data = _input(s.ExternalCompleteInput, request)
        external_tasks.complete_external_task(
            actor=request.user,
            task_id=task_id,
            worker_id=data["workerId"],
            variables={name: variable["value"] for name, variable in data["variables"].items()},
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExternalTaskFailure(APIView):
    throttle_scope = "external_tasks"  # an agency's system polling: a rate of its own (api/throttling.py)

    @extend_schema(
        parameters=[EXTERNAL_TASK_ID],
        request=s.ExternalFailureInput,
        responses={204: None, **_errors(400, 401, 404, 409, 413)},
        tags=["external tasks"],
        description="The worker could not do it: fetched again after `retryTimeout` ms while `retries` remain; "
        "with none left an incident is opened.",
    )
    def post(self, request, task_id):
        data = _input(s.ExternalFailureInput, request)
        timeout = data.get("retryTimeout")
        external_tasks.fail_external_task(
            actor=request.user,
            task_id=task_id,
            worker_id=data["workerId"],
            error=data["errorMessage"],
            retries=data.get("retries"),
            retry_seconds=None if timeout is None else timeout / 1000,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- cases -----------------------------------------------------------------------------


class CaseList(ListView):
    # Read by statements compiled once per shape (workflows.case_lists); the filter set
    # validates the parameters (400 naming one) and documents them in the schema.
    serializer_class = s.CaseSummarySerializer
    model = Case
    filterset_class = filters.CaseFilter

    def list(self, request, *args, **kwargs):
        filterset = filters.CaseFilter(request.query_params, queryset=Case.objects.none(), request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        page = self.paginate_queryset(CaseListing(request.user, filterset, fields=CASE_ANSWER_FIELDS))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        responses={200: s.CaseSummarySerializer(many=True), **_errors(*LIST)},
        tags=["cases"],
        description="The cases you may see, newest first: in the order they were registered (by `id`, "
        "descending; the same as by `opened_at` but for cases registered with an earlier date, such as "
        "imported ones, and cases started in the same instant). Since 2026-12 (issue 12): it was by `opened_at`.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.CaseInput,
        responses={
            201: s.CaseCreatedSerializer,
            400: OpenApiResponse(
                s.ErrorSerializer,
                description=(
                    "invalid input: `errors` names each field and what is wrong; `correlation_key` when another "
                    "running case you see already has the key (a message naming it must find one case)"
                ),
            ),
            **_errors(401, 403, 413),
        },
        tags=["cases"],
    )
    def post(self, request):
        data = _input(s.CaseInput, request)
        open_tasks = selectors.OpenTasksRead(request.user)  # read in the start's last batch
        case = services.start_case(
            actor=request.user,
            process_key=data["process_key"],
            person=dict(data["person"]),
            participants=data["participants"],
            data=data.get("data"),
            correlation_key=data["correlation_key"],
            responsible=data.get("responsible"),
            open_tasks=open_tasks,
        )
        body = {
            "id": case.pk,
            "reference": case.reference,
            "process_key": case.process_key,
            "status": case.status,
            "opened_at": case.opened_at,
            "open_tasks": selectors.case_tasks_for(request.user, case, open_tasks),
        }
        return Response(s.CaseCreatedSerializer(body).data, status=status.HTTP_201_CREATED)


class CaseDetail(APIView):
    @extend_schema(parameters=[ID], responses={200: s.CaseDetailSerializer, **_errors(*OBJECT)}, tags=["cases"])
    def get(self, request, pk):
        return Response(s.CaseDetailSerializer(selectors.case_view_for(request.user, pk)).data)


class CaseResponsible(APIView):
    @extend_schema(
        parameters=[ID],
        request=s.ResponsibleInput,
        responses={200: s.CaseResponsibleSerializer, **_errors(*ACTION)},
        tags=["cases"],
        description="The lead of the case's housing agency makes another of its contacts responsible (403 for "
        "anyone else who sees the case; 409 when the case is closed, or case.responsible_changes_full when this "
        "lead has changed it CASE_RESPONSIBLE_CHANGES_PER_USER times). Recorded in the timeline.",
    )
    def post(self, request, pk):
        data = _input(s.ResponsibleInput, request)
        case = services.assign_responsible(actor=request.user, case=pk, responsible=data["responsible"])
        return Response(s.CaseResponsibleSerializer(case).data)


class CaseWithdrawals(APIView):
    @extend_schema(
        parameters=[ID],
        request=s.WithdrawalInput,
        responses={201: s.WithdrawalSerializer, **_errors(*ACTION)},
        tags=["cases"],
        description="The case's coordinator withdraws an agency from the case, with a reason: its participation "
        "and access end at once (its people get 404 on the case, its tasks, notes and attachments). Recorded in the "
        "timeline and the access log. 400 when the agency does not take part or the reason is missing; 403 for "
        "anyone else who sees the case, and for the coordinating agency itself; 409 when the case is closed or the "
        "agency still has open tasks in it (named in `detail`).",
    )
    def post(self, request, pk):
        data = _input(s.WithdrawalInput, request)
        event = services.withdraw_agency(actor=request.user, case=pk, agency=data["agency"], reason=data["reason"])
        return Response(s.WithdrawalSerializer(event).data, status=status.HTTP_201_CREATED)


class CaseSafetyConfirmations(APIView):
    @extend_schema(
        parameters=[ID],
        request=s.SafetyConfirmationInput,
        responses={200: s.SafetyConfirmationSerializer, **_errors(*ACTION)},
        tags=["cases"],
        description="The agency that recorded a safety warning, or the case's coordinator, confirms it again: it "
        "is shown to the participants for SAFETY_WARNING_DAYS (or the form's `x-valid-days`) from now. Recorded "
        "in the timeline and the access log. 400 naming `field` when the case has no such warning you are told "
        "of; 403 for other participants; 409 when the case is closed.",
    )
    def post(self, request, pk):
        data = _input(s.SafetyConfirmationInput, request)
        until = services.confirm_safety_warning(actor=request.user, case=pk, field=data["field"])
        return Response(s.SafetyConfirmationSerializer({"field": data["field"], "valid_until": until}).data)


class CaseFollowOn(APIView):
    @extend_schema(
        parameters=[ID],
        request=s.FollowOnInput,
        responses={201: s.FollowOnSerializer, **_errors(*ACTION)},
        tags=["cases"],
        description="A housing contact of the case starts the next case of the person's path; the start form's "
        "`x-inherit` fields are carried when every agency of the new case may see their category (403 for other "
        "participants, 404 for everyone else); 409 `case.follow_on_open` while a next case of the same process "
        "is open.",
    )
    def post(self, request, pk):
        data = _input(s.FollowOnInput, request)
        result = services.start_follow_on(
            actor=request.user,
            case=pk,
            process_key=data["process_key"],
            participants=data["participants"],
            responsible=data.get("responsible"),
            consent_categories=data["consent_categories"],
        )
        return Response(s.FollowOnSerializer(result).data, status=status.HTTP_201_CREATED)


class CasePersonPath(APIView):
    @extend_schema(
        parameters=[ID],
        responses={200: s.PersonPathSerializer, **_errors(*OBJECT)},
        tags=["cases"],
        description="The cases over time that you may see of the person of this case (404 when you do not see "
        "the case); each listing is logged. It is reached by a case, and names no person id: person ids are "
        "sequential, so a route or answer with one would tell whoever starts a case that its person was on file "
        "before (an id older than a new person's), a client of another service.",
    )
    def get(self, request, pk):
        case = selectors.case_for(request.user, pk)
        return Response(s.PersonPathSerializer(selectors.person_path_for(request.user, case.person_id)).data)


class CaseloadView(APIView):
    @extend_schema(
        responses={200: s.CaseloadSerializer(many=True), **_errors(401, 403)},
        tags=["cases"],
        description="Per housing agency you lead: each contact's open cases, their open and overdue tasks and "
        "the cases closed in the past year. Counts only.",
    )
    def get(self, request):
        return Response(s.CaseloadSerializer(selectors.caseload_for(request.user), many=True).data)


class CaseTimeline(PreparedListView):
    serializer_class = s.EventSerializer
    model = Event

    def select(self, user):
        # Without the events that would show a gateway's path the reader may not infer
        # (``selectors.case_timeline_listing``; ``PathView.events`` on each page).
        self.case = selectors.case_for(user, self.kwargs["pk"])
        self.path_view = selectors.timeline_path_view(user, self.case)
        return selectors.case_timeline_listing(self.case, user, self.path_view)

    def paginate_queryset(self, queryset):
        page = self.path_view.events(super().paginate_queryset(queryset))
        selectors.log_timeline_read(self.request.user, self.case)
        return page

    @extend_schema(parameters=[ID], responses={200: s.EventSerializer(many=True), **_errors(*LIST)}, tags=["cases"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CaseDiagram(APIView):
    @extend_schema(parameters=[ID], responses={200: s.DiagramSerializer, **_errors(*OBJECT)}, tags=["cases"])
    def get(self, request, pk):
        user = request.user
        return Response(s.DiagramSerializer(selectors.case_diagram_for(selectors.case_for(user, pk), user)).data)


# --- consents and the access log ----------------------------------------------------------


class CaseConsents(ListView):
    serializer_class = s.ConsentSerializer
    model = Consent

    def select(self, user):
        self.case = selectors.case_for(user, self.kwargs["pk"])
        return selectors.consents_for_case(actor=user, case=self.case)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)  # read (a list): the read is logged after it
        selectors.log_consents_read(self.request.user, self.case)
        return page

    @extend_schema(
        parameters=[ID], responses={200: s.ConsentSerializer(many=True), **_errors(*LIST)}, tags=["consents"]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        parameters=[ID],
        request=s.ConsentInput,
        responses={201: s.ConsentSerializer, **_errors(400, 401, 403, 404, 413)},
        tags=["consents"],
    )
    def post(self, request, pk):
        data = _input(s.ConsentInput, request)
        consent = services.record_consent(actor=request.user, case=pk, **data)
        consent = selectors.consent_as_read(actor=request.user, consent=consent)
        return Response(s.ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


class ConsentRevoke(APIView):
    @extend_schema(
        parameters=[ID],
        request=None,
        responses={200: s.ConsentSerializer, **_errors(401, 403, 404, 409)},
        tags=["consents"],
    )
    def post(self, request, pk):
        consent = services.revoke_consent(actor=request.user, consent_id=pk)
        return Response(s.ConsentSerializer(selectors.consent_as_read(actor=request.user, consent=consent)).data)


class CaseBreakGlass(ListView):
    serializer_class = s.BreakGlassSerializer
    model = BreakGlass

    def select(self, user):
        self.case = selectors.case_whose_access_log_reads(user, self.kwargs["pk"])
        return selectors.break_glass_for_case(actor=user, case=self.case)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)  # read (a list): the read is logged after it
        selectors.log_break_glass_read(self.request.user, self.case)
        return page

    @extend_schema(
        parameters=[ID], responses={200: s.BreakGlassSerializer(many=True), **_errors(*LIST, 403)}, tags=["consents"]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        parameters=[ID],
        request=s.BreakGlassInput,
        responses={201: s.BreakGlassSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["consents"],
        summary="Open a masked category in an emergency (danger to life or health), with a written reason",
    )
    def post(self, request, pk):
        data = _input(s.BreakGlassInput, request)
        grant = services.open_break_glass(actor=request.user, case=pk, **data)
        return Response(s.BreakGlassSerializer(grant).data, status=status.HTTP_201_CREATED)


class BreakGlassReviewList(ListView):
    serializer_class = s.BreakGlassSerializer
    model = BreakGlass

    def select(self, user):
        return selectors.break_glass_to_review(user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        selectors.log_break_glass_review_read(self.request.user, page)  # one row per case listed
        return page

    @extend_schema(
        responses={200: s.BreakGlassSerializer(many=True), **_errors(*LIST, 403)},
        tags=["consents"],
        summary="Emergency accesses waiting for an auditor's review",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class BreakGlassReview(APIView):
    @extend_schema(
        parameters=[ID],
        request=s.BreakGlassReviewInput,
        responses={200: s.BreakGlassSerializer, **_errors(400, 401, 404, 409)},
        tags=["consents"],
    )
    def post(self, request, pk):
        data = _input(s.BreakGlassReviewInput, request)
        grant = services.review_break_glass(actor=request.user, grant_id=pk, **data)
        return Response(s.BreakGlassSerializer(grant).data)


class BreakGlassEnd(APIView):
    @extend_schema(
        parameters=[ID],
        request=None,
        responses={200: s.BreakGlassSerializer, **_errors(401, 403, 404, 409)},
        tags=["consents"],
        summary="End an emergency access now (the user who opened it, or an auditor reviewing it)",
    )
    def post(self, request, pk):
        grant = services.end_break_glass(actor=request.user, grant_id=pk)
        return Response(s.BreakGlassSerializer(grant).data)


class CaseAccessLog(PreparedListView):
    serializer_class = s.AccessLogSerializer
    model = AccessLog

    def select(self, user):
        self.case = selectors.case_whose_access_log_reads(user, self.kwargs["pk"])
        return selectors.access_log_listing(actor=user, case=self.case)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)  # read (a list): the log as it was before this read
        selectors.log_access_log_read(self.request.user, self.case)
        return selectors.mask_hidden_bases(self.request.user, page, self.case)

    @extend_schema(
        parameters=[ID], responses={200: s.AccessLogSerializer(many=True), **_errors(*LIST, 403)}, tags=["consents"]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PersonAccessReport(APIView):
    # The report's header (the person, the cases it covers) and a page of its reads, grouped
    # (``selectors.access_groups``), in keyset pages as the lists (``?cursor=``, ``?page_size=``;
    # ``next`` and ``previous`` links). Every page read is in the access log of each case it covers.
    pagination_class = GroupKeysetPagination
    report: selectors.PersonAccessReport  # the one being answered (``narrow_page``)

    @extend_schema(
        parameters=[
            ID,
            OpenApiParameter(CURSOR, str, description=GroupKeysetPagination.cursor_query_description),
            OpenApiParameter(
                PAGE_SIZE,
                int,
                description=GroupKeysetPagination.page_size_query_description,
            ),
        ],
        responses={200: s.PersonAccessReportSerializer, **_errors(400, 401, 403, 404)},
        tags=["consents"],
        summary="Who saw the data of this case's person, in all their cases (grouped, in pages)",
    )
    def get(self, request, pk):
        check_parameters(request, self)  # 400 before the read is logged
        report = self.report = selectors.person_access_report(actor=request.user, case=pk, log=False)
        pages = self.pagination_class()
        # Logged once the cursor and the page size are read (``before_page_read``): until
        # h-lists a refused cursor (400) was logged as a report given.
        page = pages.paginate_queryset(report.entries, request, view=self)
        groups = selectors.access_groups_shown(request.user, page, report.cases)
        shown = SimpleNamespace(
            next=pages.get_next_link(),
            previous=pages.get_previous_link(),
            name=report.name,
            names=report.names,
            person=report.person,
            generated_at=report.generated_at,
            cases=report.cases,
            entries=groups,
        )
        return Response(s.PersonAccessReportSerializer(shown).data)

    def narrow_page(self, groups, keys, values, limit):
        # A page's lines lie within as many of the person's days as it has lines: the
        # statement groups those days' rows, not all of the person's (selectors.AccessLines).
        return self.report.lines.narrow_page(groups, keys, values, limit)

    def before_page_read(self):
        selectors.log_person_access_report(self.request.user, self.report)


# --- tasks -----------------------------------------------------------------------------


class TaskList(ListView):
    # Read by statements compiled once per shape (workflows.task_lists); the filter set
    # validates the parameters (400 naming one) and documents them in the schema.
    serializer_class = s.TaskSerializer
    model = Task
    filterset_class = filters.TaskFilter

    def list(self, request, *args, **kwargs):
        filterset = filters.TaskFilter(request.query_params, queryset=Task.objects.none(), request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        page = self.paginate_queryset(TaskListing(request.user, filterset, fields=TASK_ANSWER_FIELDS))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={200: s.TaskSerializer(many=True), **_errors(*LIST)}, tags=["tasks"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TaskDetail(APIView):
    @extend_schema(parameters=[ID], responses={200: s.TaskDetailSerializer, **_errors(*OBJECT)}, tags=["tasks"])
    def get(self, request, pk):
        return Response(s.TaskDetailSerializer(selectors.task_view_for(request.user, pk)).data)


class TaskClaim(APIView):
    @extend_schema(
        parameters=[ID], request=None, responses={200: s.TaskSerializer, **_errors(401, 403, 404, 409)}, tags=["tasks"]
    )
    def post(self, request, pk):
        return Response(s.TaskSerializer(services.claim_task(actor=request.user, task_id=pk)).data)


class TaskUnclaim(APIView):
    @extend_schema(
        parameters=[ID], request=None, responses={200: s.TaskSerializer, **_errors(401, 403, 404, 409)}, tags=["tasks"]
    )
    def post(self, request, pk):
        return Response(s.TaskSerializer(services.unclaim_task(actor=request.user, task_id=pk)).data)


class TaskReassign(APIView):
    @extend_schema(
        parameters=[ID],
        request=s.TaskReassignInput,
        responses={200: s.TaskSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["tasks"],
        description="Take over a task a colleague has claimed (no `assignee`), or, as the agency's lead, "
        "give it to a colleague (`assignee`: their user id). 409 when the task is not claimed or no longer open.",
    )
    def post(self, request, pk):
        data = s.TaskReassignInput(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.reassign_task(actor=request.user, task_id=pk, assignee=data.validated_data.get("assignee"))
        return Response(s.TaskSerializer(task).data)


class TaskComplete(APIView):
    @extend_schema(
        parameters=[
            ID,
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="repeat a request safely: the first successful answer is replayed",
            ),
        ],
        request=s.CompleteInput,
        responses={200: s.CompletedSerializer, **_errors(*ACTION)},
        tags=["tasks"],
    )
    def post(self, request, pk):
        def complete():
            data = _input(s.CompleteInput, request)
            open_tasks = selectors.OpenTasksRead(request.user)  # read in the step's last batch
            task = services.complete_task(actor=request.user, task_id=pk, data=data["data"], open_tasks=open_tasks)
            # The case row the service locked and read, its status as the step left it (the
            # case may have ended): nothing of the task or the case is read again.
            case = selectors.case_for(request.user, task.case)
            body = {
                "task": task,
                "case": case,
                "case_status": case.status,
                "open_tasks": selectors.case_tasks_for(request.user, case, open_tasks),
            }
            return Response(s.CompletedSerializer(body).data)

        def still_allowed():
            services.check_task_workable(actor=request.user, task_id=pk)

        def shown_now(body):
            # The next tasks the first answer named, as the reader may see them now: one on a
            # branch a consent (or an opening) showed them is gone once that ends.
            rows = body.get("open_tasks") if isinstance(body, dict) else None
            if not rows:
                return body
            shown = selectors.case_tasks_shown_now(request.user, body["case"]["id"], [row["id"] for row in rows])
            return {**body, "open_tasks": [row for row in rows if row["id"] in shown]}

        return idempotent(request, complete, still_allowed=still_allowed, shown_now=shown_now)


# --- incidents -------------------------------------------------------------------------


class IncidentList(PreparedListView):
    serializer_class = s.IncidentSerializer
    model = Incident
    filterset_class = filters.IncidentFilter  # validated here; documents the parameters in the schema

    def select(self, user):
        visible = selectors.incidents_for(user)  # 403 for all but process admins, before a filter is read
        filterset = filters.IncidentFilter(self.request.query_params, queryset=visible)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        return selectors.incidents_listing(user, filterset)

    @extend_schema(responses={200: s.IncidentSerializer(many=True), **_errors(*LIST, 403)}, tags=["incidents"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class IncidentRetry(APIView):
    @extend_schema(
        parameters=[ID],
        request=None,
        responses={200: s.IncidentSerializer, **_errors(401, 403, 404, 409)},
        tags=["incidents"],
    )
    def post(self, request, pk):
        return Response(s.IncidentSerializer(services.retry_incident(actor=request.user, incident_id=pk)).data)


class IncidentData(APIView):
    @extend_schema(
        parameters=[ID],
        request=s.IncidentDataInput,
        responses={200: s.IncidentSerializer, **_errors(400, 401, 403, 404, 409, 413)},
        tags=["incidents"],
        description=(
            "Set the data the failed task needs (a missing input collection, data output or data "
            "object), then retry the incident. The timeline records which fields, never the values."
        ),
    )
    def post(self, request, pk):
        data = _input(s.IncidentDataInput, request)
        incident = services.set_incident_data(actor=request.user, incident_id=pk, data=data["data"])
        return Response(s.IncidentSerializer(incident).data)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Paths under /api/v1/ that match no route (``/cases/abc/``) answer 404 in the API's
    error shape, also with DEBUG on (Django's own 404 page is HTML)."""
    return JsonResponse(error_body("no such endpoint or object", code="not_found"), status=404)
