"""The check every page goes through in Chromium (``overlapping_labels``), tried on markup
where a label lies over its value, runs out of its box, or sits where it should."""

import pytest

from .conftest import PHONE, overlapping_labels

pytestmark = pytest.mark.browser

CARD = """<!doctype html><html lang="nb"><body style="margin:0">
<dl style="width:300px">
  <div style="display:grid;grid-template-columns:8rem 1fr"><dt>Løslatelse</dt><dd style="margin:0">1. mars 2027</dd></div>
  <div style="display:grid;grid-template-columns:8rem 1fr"><dt>Boligsituasjon</dt><dd style="margin:0 0 0 -6rem">Uten bolig</dd></div>
  <div style="display:grid;grid-template-columns:4rem 1fr"><dt style="white-space:nowrap;overflow:hidden">Samtykke til å kontakte NAV</dt><dd style="margin:0">Ja</dd></div>
  <div style="display:none"><dt>Skjult</dt><dd style="margin:0 0 0 -6rem">Skjult verdi</dd></div>
</dl></body></html>"""


def test_a_label_over_its_value_or_out_of_its_box_is_found_and_a_good_one_is_not(browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_content(CARD)
    assert overlapping_labels(page) == ["Boligsituasjon", "Samtykke til å kontakte NAV"]
    context.close()
