"""What came of a case: the outcome kinds an admin keeps, and the one outcome of a case.

A shipped process ends in an outcome task of the housing lane; its form marks the outcome
fields with ``"x-outcome"`` roles (see ``workflows.case_outcomes``), and completing it
writes the ``CaseOutcome``; the case's completion stamps its closing date. The reports of
issue 16 count from these columns, never from ``Case.data``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Tenure(models.TextChoices):
    """The form of tenure of the home a person ends up in (the municipality's annual figures)."""

    MUNICIPAL_RENTAL = "kommunal_utleiebolig", _("Municipal rental home")
    PRIVATE_RENTAL = "privat_leie", _("Private rental")
    OWNED_WITH_STARTLAN = "eid_med_startlan", _("Owned with start loan (startlån)")
    SUPPORTED_HOUSING = "omsorgsbolig", _("Supported housing")
    OTHER = "annet", _("Other")


class OutcomeKind(models.Model):
    """A kind of outcome (housed, home kept, not housed, ...). Seeded with the standard
    kinds; an admin adds more or retires one (``active``) but never deletes a kind, so
    every recorded outcome keeps its meaning."""

    code = models.SlugField(
        _("code"),
        max_length=50,
        unique=True,
        help_text=_("Stored with each outcome and used in forms and the API; never change it."),
    )
    label = models.CharField(_("label"), max_length=200, help_text=_("What caseworkers read, in bokmål."))
    description = models.TextField(_("description"), blank=True)
    has_home = models.BooleanField(
        _("the person has a home"),
        default=False,
        help_text=_("The person lives in a home of their own when the case closes (counted as housed or kept)."),
    )
    needs_tenure = models.BooleanField(
        _("needs the form of tenure"),
        default=False,
        help_text=_("The outcome form must give the form of tenure and the date the person moved in."),
    )
    needs_reason = models.BooleanField(
        _("needs a reason"),
        default=False,
        help_text=_("The outcome form must say why (e.g. not housed)."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=100, help_text=_("Order in the list."))
    active = models.BooleanField(_("active"), default=True, help_text=_("Offered in outcome forms."))

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("outcome kind")
        verbose_name_plural = _("outcome kinds")

    def __str__(self):
        return self.label


class CaseOutcome(models.Model):
    """The structured outcome of one case: exactly one per case, written when the outcome
    task is completed; ``closed_date`` is set when the case completes."""

    case = models.OneToOneField("workflows.Case", on_delete=models.CASCADE, related_name="outcome")
    kind = models.ForeignKey(OutcomeKind, on_delete=models.PROTECT, related_name="outcomes")
    tenure = models.CharField(max_length=30, choices=Tenure.choices, blank=True)
    reason = models.TextField(blank=True)
    referral_date = models.DateField(help_text="When the person was referred (the case's opening date if not given)")
    housed_date = models.DateField(null=True, blank=True, help_text="When the person moved in")
    closed_date = models.DateField(null=True, blank=True, help_text="When the case completed")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by_agency = models.ForeignKey(
        "permissions.Agency", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    element_id = models.CharField(max_length=200, blank=True, help_text="The task whose form recorded it")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "closed_date"], name="outcome_kind_closed")]

    def __str__(self):
        return f"{self.case_id}: {self.kind}"
