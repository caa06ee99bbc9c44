"""Lane names to agency kinds.

Brobygger routes every user and manual task to an agency by the name of its lane. A lane
name resolves through the lane map given at deploy (lane name -> kind), then through the
default aliases below. Matching ignores case and surrounding or repeated white space.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ValidationIssue

AGENCY_KINDS = ("prison", "nav", "health", "housing", "hospital", "municipality")

DEFAULT_LANE_ALIASES: dict[str, str] = {
    "nav": "nav",
    "boligkontakt": "housing",
    "boligkontaktene": "housing",
    "bolig": "housing",
    "housing": "housing",
    "boligkontor": "housing",
    "helse": "health",
    "health": "health",
    "rus og psykisk helse": "health",
    "kriminalomsorgen": "prison",
    "fengsel": "prison",
    "prison": "prison",
    "friomsorg": "prison",
    "sykehus": "hospital",
    "hospital": "hospital",
    "helseforetak": "hospital",
    "kommune": "municipality",
    "municipality": "municipality",
    "tildelingskontor": "municipality",
}


def normalize_lane_name(name: str) -> str:
    """Case-folded, with white space trimmed and runs of white space collapsed."""
    return " ".join(name.split()).casefold()


def _normalize_kind(kind: object) -> str | None:
    if not isinstance(kind, str):
        return None
    kind = kind.strip().lower()
    return kind if kind in AGENCY_KINDS else None


def resolve_lane_kind(lane_name: str, lane_map: Mapping[str, str] | None = None) -> str | None:
    """The agency kind a lane routes to, or None when the name is not known.

    The explicit lane map wins (exact name first, then case- and space-insensitive),
    then the default aliases. A lane map entry with an unknown kind resolves to None.
    """
    if not isinstance(lane_name, str) or not lane_name.strip():
        return None
    if lane_map:
        if lane_name in lane_map:
            return _normalize_kind(lane_map[lane_name])
        wanted = normalize_lane_name(lane_name)
        for key, kind in lane_map.items():
            if isinstance(key, str) and normalize_lane_name(key) == wanted:
                return _normalize_kind(kind)
    return DEFAULT_LANE_ALIASES.get(normalize_lane_name(lane_name))


def validate_lane_map(lane_map: Mapping[str, str] | None) -> list[ValidationIssue]:
    """Problems in a lane map given at deploy: it must map lane names to known kinds."""
    if lane_map is None:
        return []
    kinds = ", ".join(AGENCY_KINDS)
    if not isinstance(lane_map, Mapping):
        return [
            ValidationIssue(
                "invalid-lane-map",
                f"the lane map must map lane names to agency kinds ({kinds}), not be a {type(lane_map).__name__}",
            )
        ]
    issues = []
    for name, kind in lane_map.items():
        if not isinstance(name, str) or not name.strip():
            issues.append(
                ValidationIssue(
                    "invalid-lane-map",
                    f"the lane map has the entry {name!r}, which is not a lane name",
                )
            )
        elif _normalize_kind(kind) is None:
            issues.append(
                ValidationIssue(
                    "unknown-lane-kind",
                    f"the lane map sends lane {name!r} to {kind!r}, which is not an agency kind; use one of {kinds}",
                    params={"name": str(name), "kind": str(kind), "kinds": kinds},
                )
            )
    return issues
