"""Revoking API tokens: the one a request carries, or every token of its user."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import sign_in
from accounts.tokens import TokenAuthentication

from .serializers import ErrorSerializer


class TokenRevoke(APIView):
    authentication_classes = [TokenAuthentication]

    @extend_schema(
        request=None,
        responses={204: None, 401: OpenApiResponse(ErrorSerializer)},
        tags=["auth"],
        summary="Revoke the token this request is made with",
    )
    def post(self, request):
        sign_in.revoke_token(request._request, request.user, request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRevokeAll(APIView):
    authentication_classes = [TokenAuthentication]

    @extend_schema(
        request=None,
        responses={204: None, 401: OpenApiResponse(ErrorSerializer)},
        tags=["auth"],
        summary="Revoke every token of the requesting user",
    )
    def post(self, request):
        sign_in.revoke_all_tokens(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
