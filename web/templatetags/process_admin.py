"""``{% processes_nav_item %}``: the menu entry to the process pages, for process admins only;
``{% caseload_nav_item %}``: the one to the caseload, for the leads of housing agencies."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from permissions import rules

register = template.Library()


@register.simple_tag(takes_context=True)
def processes_nav_item(context):
    request = context.get("request")
    if request is None or not rules.is_process_admin(request.user):
        return ""
    match = request.resolver_match
    current = mark_safe(' aria-current="page"') if match and (match.url_name or "").startswith("process") else ""
    return format_html('<li><a href="{}"{}>{}</a></li>', reverse("processes"), current, _("Processes"))


@register.simple_tag(takes_context=True)
def review_nav_item(context):
    """The auditors' review list of emergency accesses (web.break_glass)."""
    request = context.get("request")
    if request is None or not rules.is_auditor(request.user):
        return ""
    match = request.resolver_match
    current = mark_safe(' aria-current="page"') if match and match.url_name == "break-glass-review" else ""
    return format_html('<li><a href="{}"{}>{}</a></li>', reverse("break-glass-review"), current, _("Emergency access"))


@register.simple_tag(takes_context=True)
def caseload_nav_item(context):
    request = context.get("request")
    if request is None or not rules.can_view_caseload(request.user):
        return ""
    match = request.resolver_match
    current = mark_safe(' aria-current="page"') if match and match.url_name == "caseload" else ""
    return format_html('<li><a href="{}"{}>{}</a></li>', reverse("caseload"), current, _("Caseload"))


@register.simple_tag(takes_context=True)
def insight_nav_item(context):
    """The menu entry to the figures, for leaders only."""
    request = context.get("request")
    if request is None or not rules.can_view_insight(request.user):
        return ""
    match = request.resolver_match
    current = mark_safe(' aria-current="page"') if match and (match.url_name or "").startswith("insight") else ""
    return format_html('<li><a href="{}"{}>{}</a></li>', reverse("insight"), current, _("Insight"))
