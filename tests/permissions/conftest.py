"""Cases for the permission tests: the prison case (prison, NAV, health, housing) and the
discharge case (hospital, health, NAV, housing), with data in every kind of category."""

import pytest

PERSON = {"name": "Ola Nordmann", "national_id": "17912099997"}
OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
PRISON_KINDS = ("prison", "nav", "health", "housing")
DISCHARGE_KINDS = ("hospital", "health", "nav", "housing")

# tove: NAV's access administrator, who gives roles and sees no case data.
CAST = ("kari", "nils", "nora", "helga", "bjorn", "siri", "ada", "aud", "oscar", "tove")


def _start(actor, process_key, person, agencies, kinds):
    from workflows.services import start_case

    return start_case(
        actor=actor,
        process_key=process_key,
        person=person,
        participants={kind: agency.pk for kind, agency in agencies.items() if kind in kinds},
    )


@pytest.fixture
def prison_case(users, agencies, shipped):
    """The prison-release case with one value of each category, written by its owner.

    Fields (category, writer): housing_situation (housing, prison),
    expected_release_date (justice, prison), consent_nav (coordination, prison),
    rent_arrears_nok (economy, NAV), treatment_plan (health, health service),
    internal_note (not in any form: restricted, health service).
    """
    case = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    prison, nav, health = agencies["prison"].pk, agencies["nav"].pk, agencies["health"].pk
    values = {
        "housing_situation": ("uten_bolig", prison),
        "expected_release_date": ("2027-03-01", prison),
        "consent_nav": (True, prison),
        "rent_arrears_nok": (12000, nav),
        "treatment_plan": ("LAR, oppfølging hver uke", health),
        "internal_note": ("kun for helse", health),
    }
    case.data = {name: value for name, (value, _source) in values.items()}
    case.data_sources = {name: source for name, (_value, source) in values.items()}
    # The intake (a step every case passes) wrote the release date the no-home branch may
    # write over: kept apart as ``Step.merge_case_data`` keeps it (``Case.data_common``).
    case.data_common = {"expected_release_date": ["2027-03-01", prison]}
    case.save(update_fields=["data", "data_sources", "data_common"])
    return case


@pytest.fixture
def discharge_case(users, agencies, shipped):
    return _start(users["siri"], "institution_discharge_to_housing", OTHER_PERSON, agencies, DISCHARGE_KINDS)


@pytest.fixture
def fresh():
    """A fresh user object, as a new request would load it (no per-request caches)."""
    from django.contrib.auth import get_user_model

    def load(user):
        return get_user_model().objects.get(pk=user.pk)

    return load


@pytest.fixture(autouse=True)
def english_reasons():
    """These tests assert the English wording of masking reasons; outside a request Django
    speaks LANGUAGE_CODE, which is bokmål (locale/nb translates the reasons for the UI)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def fast_password_hashing(settings):
    """For tests that set many passwords (the access administrators' requests and grants)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
