"""Issue 13, point 11: browsers ask for /favicon.ico on every page; it answers with the icon
(a permanent redirect to the SVG the pages link), never a 404."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("signed_in", [False, True])
def test_favicon_ico_answers_with_the_icon(client, users, signed_in):
    if signed_in:
        client.force_login(users["kari"])
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/brobygger/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    body = b"".join(icon.streaming_content) if icon.streaming else icon.content
    assert body.lstrip().startswith((b"<svg", b"<?xml")) and b"</svg>" in body


def test_every_page_links_the_same_icon(client, users):
    client.force_login(users["kari"])
    page = client.get("/tasks/").content.decode()
    assert '<link rel="icon" href="/static/brobygger/favicon.svg" type="image/svg+xml">' in page
