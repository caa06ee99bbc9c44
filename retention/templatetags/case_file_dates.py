"""Dates and moments in the archive's case file as the pages print them ("10. januar 2027",
"10. januar 2027 09:00", Oslo's time): the same functions as the pages' ``day`` and ``moment``
(``bpmn.form_values``), which this unit may import and ``web``'s template library it may not."""

from __future__ import annotations

from django import template

from bpmn import form_values

register = template.Library()


@register.filter
def day(value) -> str:
    return form_values.day_text(value)


@register.filter
def moment(value) -> str:
    return form_values.moment_text(value)
