"""Issue 13, point 1: the inbox and the case list show the person's name, and cases are
found by name, reference or date of birth (page and API), only among the cases the user
sees, and never by the whole national id."""

import pytest

from core.national_id import birth_date_prefixes
from tests.workflows.helpers import start_prison_case

pytestmark = pytest.mark.django_db


KARI = {"name": "Kari Hansen", "national_id": "01010110013"}


def test_birth_date_prefixes_read_the_ways_people_write_a_date():
    assert birth_date_prefixes("17.09.1980") == ("170980", "570980")
    assert birth_date_prefixes("170980") == ("170980", "570980")
    assert birth_date_prefixes("1980-09-17") == ("170980", "570980")
    assert birth_date_prefixes("17.09.80") == ("170980", "570980")
    assert birth_date_prefixes("Ola") == ()
    assert birth_date_prefixes("31.02.1980") == ()
    assert birth_date_prefixes("17912099997") == ()  # a whole number is no date


@pytest.fixture
def two_cases(users, agencies, shipped):
    return start_prison_case(users, agencies), start_prison_case(users, agencies, person=KARI)


def test_the_case_list_and_the_inbox_show_the_persons_name(web, two_cases):
    ola_case, _ = two_cases
    client = web("kari")
    listing = client.get("/cases/").content.decode()
    inbox = client.get("/tasks/").content.decode()
    assert f'<a href="/cases/{ola_case.pk}/" class="person">Ola Nordmann</a>' in listing
    assert "Kari Hansen" in listing
    assert f'<a href="/cases/{ola_case.pk}/" class="person">Ola Nordmann</a>' in inbox
    assert "Løslatelse fra fengsel" in listing or "prison_release_to_housing" not in listing


@pytest.mark.parametrize("query", ["hansen", "KARI H", "01.01.1901", "010101"])
def test_the_case_list_finds_a_case_by_name_or_date_of_birth(web, two_cases, query):
    ola_case, kari_case = two_cases
    page = web("bjorn").get("/cases/", {"q": query}).content.decode()
    assert f'href="/cases/{kari_case.pk}/"' in page and f'href="/cases/{ola_case.pk}/"' not in page
    assert f'value="{query}"' in page  # the search box keeps what was typed


def test_the_case_list_finds_a_case_by_reference(web, two_cases):
    ola_case, kari_case = two_cases
    page = web("bjorn").get("/cases/", {"q": ola_case.reference.lower()}).content.decode()
    assert f'href="/cases/{ola_case.pk}/"' in page and f'href="/cases/{kari_case.pk}/"' not in page


def test_a_whole_national_id_finds_nothing(web, two_cases):
    """Participants see the number masked: a search must not confirm the hidden digits."""
    page = web("bjorn").get("/cases/", {"q": KARI["national_id"]}).content.decode()
    assert "Kari Hansen" not in page and 'class="empty"' in page


def test_the_api_searches_too_and_only_among_visible_cases(users, two_cases):
    from rest_framework.test import APIClient

    def client_for(username):
        client = APIClient()
        client.force_authenticate(users[username])
        return client

    _, kari_case = two_cases
    found = client_for("nils").get("/api/v1/cases/", {"q": "hansen"}).json()
    assert [row["id"] for row in found["results"]] == [kari_case.pk]
    assert client_for("oscar").get("/api/v1/cases/", {"q": "hansen"}).json()["results"] == []
    assert client_for("siri").get("/api/v1/cases/", {"q": "hansen"}).json()["results"] == []  # not a participant


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("li", {"Li Hansen", "Anne-Lise Berg"}),  # the start of a word, after a space or a hyphen
        ("o", {"Kari Olisen"}),
        ("lis", {"Anne-Lise Berg", "Kari Olisen"}),  # three characters: anywhere in the name
        ("ri", set()),  # two characters inside a word ("Kari"): not a word's start
    ],
)
def test_one_or_two_characters_find_the_start_of_a_word(users, agencies, shipped, query, found):
    """Too short for the search index to find inside a word (workflows 0044): matched where a
    word of the name or the reference starts, on the page and in the API alike."""
    from rest_framework.test import APIClient

    people = {"Li Hansen": "01010110013", "Anne-Lise Berg": "17912099997", "Kari Olisen": "29822099635"}
    cases = {
        start_prison_case(users, agencies, person={"name": name, "national_id": number}).pk: name
        for name, number in people.items()
    }
    client = APIClient()
    client.force_authenticate(users["nils"])
    answer = client.get("/api/v1/cases/", {"q": query})
    assert answer.status_code == 200
    assert {cases[row["id"]] for row in answer.json()["results"]} == found
