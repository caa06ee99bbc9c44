"""The archive's case file prints a free text as it was written (review2).

h-archive had the case file read its values through the pages' formatter
(``form_values.display_value``), which turns a code without a label into words ("uten_bolig"
as "Uten bolig"): any text with an underscore and no space. So a contact's e-mail address or
an agency's reference went into the archive altered ("kari_nordmann@example.no" as "Kari
nordmann@example.no", "NAV_2026_1234" as "Nav 2026 1234"), where until then it went as
written: the archive is the record (arkivlova), and the person reads it on request. A code is
a lower-case word joined by underscores; a text of any other shape is printed as it is."""

import pytest
from django.utils import translation

from bpmn import form_values


@pytest.mark.parametrize(
    "written",
    ["kari_nordmann@example.no", "NAV_2026_1234", "Sak_2026/17", "https://example.no/sak_17", "C:\\brev_17.pdf"],
)
def test_a_text_that_is_no_code_is_shown_as_written_and_a_code_in_words(written):
    with translation.override("nb"):
        assert form_values.display_value(written) == written
        # A code without a label still reads as words.
        assert form_values.display_value("midlertidig_botilbud_kommune") == "Midlertidig botilbud kommune"
