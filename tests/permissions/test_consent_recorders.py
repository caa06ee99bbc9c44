"""Who records a sharing, on which provision, of what (domain.md, issue 11 point 1): the
person consents and the coordinator or the agency that holds the data records it; a receiving
agency never records one for itself; a provision of law is invoked by the data's holder only;
only categories the recipient needs to know in the process; an expired consent masks again by
the clock alone."""

import datetime

import pytest
from django.utils import timezone

from core.errors import Forbidden, InvalidInput
from permissions import rules
from permissions.models import Consent, LegalBasis
from permissions.policy import case_data_for
from workflows.models import Event, EventKind
from workflows.selectors import case_field_rules as fields_of
from workflows.services import record_consent, start_case


def _basis(law="forvaltningsloven", paragraph="§ 13 a nr. 1"):
    return LegalBasis.objects.get(law=law, paragraph=paragraph)


def _record(actor, case, **kwargs):
    kwargs.setdefault("purpose", "Oppfølging etter løslatelse")
    kwargs.setdefault("legal_basis", _basis())
    return record_consent(actor=actor, case=case, **kwargs)


def _codes(excinfo):
    return {(error["field"], error["code"]) for error in excinfo.value.errors}


def _nothing_recorded():
    return not Consent.objects.exists() and not Event.objects.filter(kind=EventKind.CONSENT_GIVEN).exists()


@pytest.mark.parametrize("recipient", [{"agency": "nav"}, {"agency_kind": "nav"}], ids=["the agency", "its kind"])
def test_nav_cannot_record_a_consent_for_itself(recipient, users, agencies, prison_case):
    recipient = {key: agencies[value] if key == "agency" else value for key, value in recipient.items()}
    for username in ("nils", "nora"):
        with pytest.raises(Forbidden) as refused:
            _record(users[username], prison_case, categories=["health", "housing", "justice"], **recipient)
        assert refused.value.code == "consent.recipient_records"
    assert _nothing_recorded()
    assert not case_data_for(users["nils"], prison_case, fields_of(prison_case))["health"].visible


def test_the_coordinator_records_the_persons_consent_but_not_for_its_own_agency(users, agencies, prison_case):
    bjorn = users["bjorn"]
    consent = _record(bjorn, prison_case, agency=agencies["nav"], categories=["health", "housing", "justice"])
    assert consent.recorded_by == bjorn
    event = Event.objects.get(kind=EventKind.CONSENT_GIVEN)
    assert event.agency == agencies["housing"] and event.to_agency == agencies["nav"]
    with pytest.raises(Forbidden) as refused:
        _record(bjorn, prison_case, agency=agencies["housing"], categories=["health"])
    assert refused.value.code == "consent.recipient_records"
    assert not rules.can_see_category(bjorn, prison_case, "health", fields_of(prison_case))


def test_the_agency_that_holds_the_data_records_only_its_own_categories(users, agencies, prison_case):
    helga, kari = users["helga"], users["kari"]
    assert _record(helga, prison_case, agency=agencies["nav"], categories=["health"])
    with pytest.raises(Forbidden) as refused:
        _record(helga, prison_case, agency=agencies["nav"], categories=["health", "justice"])
    assert refused.value.code == "consent.not_holder"
    with pytest.raises(Forbidden):
        _record(kari, prison_case, agency=agencies["nav"], categories=["health"])
    assert Consent.objects.count() == 1


def test_a_provision_of_law_is_invoked_by_the_holder_only(users, agencies, prison_case):
    law = _basis("straffegjennomføringsloven", "§ 4")
    with pytest.raises(Forbidden) as refused:  # the coordinator does not hold justice data
        _record(users["bjorn"], prison_case, agency=agencies["nav"], categories=["justice"], legal_basis=law)
    assert refused.value.code == "consent.not_holder"
    assert _record(users["kari"], prison_case, agency=agencies["nav"], categories=["justice"], legal_basis=law)


