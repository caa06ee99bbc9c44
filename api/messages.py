"""``POST /api/v1/messages/`` (design §7): a message from an agency's system to a case.

Who may send: a user with a case role (member, lead, coordinator) in an agency that
participates in the case, e.g. the prison's system account for "release date changed".
Others get 404, as for a case they cannot see.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows import services

from .serializers import ErrorSerializer, InputSerializer


class MessageInput(InputSerializer):
    name = serializers.CharField(max_length=200, help_text="the BPMN message name, e.g. release_date_changed")
    case_reference = serializers.CharField(max_length=32, required=False, allow_blank=False)
    correlation_key = serializers.CharField(max_length=200, required=False, allow_blank=False)
    payload = serializers.DictField(required=False, default=dict,
                                    help_text="case data fields the process knows, e.g. expected_release_date")
    message_id = serializers.CharField(max_length=200, required=False, allow_blank=False,
                                       help_text="the sender's id: a repeated id is ignored (answered 202)")

    def validate(self, attrs):
        if bool(attrs.get("case_reference")) == bool(attrs.get("correlation_key")):
            raise serializers.ValidationError({"case_reference": ["give either case_reference or correlation_key"]})
        return attrs


class MessageAccepted(serializers.Serializer):
    status = serializers.ChoiceField(choices=["delivered", "duplicate"])
    case_reference = serializers.CharField(source="case.reference")
    message_id = serializers.CharField(allow_null=True)
    element_ids = serializers.ListField(child=serializers.CharField(), help_text="the events that caught it")


def _errors(*codes):
    described = {400: "invalid message or payload field", 401: "not authenticated",
                 404: "no such case, or nothing in it waits for this message now",
                 409: "the correlation key matches several cases"}
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in codes}


class MessageCreate(APIView):
    @extend_schema(request=MessageInput, responses={202: MessageAccepted, **_errors(400, 401, 404, 409)},
                   tags=["messages"])
    def post(self, request):
        serializer = MessageInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.correlate_message(
            actor=request.user, name=data["name"], case_reference=data.get("case_reference"),
            correlation_key=data.get("correlation_key"), payload=data.get("payload") or {},
            message_id=data.get("message_id"),
        )
        return Response(MessageAccepted(result).data, status=status.HTTP_202_ACCEPTED)
