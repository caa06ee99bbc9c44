"""Lane names resolve to agency kinds: explicit lane map first, then default aliases."""

import pytest

from bpmn.engine.lanes import AGENCY_KINDS, resolve_lane_kind, validate_lane_map


def test_agency_kinds():
    assert AGENCY_KINDS == ("prison", "nav", "health", "housing", "hospital", "municipality")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("NAV", "nav"),
        ("nav", "nav"),
        ("Boligkontakt", "housing"),
        ("Boligkontaktene", "housing"),
        ("Bolig", "housing"),
        ("Housing", "housing"),
        ("Boligkontor", "housing"),
        ("Helse", "health"),
        ("Health", "health"),
        ("Rus og psykisk helse", "health"),
        ("Kriminalomsorgen", "prison"),
        ("Fengsel", "prison"),
        ("Prison", "prison"),
        ("Friomsorg", "prison"),
        ("Sykehus", "hospital"),
        ("Hospital", "hospital"),
        ("Helseforetak", "hospital"),
        ("Kommune", "municipality"),
        ("Municipality", "municipality"),
        ("Tildelingskontor", "municipality"),
    ],
)
def test_default_aliases(name, kind):
    assert resolve_lane_kind(name) == kind


@pytest.mark.parametrize("name", ["  nav  ", "BOLIGKONTAKT", "rus  og\npsykisk   HELSE", "\tSykehus"])
def test_aliases_ignore_case_and_white_space(name):
    assert resolve_lane_kind(name) is not None


@pytest.mark.parametrize("name", ["Saksbehandler", "", "   ", "NAV Sarpsborg", "Legevakt"])
def test_unknown_names_resolve_to_none(name):
    assert resolve_lane_kind(name) is None


def test_lane_map_wins_over_aliases():
    lane_map = {"NAV": "municipality", "Saksbehandler": "nav"}
    assert resolve_lane_kind("NAV", lane_map) == "municipality"
    assert resolve_lane_kind("Saksbehandler", lane_map) == "nav"
    assert resolve_lane_kind("Helse", lane_map) == "health"  # falls back to the aliases


def test_lane_map_matches_case_and_space_insensitively():
    assert resolve_lane_kind(" oppfølgingsteam ", {"Oppfølgingsteam": "health"}) == "health"
    assert resolve_lane_kind("Legevakt", {"legevakt": " Hospital "}) == "hospital"


def test_lane_map_entry_with_unknown_kind_resolves_to_none():
    assert resolve_lane_kind("NAV", {"NAV": "police"}) is None


def test_validate_lane_map_accepts_known_kinds():
    assert validate_lane_map(None) == []
    assert validate_lane_map({}) == []
    assert validate_lane_map({"Saksbehandler": "nav", "Legevakt": "Hospital"}) == []


def test_validate_lane_map_refuses_unknown_kinds():
    issues = validate_lane_map({"Saksbehandler": "nav", "Politi": "police", "X": None})
    assert [issue.code for issue in issues] == ["unknown-lane-kind", "unknown-lane-kind"]
    assert "'Politi'" in issues[0].message and "'police'" in issues[0].message
    assert "prison, nav, health, housing, hospital, municipality" in issues[0].message


def test_validate_lane_map_refuses_wrong_shapes():
    assert [issue.code for issue in validate_lane_map(["NAV"])] == ["invalid-lane-map"]
    assert [issue.code for issue in validate_lane_map({"": "nav"})] == ["invalid-lane-map"]