def test_the_provision_must_cover_the_recipients_kind_and_each_category(users, agencies, prison_case):
    kari = users["kari"]
    cases = [
        # § 45 shares health data between health personnel: not with NAV.
        (
            dict(agency=agencies["nav"], categories=["health"], legal_basis=_basis("helsepersonelloven", "§ 45")),
            {("legal_basis", "consent.basis_not_for_kind")},
        ),
        # helsepersonelloven § 22 is the patient's consent for health data, not housing.
        (
            dict(agency=agencies["nav"], categories=["housing"], legal_basis=_basis("helsepersonelloven", "§ 22")),
            {("categories.0", "consent.basis_not_for_category")},
        ),
    ]
    for kwargs, expected in cases:
        with pytest.raises(InvalidInput) as refused:
            _record(users["bjorn"], prison_case, **kwargs)
        assert _codes(refused) == expected
    retired = _basis("straffegjennomføringsloven", "§ 4")
    retired.active = False
    retired.save()
    with pytest.raises(InvalidInput) as refused:
        _record(kari, prison_case, agency=agencies["nav"], categories=["justice"], legal_basis=retired)
    assert _codes(refused) == {("legal_basis", "consent.unknown_legal_basis")}
    assert _nothing_recorded()


def test_categories_outside_the_recipients_need_to_know_are_refused(users, agencies, shipped):
    """The referral process carries coordination, economy and housing, and routes no task to
    the prison: health is nobody's to receive in it, the prison (taking part beside the lanes)
    receives nothing, and coordination needs no consent."""
    case = start_case(
        actor=users["bjorn"],
        process_key="housing_referral",
        person={"name": "Per Hansen", "national_id": "29822099635"},
        participants={kind: agencies[kind].pk for kind in ("housing", "nav", "municipality", "prison")},
    )
    fields = fields_of(case)
    assert rules.need_to_know("municipality", fields) == {"economy", "housing"}
    assert rules.need_to_know("prison", fields) == frozenset()
    bjorn = users["bjorn"]
    cases = [
        (dict(agency=agencies["nav"], categories=["health"]), {("categories.0", "consent.category_not_needed")}),
        (dict(agency=agencies["prison"], categories=["housing"]), {("categories.0", "consent.category_not_needed")}),
        (dict(agency=agencies["nav"], categories=["coordination"]), {("categories.0", "consent.category_open")}),
    ]
    for kwargs, expected in cases:
        with pytest.raises(InvalidInput) as refused:
            _record(bjorn, case, **kwargs)
        assert _codes(refused) == expected
    assert _nothing_recorded()
    assert _record(bjorn, case, agency=agencies["municipality"], categories=["housing", "economy"])


def test_an_agency_that_holds_nothing_records_nothing(users, agencies, shipped):
    case = start_case(
        actor=users["bjorn"],
        process_key="housing_referral",
        person={"name": "Per Hansen", "national_id": "29822099635"},
        participants={kind: agencies[kind].pk for kind in ("housing", "nav", "municipality")},
    )
    assert not rules.can_record_consent(users["mona"], case)
    with pytest.raises(Forbidden) as refused:
        _record(users["mona"], case, agency=agencies["nav"], categories=["housing"])
    assert refused.value.code == "consent.record_forbidden"


def test_an_expired_consent_masks_again_by_the_clock_alone(users, agencies, prison_case, monkeypatch):
    nils, fields = users["nils"], fields_of(prison_case)
    expires = timezone.now() + datetime.timedelta(days=30)
    _record(users["bjorn"], prison_case, agency=agencies["nav"], categories=["health"], expires_at=expires)
    assert case_data_for(nils, prison_case, fields)["health"].visible

    later = expires + datetime.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # no job runs: only time passes
    assert not rules.can_see_category(nils, prison_case, "health", fields)
    assert not case_data_for(nils, prison_case, fields)["health"].visible
    assert Consent.objects.get().revoked_at is None
