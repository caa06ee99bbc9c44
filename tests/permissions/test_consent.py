"""Consent: NAV sees housing and health only with the person's consent; revocation and
expiry take effect at once; the consent use cases validate and write events."""

import datetime

import pytest
from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound
from permissions import rules
from permissions.models import AccessLog, Consent, LegalBasis
from permissions.policy import case_data_for
from workflows.models import Event, EventKind
from workflows.selectors import access_log_for_case, consents_for_case
from workflows.selectors import case_field_rules as fields_of
from workflows.services import record_consent, revoke_consent


def _basis(law="forvaltningsloven", paragraph="§ 13 a nr. 1"):
    return LegalBasis.objects.get(law=law, paragraph=paragraph)


def _consent(actor, case, **kwargs):
    kwargs.setdefault("purpose", "Boligsøknad og oppfølging etter løslatelse")
    kwargs.setdefault("legal_basis", _basis())
    return record_consent(actor=actor, case=case, **kwargs)


def test_nav_sees_housing_and_health_only_with_consent(users, agencies, prison_case):
    nils, bjorn = users["nils"], users["bjorn"]
    nav = agencies["nav"]

    views = case_data_for(nils, prison_case, fields_of(prison_case))
    assert not views["housing"].visible and views["housing"].values == {}
    assert not views["health"].visible
    assert views["health"].reason == "no consent from the person to share health data with NAV Sarpsborg"
    assert not AccessLog.objects.filter(user=nils, category__in=["housing", "health"]).exists()

    # Consent for housing to NAV (by kind): housing shows, health never does.
    housing_consent = _consent(bjorn, prison_case, agency_kind="nav", categories=["housing"])
    views = case_data_for(nils, prison_case, fields_of(prison_case))
    assert views["housing"].visible
    assert views["housing"].values == {"housing_situation": "uten_bolig"}
    assert views["housing"].basis == f"consent:{housing_consent.pk}"
    assert not views["health"].visible
    row = AccessLog.objects.get(user=nils, category="housing")
    assert row.consent_id == housing_consent.pk and row.basis == f"consent:{housing_consent.pk}"
    assert row.agency == nav and row.role == "member" and row.username == "nils"
    assert row.person_id == prison_case.person_id and row.action == "read"

    # Consent for health to NAV Sarpsborg (the agency itself): now health shows.
    health_consent = _consent(bjorn, prison_case, agency=nav, categories=["health"])
    decision = rules.can_see_category(nils, prison_case, "health", fields_of(prison_case))
    assert decision.allowed and decision.basis == f"consent:{health_consent.pk}"
    views = case_data_for(nils, prison_case, fields_of(prison_case))
    assert views["health"].values == {"treatment_plan": "LAR, oppfølging hver uke"}
    row = AccessLog.objects.get(user=nils, category="health")
    assert row.basis == f"consent:{health_consent.pk}" and row.consent == health_consent
    assert Event.objects.filter(
        case=prison_case, kind=EventKind.CONSENT_GIVEN, detail__consent=health_consent.pk
    ).exists()

    # Revoked (by anyone who works the case: withdrawal must be easy): masked again at once,
    # for the very same user object.
    revoke_consent(actor=nils, consent_id=health_consent.pk)
    assert not rules.can_see_category(nils, prison_case, "health", fields_of(prison_case))
    views = case_data_for(nils, prison_case, fields_of(prison_case))
    assert not views["health"].visible and views["health"].values == {}
    assert views["housing"].visible  # the other consent still stands
    assert AccessLog.objects.filter(user=nils, category="health").count() == 1
    assert Event.objects.filter(
        case=prison_case, kind=EventKind.CONSENT_REVOKED, detail__consent=health_consent.pk, actor=nils
    ).exists()
    health_consent.refresh_from_db()
    assert health_consent.revoked_by == nils and not health_consent.is_active()

    with pytest.raises(Conflict):
        revoke_consent(actor=bjorn, consent_id=health_consent.pk)


