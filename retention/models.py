"""Retention rules: how long a closed case's data is kept, per process and data category.

A rule with an empty process applies to every process, an empty category to every
category; the most specific rule wins (``retention.rules.rule_for``). Without any rule the
defaults of the settings apply (``RETENTION_CASE_YEARS``, ``RETENTION_ACCESS_LOG_YEARS``,
``RETENTION_CASE_FILE_CATEGORIES``; docs/data-protection.md says why these).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from permissions.models import ALL_CATEGORIES

CATEGORY_CHOICES = [("", _("every category"))] + [(category, category) for category in ALL_CATEGORIES]


class RetentionRule(models.Model):
    process_key = models.CharField(
        _("process"), max_length=200, blank=True, help_text=_("The process key; empty: every process.")
    )
    category = models.CharField(
        _("data category"),
        max_length=20,
        blank=True,
        choices=CATEGORY_CHOICES,
        help_text=_("Empty: every category without a rule of its own."),
    )
    keep_years = models.PositiveSmallIntegerField(
        _("years kept after the case closes"),
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("The case's data is erased when the longest period of its categories has passed."),
    )
    access_log_years = models.PositiveSmallIntegerField(
        _("years the access log is kept after erasure"),
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "The access log outlives the data it describes, so the person can still ask who saw it; "
            "its person is then only a pseudonymous key."
        ),
    )
    in_case_file = models.BooleanField(
        _("part of the archived case file"),
        default=False,
        help_text=_("Fields of this category go into the case file handed to the archive."),
    )
    legal_basis = models.CharField(
        _("legal basis"),
        max_length=300,
        help_text=_("The law or decision that sets this period, e.g. arkivforskriften or the municipality's plan."),
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["process_key", "category"]
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        constraints = [
            models.UniqueConstraint(fields=["process_key", "category"], name="unique_retention_rule"),
            models.CheckConstraint(
                condition=models.Q(category="") | models.Q(category__in=ALL_CATEGORIES),
                name="retention_rule_known_category",
            ),
            models.CheckConstraint(condition=models.Q(keep_years__gte=1), name="retention_keep_at_least_a_year"),
            models.CheckConstraint(
                condition=models.Q(access_log_years__gte=1), name="retention_access_log_outlives_data"
            ),
        ]

    def __str__(self):
        return f"{self.process_key or '*'} / {self.category or '*'}: {self.keep_years}"
