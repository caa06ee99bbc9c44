"""``{% processes_nav_item %}``: the menu entry to the process pages, for process admins only
(``{% legal_bases_nav_item %}`` to their list of legal bases, ``{% retention_rules_nav_item %}``
to their retention rules);
``{% caseload_nav_item %}``: the one to the caseload, for the leads of housing agencies."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from permissions import rules

register = template.Library()


def _nav_item(context, allowed, url_name: str, label: str, *, section: str = "") -> str:
    """A menu entry for those ``allowed(user)`` lets in; ``aria-current`` on its page, or on
    every page of its ``section`` (the url names that start with it)."""
    request = context.get("request")
    if request is None or not allowed(request.user):
        return ""
    name = (request.resolver_match.url_name or "") if request.resolver_match else ""
    here = name.startswith(section) if section else name == url_name
    current = mark_safe(' aria-current="page"') if here else ""
    return format_html('<li><a href="{}"{}>{}</a></li>', reverse(url_name), current, label)


@register.simple_tag(takes_context=True)
def processes_nav_item(context):
    return _nav_item(context, rules.is_process_admin, "processes", _("Processes"), section="process")


@register.simple_tag(takes_context=True)
def legal_bases_nav_item(context):
    """The list of legal bases a consent can rest on (web.legal_bases), for process admins."""
    return _nav_item(context, rules.can_manage_legal_bases, "legal-bases", _("Legal bases"), section="legal-bas")


@register.simple_tag(takes_context=True)
def retention_rules_nav_item(context):
    """How long data is kept, per process and category (web.retention_rules), for process admins."""
    return _nav_item(
        context, rules.can_manage_retention_rules, "retention-rules", _("Retention"), section="retention-rule"
    )


@register.simple_tag(takes_context=True)
def review_nav_item(context):
    """The auditors' review list of emergency accesses (web.break_glass)."""
    return _nav_item(context, rules.is_auditor, "break-glass-review", _("Emergency access"))


@register.simple_tag(takes_context=True)
def retention_nav_item(context):
    """The auditors' trail of erasures, exports and corrections (web.retention)."""
    return _nav_item(context, rules.is_auditor, "retention-audit", _("Erasure and correction"))


@register.simple_tag(takes_context=True)
def caseload_nav_item(context):
    return _nav_item(context, rules.can_view_caseload, "caseload", _("Caseload"))


@register.simple_tag(takes_context=True)
def insight_nav_item(context):
    """The menu entry to the figures, for leaders only."""
    return _nav_item(context, rules.can_view_insight, "insight", _("Insight"), section="insight")
