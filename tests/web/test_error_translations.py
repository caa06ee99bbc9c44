"""Every error a user can meet has a bokmål text; pages translate by code, not by text."""

import re

import pytest
from django.utils import translation

from core.messages import MESSAGES, PLURALS, TYPE_NAMES, render

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.mark.parametrize("code", sorted(set(MESSAGES) - set(PLURALS)))
def test_every_error_code_has_a_bokmal_text(code):
    english = MESSAGES[code]
    with translation.override("nb"):
        bokmal = translation.gettext(english)
    assert bokmal != english, f"{code}: no bokmål entry for {english!r}"
    assert set(PLACEHOLDER.findall(bokmal)) == set(PLACEHOLDER.findall(english)), code


@pytest.mark.parametrize("code", sorted(PLURALS))
def test_every_count_has_a_bokmal_singular_and_plural(code):
    singular, counted = PLURALS[code]
    for number, english in ((1, singular), (2, MESSAGES[code]), (0, MESSAGES[code])):
        assert render(code, {counted: number}) == english % {counted: number}
        with translation.override("nb"):
            bokmal = translation.ngettext(singular, MESSAGES[code], number)
            assert render(code, {counted: number}, translate=translation.gettext) == bokmal % {counted: number}
        assert bokmal != english, f"{code}: no bokmål entry for {english!r}"
        assert PLACEHOLDER.findall(bokmal) == PLACEHOLDER.findall(english) == [counted], code
    with translation.override("nb"):
        one, two = (translation.ngettext(singular, MESSAGES[code], number) for number in (1, 2))
    assert one != two, code


@pytest.mark.parametrize("name", sorted(TYPE_NAMES))
def test_every_type_name_has_a_bokmal_word(name):
    with translation.override("nb"):
        assert translation.gettext(TYPE_NAMES[name]) != TYPE_NAMES[name]


def test_a_page_says_a_schema_error_in_bokmal():
    with translation.override("nb"):
        text = render("schema.type", {"type": "boolean"}, translate=translation.gettext)
    assert text == "forventet ja eller nei"
