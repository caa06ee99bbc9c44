"""Process editor fixtures: test clients for the demo cast and the shipped prison process."""

import json

import pytest
from django.test import Client

from tests.conftest import PROCESSES

PRISON = "prison_release_to_housing"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def web(users):
    """``web("ada")``: a logged-in test client (``web(None)``: anonymous); CSRF checked."""

    def make(username, *, csrf=False):
        client = Client(enforce_csrf_checks=csrf)
        if username is not None:
            client.force_login(users[username])
        return client

    return make


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def prison_content(shipped):
    """The shipped prison process as the editor would send it: XML, forms, lanes."""
    definition = shipped[PRISON]
    return {"key": PRISON, "bpmn_xml": definition.bpmn_xml, "forms": definition.forms, "lanes": {}}


def without_default(xml: str, gateway="Gateway_has_home", flow="Flow_no_home") -> str:
    marker = f'id="{gateway}" name="Har personen bolig?" default="{flow}"'
    assert marker in xml
    return xml.replace(marker, f'id="{gateway}" name="Har personen bolig?"')


__all__ = ["PRISON", "PROCESSES", "post_json", "without_default"]
