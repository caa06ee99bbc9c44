"""``POST /api/v1/messages/`` (design §7): a message from an agency's system to a case.

Who may send: a user with a case role (member, lead, coordinator) in an agency that
participates in the case, e.g. the prison's system account for "release date changed".
Others get 404, as for a case they cannot see.

A message that names no case but carries ``start`` (the person and the participating
agencies) starts a case of the process whose start event waits for it, as
``POST /cases/`` would (403 when the sender works in none of the agencies).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.exceptions import coded
from api.serializers import ErrorSerializer, InputSerializer, PersonInput
from workflows import services


class MessageStartInput(InputSerializer):
    person = PersonInput()
    participants = serializers.DictField(
        child=serializers.IntegerField(min_value=1),
        help_text="agency kind -> agency id, one per lane kind of the process",
    )


class MessageInput(InputSerializer):
    name = serializers.CharField(max_length=200, help_text="the BPMN message name, e.g. release_date_changed")
    case_reference = serializers.CharField(max_length=32, required=False, allow_blank=False)
    correlation_key = serializers.CharField(max_length=200, required=False, allow_blank=False)
    payload = serializers.DictField(
        required=False, default=dict, help_text="case data fields the process knows, e.g. expected_release_date"
    )
    message_id = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=False,
        help_text=("the sender's id, unique per sender agency: a repeated id is ignored (202 duplicate)"),
    )
    start = MessageStartInput(
        required=False,
        help_text=(
            "for a message that starts a case (the process's start event waits for it): the person and the "
            "participating agencies; then no case_reference or correlation_key"
        ),
    )

    def validate(self, attrs):
        if attrs.get("case_reference") and attrs.get("correlation_key"):
            raise serializers.ValidationError({"case_reference": [coded("message.reference_or_key")]})
        if "start" in attrs and (attrs.get("case_reference") or attrs.get("correlation_key")):
            raise serializers.ValidationError({"start": [coded("message.names_or_starts")]})
        return attrs


class MessageAccepted(serializers.Serializer):
    status = serializers.ChoiceField(choices=["delivered", "started", "duplicate"])
    case_id = serializers.IntegerField(
        source="case.pk", allow_null=True, help_text="null for a duplicate whose case the sender may not see"
    )
    case_reference = serializers.CharField(source="case.reference", allow_null=True)
    message_id = serializers.CharField(allow_null=True)
    element_ids = serializers.ListField(
        child=serializers.CharField(),
        help_text=(
            "the events that caught it, and a non-interrupting boundary whose task, opened by an earlier message, "
            "is still open and took its new values in (no second task)"
        ),
    )


def _errors(*codes):
    described = {
        400: "invalid message, payload or start field",
        401: "not authenticated",
        403: "start: the sender works in none of the participating agencies",
        404: "no such case, nothing in it waits for this message now, or no process starts on it",
        409: (
            "the correlation key matches several cases the sender sees, or several processes start on the message, "
            "or (message.task_still_open) the task an earlier message opened through a non-interrupting boundary "
            "is still open and this one brings nothing new, or (message.case_messages_full) the sender's agency has "
            "sent CASE_MESSAGES_PER_AGENCY messages into the case"
        ),
    }
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in codes}


class MessageCreate(APIView):
    @extend_schema(
        request=MessageInput, responses={202: MessageAccepted, **_errors(400, 401, 403, 404, 409)}, tags=["messages"]
    )
    def post(self, request):
        serializer = MessageInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.correlate_message(
            actor=request.user,
            name=data["name"],
            case_reference=data.get("case_reference"),
            correlation_key=data.get("correlation_key"),
            payload=data.get("payload") or {},
            message_id=data.get("message_id"),
            start=data.get("start"),
        )
        return Response(MessageAccepted(result).data, status=status.HTTP_202_ACCEPTED)
