"""How a form's fields and choices read to people: a field by its title, a choice by its
``x-enum-labels`` label, both from the process's JSON schemas. Shared by the pages and the
archive's case file, which must read the same."""

from __future__ import annotations

from typing import Any


def option_label(value) -> str:
    """A code without a label of its own, made readable ("uten_bolig" -> "Uten bolig")."""
    return str(value).replace("_", " ").capitalize()


def field_titles(forms: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Field name -> title across all forms of a definition (for showing case data)."""
    titles: dict[str, str] = {}
    for schema in forms.values():
        for name, prop in (schema.get("properties") or {}).items():
            titles.setdefault(name, (prop or {}).get("title") or option_label(name))
    return titles


def field_choice_labels(forms: dict[str, dict]) -> dict[str, dict[str, str]]:
    """Field name -> {choice: label} from the forms' ``x-enum-labels`` (for showing case data)."""
    labels: dict[str, dict[str, str]] = {}
    for schema in forms.values():
        for name, prop in (schema.get("properties") or {}).items():
            if isinstance((prop or {}).get("x-enum-labels"), dict):
                labels.setdefault(name, prop["x-enum-labels"])
    return labels
