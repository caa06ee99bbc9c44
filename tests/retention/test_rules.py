"""Retention rules: the most specific rule wins, the longest period of a case's
categories decides, and the settings' defaults apply where no rule is set."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from retention.models import RetentionRule
from retention.rules import add_years, categories_of, retention_of, rules_for_process
from workflows.models import Case, CaseOutcome

PRISON = "prison_release_to_housing"


def make_rule(process_key="", category="", keep=5, log=5, **extra):
    return RetentionRule.objects.create(
        process_key=process_key, category=category, keep_years=keep, access_log_years=log, legal_basis="test", **extra
    )


@pytest.mark.django_db
def test_defaults_come_from_the_settings(settings):
    rules = rules_for_process(PRISON)
    assert rules["health"].keep_years == settings.BROBYGGER["RETENTION_CASE_YEARS"] == 5
    assert rules["health"].access_log_years == settings.BROBYGGER["RETENTION_ACCESS_LOG_YEARS"] == 5
    assert rules["housing"].in_case_file and not rules["health"].in_case_file
    assert rules["health"].source == "default"


@pytest.mark.django_db
def test_the_most_specific_rule_wins():
    everything = make_rule(keep=3)
    health_anywhere = make_rule(category="health", keep=4)
    this_process = make_rule(process_key=PRISON, keep=6)
    health_here = make_rule(process_key=PRISON, category="health", keep=7)
    make_rule(process_key="another_process", category="health", keep=50)
    prison, other = rules_for_process(PRISON), rules_for_process("eviction_prevention")
    assert prison["health"].rule_id == health_here.pk
    assert prison["economy"].rule_id == this_process.pk
    assert other["health"].rule_id == health_anywhere.pk
    assert other["economy"].rule_id == everything.pk


@pytest.mark.django_db
def test_a_rule_cannot_keep_data_for_less_than_a_year_or_drop_the_access_log_first():
    for keep, log in ((0, 5), (5, 0)):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_rule(keep=keep, log=log)
    with pytest.raises(ValidationError):
        RetentionRule(keep_years=0, access_log_years=1, legal_basis="x").full_clean()


@pytest.mark.django_db
def test_one_rule_per_process_and_category():
    make_rule(process_key=PRISON, category="health")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_rule(process_key=PRISON, category="health", keep=9)


def test_the_longest_period_among_the_case_categories_decides(case):
    assert {"identity", "housing", "health", "justice", "economy"} <= categories_of(case)
    make_rule(category="health", keep=10)
    make_rule(category="safety", keep=40)  # the prison case's forms hold no safety data
    closed = datetime(2026, 3, 1, 12, tzinfo=UTC)
    Case.objects.filter(pk=case.pk).update(closed_at=closed)
    case.refresh_from_db()
    retention = retention_of(case)
    assert categories_of(case) >= {"health"} and "safety" not in categories_of(case)
    assert (retention.category, retention.erase_after) == ("health", datetime(2036, 3, 1, 12, tzinfo=UTC))
    assert retention.access_log_until(retention.erase_after) == datetime(2041, 3, 1, 12, tzinfo=UTC)


def test_the_timeline_and_the_outcome_count_as_what_the_case_holds(case, outcome_kinds):
    """Every case records who took part and when (coordination); an outcome is housing data
    even where no form asks for housing. Their rules decide the case's period as the
    archive's case file carries them (``retention.archive.case_file``)."""
    # A case whose process holds no form: what every case holds, nothing else.
    case = Case.objects.create(
        reference="BK-TEST-1",
        person=case.person,
        person_name="Test",
        process_key=PRISON,
        coordinator_agency=case.coordinator_agency,
    )
    assert categories_of(case) == {"identity", "coordination"}
    make_rule(category="coordination", keep=12)
    closed = datetime(2026, 3, 1, 12, tzinfo=UTC)
    Case.objects.filter(pk=case.pk).update(closed_at=closed)
    case.refresh_from_db()
    assert retention_of(case).category == "coordination"
    CaseOutcome.objects.create(case=case, kind=outcome_kinds["flyttet_fra_kommunen"], referral_date=closed.date())
    assert categories_of(case) == {"identity", "coordination", "housing"}
    make_rule(category="housing", keep=15)
    assert (retention_of(case).category, retention_of(case).erase_after.year) == ("housing", 2041)


def test_the_access_log_is_kept_for_the_longest_period_of_the_case_s_categories(case):
    """Health kept 5 years like the rest, its access log 20 after the erasure: the case's log
    is kept 20, though coordination (every case holds it, first by name) also keeps 5."""
    make_rule(category="health", keep=5, log=20)
    make_rule(category="justice", keep=8, log=2)  # its data period decides the erasure
    closed = datetime(2026, 3, 1, 12, tzinfo=UTC)
    Case.objects.filter(pk=case.pk).update(closed_at=closed)
    case.refresh_from_db()
    retention = retention_of(case)
    assert (retention.category, retention.erase_after) == ("justice", datetime(2034, 3, 1, 12, tzinfo=UTC))
    assert retention.access_log_until(retention.erase_after) == datetime(2054, 3, 1, 12, tzinfo=UTC)
    RetentionRule.objects.filter(category="justice").delete()
    retention = retention_of(case)
    assert retention.category == "health"  # of the categories kept 5 years, the longest log
    assert retention.access_log_until(retention.erase_after) == datetime(2051, 3, 1, 12, tzinfo=UTC)


def test_an_open_case_has_no_erasure_date(case):
    assert retention_of(case).erase_after is None


def test_add_years_on_29_february():
    assert add_years(datetime(2028, 2, 29, tzinfo=UTC), 5) == datetime(2033, 2, 28, tzinfo=UTC)
