"""htmx's configuration on every page (the ``htmx-config`` meta of templates/base.html): no
copy of a page in localStorage (htmx keeps one per page visited for its history by default:
case data would outlive the session in the browser's storage), a page back in history loaded
again instead, no ``<script>`` of a swapped answer run, no eval (``hx-on``, ``js:`` values,
event filters), requests to this site only."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db
EXPECTED = {
    "historyCacheSize": 0,
    "refreshOnHistoryMiss": True,
    "allowScriptTags": False,
    "allowEval": False,
    "selfRequestsOnly": True,
    "includeIndicatorStyles": False,
}


def _config(html: str) -> dict:
    found = re.findall(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert len(found) == 1, found
    return json.loads(found[0])


def test_the_login_page_and_a_signed_in_page_carry_the_config(users):
    assert _config(Client().get("/accounts/login/").content.decode()) == EXPECTED
    signed_in = Client()
    signed_in.force_login(users["nils"])
    assert _config(signed_in.get("/tasks/").content.decode()) == EXPECTED


def test_no_template_needs_what_the_config_turns_off():
    """``allowEval: false`` stops ``hx-on``, ``hx-vars``, ``js:`` values and event filters
    (``hx-trigger="click[...]"``); ``allowScriptTags: false`` stops scripts in answers. No
    template may use them (they would fail silently), and no other template sets the config."""
    templates = [
        path
        for folder in [settings.BASE_DIR / "templates", *settings.BASE_DIR.glob("*/templates")]
        for path in Path(folder).rglob("*.html")
    ]
    assert templates
    for path in templates:
        text = path.read_text()
        assert not re.search(r"hx-on|hx-vars|hx-vals=['\"]js:|hx-trigger=\"[^\"]*\[", text), path
        if path.name != "base.html":
            assert "htmx-config" not in text, path
