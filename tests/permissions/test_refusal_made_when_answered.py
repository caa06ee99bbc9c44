"""``rules.decide_value`` and ``decide_category`` answer as before (each ground, then the
refusal naming the category and the agency), but a value's refusal is made once, when it is
the answer, and the clock is read only to hold a break-glass opening against it."""

from types import SimpleNamespace

import pytest
from django.utils import translation

from permissions import rules
from permissions.models import AgencyKind


def _agency(pk: int, kind: str, name: str):
    return SimpleNamespace(pk=pk, kind=kind, name=name)


NAV = _agency(7001, AgencyKind.NAV, "NAV Prøvekommune")
HOUSING = _agency(7002, AgencyKind.HOUSING, "Boligkontoret Prøvekommune")


def _access(*acting):
    return rules.CaseAccess(
        case=SimpleNamespace(pk=5001, coordinator_agency_id=HOUSING.pk), acting=acting, has_memberships=True
    )


def test_each_ground_and_the_refusal_are_answered_as_before():
    nav = _access((NAV, "member"))
    # Its own service's category, an open one, a coordinator's, then a value by its source.
    assert rules.decide_value(nav, "economy", (), field_name="x", source_agency_id=None).basis == "own-service"
    assert rules.decide_value(nav, "identity", (), field_name="x", source_agency_id=None).basis == "participant"
    housing = _access((HOUSING, "member"))
    assert rules.decide_value(housing, "economy", (), field_name="x", source_agency_id=None).basis == "coordinator"
    assert rules.decide_value(nav, "health", (), field_name="x", source_agency_id=NAV.pk).basis == "own-data"
    shared = rules.decide_value(
        nav, "health", (), field_name="release_date", source_agency_id=None, shared_fields={"release_date"}
    )
    assert shared.basis == "shared-field"
    refused = rules.decide_value(nav, "health", (), field_name="x", source_agency_id=HOUSING.pk)
    assert not refused
    assert refused == rules.decide_category(nav, "health", ()) == rules.refusal(nav, "health")
    assert str(refused.reason) == "no consent from the person to share health data with NAV Prøvekommune"
    unknown = rules.decide_value(nav, "no-such-category", (), field_name="x", source_agency_id=None)
    assert str(unknown.reason) == str(rules.refusal(nav, rules.RESTRICTED).reason)
    outside = rules.CaseAccess(
        case=SimpleNamespace(pk=5001, coordinator_agency_id=None), acting=(), has_memberships=False
    )
    assert str(rules.decide_value(outside, "health", (), field_name="x", source_agency_id=None).reason) == (
        "you work in no agency that takes part in this case"
    )


def test_a_refused_value_makes_one_refusal(monkeypatch):
    made = []
    real = rules.refusal
    monkeypatch.setattr(rules, "refusal", lambda *args: made.append(args) or real(*args))
    nav = _access((NAV, "member"))
    assert not rules.decide_value(nav, "health", (), field_name="x", source_agency_id=None)
    assert len(made) == 1
    made.clear()
    assert rules.decide_value(nav, "health", (), field_name="x", source_agency_id=NAV.pk)  # own data: none made
    assert made == []


@pytest.mark.parametrize("emergency", [(), []])
def test_without_an_opening_the_clock_is_not_read(monkeypatch, emergency):
    reads = []
    monkeypatch.setattr(rules.timezone, "now", lambda: reads.append(1))
    nav = _access((NAV, "member"))
    assert not rules.decide_break_glass(nav, "health", emergency)
    assert not rules.decide_category(nav, "health", (), emergency)
    assert reads == []


def test_the_no_consent_reason_is_told_in_the_language_it_is_shown_in():
    nav = _access((NAV, "member"))
    reason = rules.refusal(nav, "health").reason  # made once, shown in two languages
    for _round in range(2):  # the second time from what the first kept
        with translation.override("nb"):
            assert str(reason) == "personen har ikke samtykket til å dele opplysninger om helse med NAV Prøvekommune"
            assert f"{reason}" == str(rules.refusal(nav, "health").reason)
        with translation.override("en"):
            assert str(reason) == "no consent from the person to share health data with NAV Prøvekommune"
        with translation.override(None):  # translation off: the text as written
            assert str(reason) == "no consent from the person to share health data with NAV Prøvekommune"
    other = rules.refusal(_access((HOUSING, "member")), "economy").reason
    with translation.override("nb"):
        assert (
            str(other)
            == "personen har ikke samtykket til å dele opplysninger om økonomi med Boligkontoret Prøvekommune"
        )


def test_the_no_consent_reason_is_translated_once_per_language(monkeypatch):
    nav = _access((NAV, "member"))
    with translation.override("nb"):
        str(rules.refusal(nav, "justice").reason)
        translated = []
        real = translation._trans.gettext
        monkeypatch.setattr(translation._trans, "gettext", lambda message: translated.append(message) or real(message))
        assert str(rules.refusal(nav, "justice").reason).startswith("personen har ikke samtykket")
    assert translated == []