def test_consent_for_nav_does_not_reach_other_agencies(users, agencies, prison_case):
    _consent(users["bjorn"], prison_case, agency=agencies["nav"], categories=["health"])
    assert rules.can_see_category(users["nora"], prison_case, "health", fields_of(prison_case))  # same agency
    assert not rules.can_see_category(users["kari"], prison_case, "health", fields_of(prison_case))
    assert not rules.can_see_category(users["bjorn"], prison_case, "health", fields_of(prison_case))


def test_consent_is_bound_to_its_case(users, agencies, prison_case, shipped):
    """Recorded in one case (for its purpose), it does not open the person's other cases."""
    from workflows.services import start_case

    other = start_case(
        actor=users["kari"],
        process_key="prison_release_to_housing",
        person={"name": "Ola Nordmann", "national_id": "17912099997"},
        participants={kind: agencies[kind].pk for kind in ("prison", "nav", "health", "housing")},
    )
    assert other.person_id == prison_case.person_id
    _consent(users["bjorn"], prison_case, agency=agencies["nav"], categories=["health"])
    assert rules.can_see_category(users["nils"], prison_case, "health", fields_of(prison_case))
    assert not rules.can_see_category(users["nils"], other, "health", fields_of(other))


def test_expired_and_future_consents_do_not_count(users, agencies, prison_case, consent_basis):
    now = timezone.now()
    nav = agencies["nav"]
    expired = Consent.objects.create(
        person=prison_case.person,
        case=prison_case,
        agency=nav,
        categories=["health"],
        purpose="x",
        legal_basis=consent_basis,
        given_at=now - datetime.timedelta(days=30),
        expires_at=now - datetime.timedelta(days=1),
        recorded_by=users["bjorn"],
    )
    future = Consent.objects.create(
        person=prison_case.person,
        case=prison_case,
        agency=nav,
        categories=["health"],
        purpose="x",
        legal_basis=consent_basis,
        given_at=now + datetime.timedelta(days=1),
        recorded_by=users["bjorn"],
    )
    assert not expired.is_active() and not future.is_active()
    assert expired.is_active(now - datetime.timedelta(days=2))
    assert not Consent.objects.active().exists()
    assert list(Consent.objects.active(now - datetime.timedelta(days=2))) == [expired]
    assert not rules.can_see_category(users["nils"], prison_case, "health", fields_of(prison_case))
    assert not case_data_for(users["nils"], prison_case, fields_of(prison_case))["health"].visible


def test_consent_that_expires_later_counts_until_then(users, agencies, prison_case):
    consent = _consent(
        users["bjorn"],
        prison_case,
        agency=agencies["nav"],
        categories=["health"],
        expires_at=timezone.now() + datetime.timedelta(days=90),
    )
    assert consent.is_active()
    assert rules.can_see_category(users["nils"], prison_case, "health", fields_of(prison_case))
    assert not consent.is_active(consent.expires_at)


def test_legal_basis(users, agencies, prison_case):
    consent = _consent(
        users["kari"],
        prison_case,
        agency_kind="nav",
        categories=["justice"],
        legal_basis=_basis("straffegjennomføringsloven", "§ 4"),
        purpose="Melding til NAV ved innsettelse",
    )
    views = case_data_for(users["nils"], prison_case, fields_of(prison_case))
    assert views["justice"].visible
    assert views["justice"].basis == f"legal:straffegjennomføringsloven § 4 (#{consent.pk})"
    event = Event.objects.get(kind=EventKind.CONSENT_GIVEN)
    assert event.agency == agencies["prison"] and event.detail["legal_basis"] == consent.legal_basis_id
    assert AccessLog.objects.get(user=users["nils"], category="justice").consent == consent


