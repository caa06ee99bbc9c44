"""Break-glass (domain.md, issue 11 point 8): a participant opens a masked category to avert
danger to life or health, only with a written reason, for BREAK_GLASS_HOURS hours; only that
category, only for them; logged with the reason, on the case for the coordinator, in the
person's access report, and in the auditor's review list until reviewed."""

import datetime

import pytest
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from permissions import rules
from permissions.models import AccessAction, AccessLog, BreakGlass
from permissions.policy import case_data_for
from workflows.selectors import (
    access_groups_shown,
    break_glass_for_case,
    break_glass_to_review,
    person_access_report,
)
from workflows.selectors import case_field_rules as fields_of
from workflows.services import open_break_glass, record_consent, review_break_glass

REASON = "Trusler om selvmord i telefonsamtale; må vite om behandlingsopplegg nå"


def _views(user, case):
    return case_data_for(user, case, fields_of(case))


def test_the_opening_shows_that_category_to_its_user_only_until_it_expires(
    users, agencies, prison_case, settings, monkeypatch
):
    settings.BREAK_GLASS_HOURS = 3
    nils, nora = users["nils"], users["nora"]
    assert not _views(nils, prison_case)["health"].visible

    grant = open_break_glass(actor=nils, case=prison_case.pk, category="health", reason=REASON)
    assert grant.expires_at - grant.opened_at == datetime.timedelta(hours=3)
    assert (grant.user, grant.agency, grant.reason) == (nils, agencies["nav"], REASON)
    opened = AccessLog.objects.get(action=AccessAction.BREAK_GLASS)
    assert (opened.user, opened.category, opened.basis, opened.break_glass) == (
        nils,
        "health",
        f"break-glass:{grant.pk}",
        grant,
    )

    views = _views(nils, prison_case)
    assert views["health"].values == {"treatment_plan": "LAR, oppfølging hver uke"}
    assert views["health"].basis == f"break-glass:{grant.pk}"
    assert not views["housing"].visible  # only that category
    read = AccessLog.objects.get(user=nils, category="health", action=AccessAction.READ)
    assert read.break_glass == grant and read.basis == f"break-glass:{grant.pk}"
    assert rules.can_see_category(nils, prison_case, "health", fields_of(prison_case))
    assert not _views(nora, prison_case)["health"].visible  # personal: not her colleague's
    assert not _views(users["kari"], prison_case)["health"].visible

    later = grant.expires_at + datetime.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # no job: only the clock
    assert not _views(nils, prison_case)["health"].visible
    assert not rules.can_see_category(nils, prison_case, "health", fields_of(prison_case))


def test_a_written_reason_and_a_masked_category_are_required(users, prison_case):
    nils = users["nils"]
    for reason in ("", "   ", "akutt", None):
        with pytest.raises(InvalidInput) as refused:
            open_break_glass(actor=nils, case=prison_case.pk, category="health", reason=reason)
        assert refused.value.errors[0]["field"] == "reason"
    for category in ("economy", "identity", "coordination", "restricted", "gossip"):  # own, open, closed, unknown
        with pytest.raises(InvalidInput) as refused:
            open_break_glass(actor=nils, case=prison_case.pk, category=category, reason=REASON)
        assert [e["field"] for e in refused.value.errors] == ["category"]
    assert not BreakGlass.objects.exists() and not AccessLog.objects.filter(action="break_glass").exists()


@pytest.mark.parametrize("username", ["siri", "ada", "aud", "oscar"])
def test_non_participants_cannot_open_anything(username, users, prison_case):
    with pytest.raises(NotFound):
        open_break_glass(actor=users[username], case=prison_case.pk, category="health", reason=REASON)
    assert not BreakGlass.objects.exists()


def test_a_grant_in_one_case_opens_nothing_in_another(users, agencies, prison_case, shipped):
    from workflows.services import start_case

    other = start_case(
        actor=users["kari"],
        process_key="prison_release_to_housing",
        person={"name": "Per Hansen", "national_id": "29822099635"},
        participants={kind: agencies[kind].pk for kind in ("prison", "nav", "health", "housing")},
    )
    open_break_glass(actor=users["nils"], case=prison_case.pk, category="health", reason=REASON)
    assert not rules.can_see_category(users["nils"], other, "health", fields_of(other))


def test_the_coordinator_sees_it_on_the_case_and_the_person_in_the_report(users, prison_case):
    grant = open_break_glass(actor=users["nils"], case=prison_case.pk, category="health", reason=REASON)
    assert list(break_glass_for_case(actor=users["bjorn"], case=prison_case.pk)) == [grant]
    with pytest.raises(Forbidden):
        break_glass_for_case(actor=users["nils"], case=prison_case.pk)
    with pytest.raises(NotFound):
        break_glass_for_case(actor=users["siri"], case=prison_case.pk)
    _views(users["nils"], prison_case)
    report = person_access_report(actor=users["bjorn"], case=prison_case.pk)
    groups = access_groups_shown(users["bjorn"], report.entries, report.cases)
    rows = [group for group in groups if group.break_glass == grant]
    assert {row.action for row in rows} == {"break_glass", "read"} and rows[0].break_glass.reason == REASON


def test_the_auditor_reviews_each_opening_once(users, agencies, prison_case):
    grant = open_break_glass(actor=users["nils"], case=prison_case.pk, category="health", reason=REASON)
    aud = users["aud"]
    assert list(break_glass_to_review(aud)) == [grant]
    for username in ("bjorn", "nils", "ada", "oscar"):
        if username != "ada" and username != "oscar":
            with pytest.raises(Forbidden):
                break_glass_to_review(users[username])
        with pytest.raises(NotFound):
            review_break_glass(actor=users[username], grant_id=grant.pk)
    with pytest.raises(InvalidInput):
        review_break_glass(actor=aud, grant_id=grant.pk, note="x" * 4001)

    reviewed = review_break_glass(actor=aud, grant_id=grant.pk, note="Forsvarlig: akutt fare, riktig kategori")
    assert reviewed.reviewed_by == aud and reviewed.reviewed_at is not None
    row = AccessLog.objects.get(action=AccessAction.REVIEW)
    assert (row.user, row.break_glass, row.agency, row.role) == (aud, grant, agencies["housing"], "auditor")
    assert not break_glass_to_review(aud).exists()
    with pytest.raises(Conflict):
        review_break_glass(actor=aud, grant_id=grant.pk)


def test_a_consent_or_own_service_needs_no_break_glass(users, agencies, prison_case, consent_basis):
    record_consent(
        actor=users["bjorn"],
        case=prison_case,
        agency=agencies["nav"],
        categories=["health"],
        purpose="Oppfølging",
        legal_basis=consent_basis,
    )
    with pytest.raises(InvalidInput):
        open_break_glass(actor=users["nils"], case=prison_case.pk, category="health", reason=REASON)
    with pytest.raises(InvalidInput):
        open_break_glass(actor=users["helga"], case=prison_case.pk, category="health", reason=REASON)
