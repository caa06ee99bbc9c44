"""The check every page goes through in Chromium (``overlapping_labels``), tried on markup
where a label lies over its value, runs out of its box, or sits where it should."""

import pytest

from .conftest import PHONE, overlapping_labels

pytestmark = pytest.mark.browser

ROW = (
    '<div style="display:grid;grid-template-columns:{columns} 1fr">'
    '<dt{dt}>{label}</dt><dd style="margin:{dd}">{value}</dd></div>'
)
CARD = (
    '<!doctype html><html lang="nb"><body style="margin:0"><dl style="width:300px">'
    + ROW.format(columns="8rem", dt="", label="Løslatelse", dd="0", value="1. mars 2027")
    + ROW.format(columns="8rem", dt="", label="Boligsituasjon", dd="0 0 0 -6rem", value="Uten bolig")
    + ROW.format(
        columns="4rem",
        dt=' style="white-space:nowrap;overflow:hidden"',
        label="Samtykke til å kontakte NAV",
        dd="0",
        value="Ja",
    )
    + '<div style="display:none"><dt>Skjult</dt><dd style="margin:0 0 0 -6rem">Skjult verdi</dd></div>'
    + "</dl></body></html>"
)


def test_a_label_over_its_value_or_out_of_its_box_is_found_and_a_good_one_is_not(browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_content(CARD)
    assert overlapping_labels(page) == ["Boligsituasjon", "Samtykke til å kontakte NAV"]
    context.close()
