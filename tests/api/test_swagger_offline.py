"""Swagger UI works without the internet: its page names only our own static files
(drf-spectacular-sidecar), and whitenoise serves them."""

import re

import pytest

pytestmark = pytest.mark.django_db

ASSET = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)["']""", re.IGNORECASE)


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_swagger_ui_references_only_local_static_files(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(?:https?:)?//[\w.-]*cdn", html, re.IGNORECASE)
    assets = ASSET.findall(html)
    assert assets, html
    for url in assets:
        # Its start-up script comes from the page's own URL (no inline script: docs/security.md).
        assert url.startswith(("/static/drf_spectacular_sidecar/", "/static/brobygger/", "/api/v1/docs/?script")), url
    assert any(url.endswith("/swagger-ui-bundle.js") for url in assets)
    assert any(url.endswith("/swagger-ui.css") for url in assets)


def test_the_swagger_ui_files_are_served(client):
    html = client.get("/api/v1/docs/").content.decode()
    for url in ASSET.findall(html):
        response = client.get(url)
        assert response.status_code == 200, url
        body = _body(response)
        assert body, url
        if url.endswith(".js"):
            assert "javascript" in response["Content-Type"]
            assert b"SwaggerUI" in body
