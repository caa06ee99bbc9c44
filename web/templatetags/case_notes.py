"""Template filters for the notes section (``cases/_notes.html``)."""

from django import template

from permissions import rules

register = template.Library()


@register.filter
def category_label(category: str) -> str:
    """A data category as people read it (``health`` -> "helse")."""
    return str(rules.CATEGORY_LABELS.get(category, category))


@register.filter
def person_name(user) -> str:
    """A colleague by name, not by username ("Nils NAV-veileder")."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
