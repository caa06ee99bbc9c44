"""Issue 13, point 10: timeline labels and agency names are not cut off at the edges."""

from datetime import UTC, datetime

from web.swimlanes import CHAR_WIDTH, RIGHT_PAD, WIDTH, Bar, Row

LONG_AGENCY = "Sarpsborg kommune rus og psykisk helse"


def test_a_long_agency_name_is_wrapped_on_two_lines_not_cut():
    lines = Row(1, LONG_AGENCY, 0).label_lines
    assert len(lines) == 2 and " ".join(lines) == LONG_AGENCY


def test_a_late_tasks_label_moves_left_to_end_inside_the_chart():
    label = "Oppfølging etter løslatelse: første besøk"
    bar = Bar(1, label, "active", WIDTH - RIGHT_PAD - 10, 40, 10, datetime.now(UTC), None)
    assert bar.text_x + len(label) * CHAR_WIDTH <= WIDTH - RIGHT_PAD
    early = Bar(2, label, "active", 300, 40, 10, datetime.now(UTC), None)
    assert early.text_x == 306
