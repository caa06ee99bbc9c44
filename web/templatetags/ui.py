"""Template filters every page shares: people by name, codes in words, dates in one format.

Dates: ``day`` ("3. desember 2026") and ``moment`` ("3. desember 2026 09:00", local time)
use the language's own ``DATE_FORMAT``/``DATETIME_FORMAT``, so no template spells a format
(``bpmn.form_values``, which the archive's case file reads them with too).
"""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

from bpmn import form_values
from permissions import rules
from permissions.models import AgencyKind

register = template.Library()


@register.filter
def category_label(category: str) -> str:
    """A data category as people read it (``health`` -> "helse")."""
    return str(rules.CATEGORY_LABELS.get(category, category))


@register.filter
def category_labels(categories) -> str:
    """Data categories in words, comma-separated (``["housing", "health"]`` -> "bolig, helse")."""
    return ", ".join(category_label(category) for category in categories or ())


@register.filter
def agency_kind_label(kind: str) -> str:
    """An agency kind in words (``nav`` -> "NAV")."""
    return str(AgencyKind(kind).label) if kind in AgencyKind.values else kind


@register.filter
def basis_label(basis: str) -> str:
    """Why an access was allowed, in words (``own-service`` -> "egen tjeneste")."""
    return str(rules.basis_label(basis))


@register.filter
def receiver_label(username: str) -> str:
    """Who an access-log row with no user names (``archive-folder`` -> "arkivets mappe")."""
    return str(rules.receiver_label(username))


@register.filter
def role_label(role: str) -> str:
    """A membership role in words (``coordinator`` -> "koordinator")."""
    return str(rules.role_label(role))


@register.filter
def may_start_cases(user) -> bool:
    """Whether the menu offers "Start a case" (a case role in an agency)."""
    return bool(rules.case_agency_ids(user))


@register.filter
def uses_today(user) -> bool:
    """Whether the menu offers the housing contact's "today" page."""
    return rules.can_use_today(user)


@register.filter
def audits(user) -> bool:
    """Whether the menu offers the access logs (auditors)."""
    return rules.is_auditor(user)


@register.filter
def person_name(user) -> str:
    """A colleague by name, not by username ("Nils NAV-veileder")."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def day(value) -> str:
    """A date (or the local date of a time) as "3. desember 2026"; "" for no date."""
    return form_values.day_text(value)


@register.filter
def moment(value) -> str:
    """A time, in local time, as "3. desember 2026 09:00"; "" for none."""
    return form_values.moment_text(value)


@register.filter
def time_tag(value, precision: str = "moment"):
    """``<time datetime="...">3. desember 2026 09:00</time>`` (``|time_tag:"day"``: the date only)."""
    if value is None or value == "":
        return ""
    text = day(value) if precision == "day" else moment(value)
    stamp = timezone.localtime(value).isoformat() if isinstance(value, datetime.datetime) else str(value)
    return format_html('<time datetime="{}">{}</time>', stamp, text)
