"""The process admin pages in both languages: bokmål by default, English on request; the
editor's scripts get their strings translated from the page; the services keep English."""

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from bpmn import services
from core.errors import Forbidden
from permissions.models import CATEGORIES
from tests.bpmn.editor.conftest import PRISON, post_json
from web.processes import EDITOR_STRINGS

pytestmark = pytest.mark.django_db

SCRIPTS = Path(__file__).resolve().parents[3] / "web" / "static" / "bpmn"
# B.t("...") and B.tn("...", "...", n): every literal the scripts translate.
LITERALS = re.compile(r'B\.tn?\(\s*"((?:[^"\\]|\\.)*)"(?:\s*,\s*"((?:[^"\\]|\\.)*)")?')
SAME_IN_BOKMAL = {"Type"}


def _script_strings():
    found = set()
    for script in SCRIPTS.glob("*.js"):
        for match in LITERALS.finditer(script.read_text(encoding="utf-8")):
            found.update(text for text in match.groups() if text)
    return found


def _strings_of(response):
    page = response.content.decode()
    return json.loads(
        re.search(r'<script id="brobygger-strings" type="application/json">(.*?)</script>', page, re.S).group(1)
    )


def test_every_string_the_scripts_translate_is_in_the_page_catalog():
    assert _script_strings() - set(EDITOR_STRINGS) == set()


def test_every_editor_string_has_a_bokmal_translation():
    with translation.override("nb"):
        untranslated = [
            text for text in EDITOR_STRINGS if translation.gettext(text) == text and text not in SAME_IN_BOKMAL
        ]
    assert untranslated == []


def test_the_editor_is_in_bokmal_by_default_and_passes_the_scripts_their_strings(web, shipped):
    response = web("ada").get(reverse("process-edit", kwargs={"key": PRISON}))
    page = response.content.decode()
    assert 'id="validate">Valider<' in page and 'id="deploy">Ta i bruk<' in page
    strings = _strings_of(response)
    assert set(strings) == {*EDITOR_STRINGS, *CATEGORIES}
    assert strings["New field"] == "Nytt felt" and strings["economy"] == "økonomi"
    assert strings["%(n)s problems: fix them before deploying (marked on the diagram and listed below)."].startswith(
        "%(n)s problemer"
    )


def test_english_is_selectable(web, shipped):
    ada = web("ada")
    ada.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = ada.get(reverse("process-edit", kwargs={"key": PRISON}))
    assert 'id="deploy">Deploy<' in response.content.decode()
    assert _strings_of(response)["New field"] == "New field"
    assert ">Processes<" in ada.get(reverse("processes")).content.decode()


def test_the_list_and_detail_pages_are_in_bokmal(web, shipped):
    ada = web("ada")
    listing = ada.get(reverse("processes")).content.decode()
    assert "<h1>Prosesser</h1>" in listing and "Tatt i bruk av" in listing
    detail = ada.get(reverse("process", kwargs={"key": PRISON})).content.decode()
    assert "Historikk over ibruktaking" in detail and "Eksporter .bpmn" in detail


def test_a_new_process_is_named_in_the_users_language(web, shipped):
    config = web("ada").get(reverse("process-new")).context["config"]
    assert 'name="Ny prosess"' in config["bpmn_xml"]


def test_endpoint_errors_follow_the_users_language(web, prison_content):
    refused = post_json(web("nils"), reverse("process-validate"), prison_content).json()
    assert refused["detail"] == "bare prosessadministratorer kan redigere prosessdefinisjoner"
    broken = post_json(web("ada"), reverse("process-validate"), {"bpmn_xml": "", "forms": []}).json()
    assert {e["field"]: e["message"] for e in broken["errors"]} == {
        "bpmn_xml": "oppgi BPMN-XML-en som tekst",
        "forms": "forventet et objekt av objekter",
    }
    english = web("ada")
    english.post(reverse("set_language"), {"language": "en", "next": "/"})
    broken = post_json(english, reverse("process-validate"), {"bpmn_xml": "", "forms": []}).json()
    assert broken["detail"] == "the draft is not well-formed"


def test_form_preview_problems_are_translated(web):
    page = post_json(web("ada"), reverse("process-form-preview"), {"schema": []}).content.decode()
    assert "skjemaet er ikke et JSON-objekt" in page and "Skjemaet har ingen felt ennå." in page


def test_the_services_keep_english_for_the_api(users):
    with translation.override("nb"), pytest.raises(Forbidden) as refused:
        services.save_draft(actor=users["nils"], key=PRISON, bpmn_xml="<x/>", forms={})
    assert refused.value.detail == "only process admins edit process definitions"