def test_db_constraint_agency_xor_kind(users, agencies, prison_case, consent_basis):
    from django.db import IntegrityError, transaction

    for agency, kind in ((agencies["nav"], "nav"), (None, "")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Consent.objects.create(
                person=prison_case.person,
                case=prison_case,
                agency=agency,
                agency_kind=kind,
                categories=["health"],
                purpose="x",
                legal_basis=consent_basis,
            )


def test_record_consent_validation(users, agencies, prison_case):
    bjorn = users["bjorn"]
    past = timezone.now() - datetime.timedelta(days=1)
    cases = [
        (dict(agency_kind="nav", categories=["health", "gossip"]), "categories.1"),
        (dict(agency_kind="nav", categories=[]), "categories"),
        (dict(agency_kind="nav", categories="health"), "categories"),
        (dict(agency=agencies["hospital"], categories=["health"]), "agency"),
        (dict(agency=agencies["nav"], agency_kind="nav", categories=["health"]), "agency"),
        (dict(categories=["health"]), "agency"),
        (dict(agency_kind="hospital", categories=["health"]), "agency_kind"),
        (dict(agency_kind="police", categories=["health"]), "agency_kind"),
        (dict(agency_kind="nav", categories=["health"], purpose="  "), "purpose"),
        (dict(agency_kind="nav", categories=["health"], expires_at=past), "expires_at"),
        (
            dict(agency_kind="nav", categories=["health"], expires_at=datetime.datetime(2099, 1, 1)),
            "expires_at",
        ),  # naive
        (dict(agency_kind="nav", categories=["health"], legal_basis=None), "legal_basis"),
        (dict(agency_kind="nav", categories=["health"], legal_basis=""), "legal_basis"),
        (dict(agency_kind="nav", categories=["health"], legal_basis=999999), "legal_basis"),
        (dict(agency_kind="nav", categories=["health"], legal_basis="samtykke"), "legal_basis"),
    ]
    for kwargs, field in cases:
        kwargs.setdefault("purpose", "Oppfølging")
        kwargs.setdefault("legal_basis", _basis())
        with pytest.raises(InvalidInput) as caught:
            record_consent(actor=bjorn, case=prison_case, **kwargs)
        assert field in [error["field"] for error in caught.value.errors], (kwargs, caught.value.errors)
    assert not Consent.objects.exists()
    assert not Event.objects.filter(kind=EventKind.CONSENT_GIVEN).exists()


@pytest.mark.parametrize("username", ["siri", "ada", "aud", "oscar"])
def test_outsiders_cannot_record_or_revoke(username, users, agencies, prison_case):
    with pytest.raises(NotFound):
        _consent(users[username], prison_case, agency_kind="nav", categories=["health"])
    consent = _consent(users["bjorn"], prison_case, agency_kind="nav", categories=["health"])
    with pytest.raises(NotFound):
        revoke_consent(actor=users[username], consent_id=consent.pk)
    with pytest.raises(NotFound):
        consents_for_case(actor=users[username], case=prison_case.pk)
    assert consent.is_active()


def test_the_agency_that_holds_the_data_records_consent_by_case_id(users, prison_case):
    consent = _consent(
        users["helga"], prison_case.pk, agency_kind="housing", categories=["health"], note="Gitt muntlig i møte"
    )
    assert consent.recorded_by == users["helga"] and consent.person_id == prison_case.person_id
    assert list(consents_for_case(actor=users["nils"], case=prison_case)) == [consent]
    with pytest.raises(NotFound):
        _consent(users["helga"], 999999, agency_kind="housing", categories=["health"])
    with pytest.raises(NotFound):
        revoke_consent(actor=users["helga"], consent_id="nope")


def test_access_log_for_case(users, prison_case):
    from core.errors import Forbidden

    case_data_for(users["kari"], prison_case, fields_of(prison_case))
    assert access_log_for_case(actor=users["bjorn"], case=prison_case).count() == 3
    assert access_log_for_case(actor=users["aud"], case=prison_case.pk).count() == 3
    with pytest.raises(Forbidden):
        access_log_for_case(actor=users["nils"], case=prison_case)
    for username in ("siri", "ada", "oscar"):
        with pytest.raises(NotFound):
            access_log_for_case(actor=users[username], case=prison_case)
