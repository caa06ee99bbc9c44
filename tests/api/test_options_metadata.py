"""OPTIONS on the API names the route and its media types, never its fields nor their
choices (``api.metadata.RouteOnlyMetadata``).

DRF's default metadata listed, for every route serving POST, the fields of its serializer
with the choices of each ``ChoiceField``, to any signed-in caller and before any rule of the
case: a field offering rows of a table (agencies, users, cases) would have listed every row,
and the routes here described their answer serializers as POST input to callers the route
refuses (NAV's member read the fields of the coordinator's break-glass list)."""

from __future__ import annotations

import pytest
from django.db import transaction
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from accounts.tokens import issue
from permissions.models import AccessLog, Agency
from tests.test_hostile_walk import ADMIN, ROUTES, _context, _url, site_routes, walked  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

ROUTE_ONLY = {"name", "description", "renders", "parses"}


def test_options_on_every_api_route_names_no_field_and_reads_nothing(walked, users):  # noqa: F811
    ctx = _context(walked)
    token, _expiry = issue(users["nils"])
    failures, calls = [], 0
    for route, name, _pattern in site_routes():
        if name.startswith(f"{ADMIN}:") or not route.startswith("api/"):
            continue
        for kwargs in ROUTES[name](ctx):
            url = _url(route, kwargs)
            client = APIClient(raise_request_exception=False)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            calls += 1
            with transaction.atomic():
                last = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
                answer = client.options(url)
                logged = AccessLog.objects.filter(id__gt=last).count()
                transaction.set_rollback(True)
            if logged:
                failures.append(f"OPTIONS {url}: {logged} access-log rows")
            if answer.status_code >= 500:
                failures.append(f"OPTIONS {url}: {answer.status_code}")
            json_answer = answer.status_code == 200 and answer.get("Content-Type", "").startswith("application/json")
            if json_answer and (extra := set(answer.json()) - ROUTE_ONLY):
                failures.append(f"OPTIONS {url}: tells {sorted(extra)}")
    assert calls > 50
    assert failures == [], "\n".join(failures)


def test_a_field_offering_rows_lists_none_of_them(users, agencies):
    """A route whose input offers rows (here every agency by name) does not list them."""

    class Offer(serializers.Serializer):
        agency = serializers.ChoiceField(choices=[(a.pk, a.name) for a in Agency.objects.order_by("pk")])

    class Offering(generics.GenericAPIView):
        serializer_class = Offer

        def post(self, request):
            return Response({})

    request = APIRequestFactory().options("/api/v1/offering/")
    force_authenticate(request, user=users["nils"])
    answer = Offering.as_view()(request)
    answer.render()
    assert answer.status_code == 200 and set(answer.data) == ROUTE_ONLY
    text = answer.content.decode()
    assert not [agency.name for agency in agencies.values() if agency.name in text]
