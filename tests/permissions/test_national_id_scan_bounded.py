"""Looking for national ids in a case's identity data costs every read of the case a bounded
amount of work, whatever a form's value holds.

Every read (the inbox, an opened task, the case page, the API) masks each national id in the
identity category for whoever may not see it in full (h-attack33). Each string of a value went
through ``validate_national_id``, which raises for a string that is no number: a list of
75,000 eleven-digit strings that are not national ids cost each read of the case 0.75 s, and a
list nested a few hundred deep was a server error (Python's recursion limit). Now the check
raises nothing (``is_national_id``) and the policy looks through at most ``SCAN_LIMIT`` items
of a value, ``SCAN_DEPTH`` deep; a larger value is masked whole: none of it was read, so none
of it is shown to someone who may not see national ids."""

import cProfile
import pstats

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from permissions import policy
from permissions.models import AccessLog, Membership, Role
from tests.permissions.test_national_id_under_any_name import _case, _client, _forms

pytestmark = pytest.mark.django_db

CHILD = "29822099635"  # synthetic (Skatteetaten's test numbers: month + 80)
NOT_IDS = [f"{n:011d}" for n in range(10**10, 10**10 + 30_000)]  # 100000000xx: no month 00
STARS = "*" * 11


@pytest.fixture
def staff(agencies):
    def member(kind, username, role=Role.MEMBER):
        user = get_user_model().objects.create_user(username)
        Membership.objects.create(user=user, agency=agencies[kind], role=role)
        return user

    return {
        "housing": member("housing", "bolig-scan", Role.COORDINATOR),
        "nav": member("nav", "nav-scan"),
        "health": member("health", "helse-scan"),
    }


def _with_value(case, agencies, value):
    case.data = {**case.data, "barnets_fodselsnr": value}
    case.data_sources = {**case.data_sources, "barnets_fodselsnr": agencies["health"].pk}
    case.save()


def _read_calls(client, url) -> int:
    assert client.get(url).status_code == 200  # warm
    profile = cProfile.Profile()
    profile.enable()
    answer = client.get(url)
    profile.disable()
    assert answer.status_code == 200
    return pstats.Stats(profile).total_calls


def test_a_read_of_the_case_costs_no_more_for_a_large_identity_value(agencies, staff):
    """Python calls of one read of the case answer by another agency's participant: a value of
    30,000 eleven-digit strings that are no national ids costs what one of 30 does (within 500
    calls). Before: 30,000 validations, ~30 calls and an exception each (about 900,000 calls)."""
    case, _task = _case(agencies, staff, _forms())
    client, url = _client(staff["nav"]), reverse("api-case", args=[case.pk])

    _with_value(case, agencies, NOT_IDS[:30])
    small = _read_calls(client, url)
    _with_value(case, agencies, NOT_IDS)
    large = _read_calls(client, url)

    assert large - small < 500, (small, large)


def test_a_value_too_large_to_look_through_is_masked_whole(agencies, staff):
    """Up to the scan's limit only the national ids of a value are masked, the rest shown; one
    item more and the whole value is masked for a participant who may not see national ids (a
    national id past the limit is never shown, nor is the rest, unread). The worker of the
    task that needs identity in full sees it as it is, and that read is logged."""
    case, task = _case(agencies, staff, _forms(**{"x-identity": "full"}))
    within = [*NOT_IDS[: policy.SCAN_LIMIT - 1], CHILD]
    _with_value(case, agencies, within)
    nav = _client(staff["nav"])

    answer = nav.get(reverse("api-case", args=[case.pk]))
    assert answer.json()["data"]["identity"]["values"]["barnets_fodselsnr"] == [*within[:-1], "298220*****"]

    beyond = [*within, NOT_IDS[-1]]
    _with_value(case, agencies, beyond)
    for reader in ("nav", "housing", "health"):
        answer = _client(staff[reader]).get(reverse("api-case", args=[case.pk]))
        assert answer.status_code == 200
        assert answer.json()["data"]["identity"]["values"]["barnets_fodselsnr"] == STARS
        assert CHILD not in answer.content.decode() and NOT_IDS[0] not in answer.content.decode()

    opened = _client(staff["health"]).get(reverse("api-task", args=[task.pk]))
    assert opened.status_code == 200
    assert opened.json()["case_data"]["identity"]["values"]["barnets_fodselsnr"] == beyond
    assert AccessLog.objects.filter(category="identity", basis=f"task:{task.pk}", user=staff["health"]).exists()


def test_a_deeply_nested_value_is_masked_whole_not_a_server_error(agencies, staff):
    case, _task = _case(agencies, staff, _forms())
    deep: list = [CHILD]
    for _ in range(600):
        deep = [deep]
    _with_value(case, agencies, deep)

    answer = _client(staff["nav"]).get(reverse("api-case", args=[case.pk]))

    assert answer.status_code == 200
    assert answer.json()["data"]["identity"]["values"]["barnets_fodselsnr"] == STARS


def test_a_national_id_for_a_key_masks_its_value_whole(agencies, staff):
    """An object keyed by a national id (a form's ``{"<child's number>": "barn"}``) showed the
    key in full to every participant: only an object's values were looked at."""
    case, _task = _case(agencies, staff, _forms())
    _with_value(case, agencies, [{"relation": "barn"}, {CHILD: "barn"}])

    answer = _client(staff["nav"]).get(reverse("api-case", args=[case.pk]))

    assert answer.status_code == 200 and CHILD not in answer.content.decode()
    assert answer.json()["data"]["identity"]["values"]["barnets_fodselsnr"] == STARS


def test_the_numbers_written_in_a_values_texts_count_against_the_same_limit(agencies, staff):
    """A list of texts each holding many eleven-digit numbers: each text was looked through up
    to the limit on its own, so 34 texts of 900 numbers cost 30,000 checks a read. The
    numbers of all its texts count against one limit now: past it the value is masked whole,
    and a read costs what a small value's does."""
    case, _task = _case(agencies, staff, _forms())
    client, url = _client(staff["nav"]), reverse("api-case", args=[case.pk])

    _with_value(case, agencies, [" ".join(NOT_IDS[:9])])
    small = _read_calls(client, url)
    _with_value(case, agencies, [" ".join(NOT_IDS[at : at + 900]) for at in range(0, len(NOT_IDS), 900)])
    large = _read_calls(client, url)

    assert large - small < 500, (small, large)
    assert client.get(url).json()["data"]["identity"]["values"]["barnets_fodselsnr"] == STARS
