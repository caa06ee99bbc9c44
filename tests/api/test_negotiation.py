"""``api.negotiation``: the renderer and media type DRF's negotiation chooses, remembered for
the usual Accept headers; every other header (and ``?format=``) negotiated by DRF as before."""

from unittest import mock

import pytest
from django.http import Http404
from django.test import Client, RequestFactory
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request

from api.negotiation import CommonAcceptNegotiation

RENDERER_SETS = [
    [JSONRenderer],
    [OpenApiYamlRenderer, OpenApiJsonRenderer],
    [BrowsableAPIRenderer, JSONRenderer],
]
ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "text/html",
    "application/vnd.oai.openapi",
    "text/html, application/json;q=0.9",
    "application/xml",
    "",
    "application/*",
]
QUERIES = ["", "?format=json", "?format=openapi", "?format=", "?format=api"]


def _answer(negotiator, renderer_classes, accept, query, format_suffix=None):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(RequestFactory().get("/api/v1/agencies/" + query, **headers))
    renderers = [renderer() for renderer in renderer_classes]
    try:
        renderer, media_type = negotiator.select_renderer(request, renderers, format_suffix)
    except (NotAcceptable, Http404) as refused:
        return type(refused).__name__
    return renderers.index(renderer), media_type


@pytest.mark.parametrize("renderer_classes", RENDERER_SETS)
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", QUERIES)
def test_the_choice_is_drfs(renderer_classes, accept, query):
    expected = _answer(DefaultContentNegotiation(), renderer_classes, accept, query)
    for _ in range(2):  # the first time worked out, the second remembered
        assert _answer(CommonAcceptNegotiation(), renderer_classes, accept, query) == expected
    for suffix in ("json", "openapi"):
        expected = _answer(DefaultContentNegotiation(), renderer_classes, accept, query, suffix)
        assert _answer(CommonAcceptNegotiation(), renderer_classes, accept, query, suffix) == expected


def test_the_usual_headers_are_parsed_once():
    CommonAcceptNegotiation._chosen.clear()
    with mock.patch.object(
        DefaultContentNegotiation,
        "get_accept_list",
        autospec=True,
        side_effect=DefaultContentNegotiation.get_accept_list,
    ) as parsed:
        for accept in (None, "*/*", "application/json") * 3:
            _answer(CommonAcceptNegotiation(), [JSONRenderer], accept, "")
        assert parsed.call_count == 3
        _answer(CommonAcceptNegotiation(), [JSONRenderer], "application/json; indent=2", "")
        _answer(CommonAcceptNegotiation(), [JSONRenderer], "application/json; indent=2", "")
        assert parsed.call_count == 5  # client input is never remembered


@pytest.mark.django_db
def test_the_api_uses_it_and_still_refuses_what_it_cannot_render():
    client = Client()
    with mock.patch.object(
        CommonAcceptNegotiation, "select_renderer", autospec=True, side_effect=CommonAcceptNegotiation.select_renderer
    ) as negotiated:
        answer = client.get("/api/v1/agencies/")
    assert negotiated.called
    assert answer.status_code == 401 and answer["Content-Type"] == "application/json"
    assert client.get("/api/v1/agencies/", HTTP_ACCEPT="text/csv").status_code == 406
