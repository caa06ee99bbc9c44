"""The words a caseworker searches the case list for (a person's name, a date of birth) never
stand in the page's address, where the browser's history, its suggestions on a shared office
computer and a proxy's log would keep them: the filter form posts them, and the list's address
carries a key that only the searching session can read (``web.cases.SEARCHES``)."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests.workflows.helpers import start_prison_case
from web.cases import SEARCHES_KEPT
from workflows.models import Case

pytestmark = pytest.mark.django_db

ROWS = re.compile(r'<td data-label="(?:Sak|Case|Person)"><a href="/cases/(\d+)/"')
NAME = "Nordmann"


@pytest.fixture
def two_cases(shipped, users, agencies):
    """A case of Ola Nordmann (the helpers' person) and one of another person."""
    searched = start_prison_case(users, agencies)
    other = start_prison_case(users, agencies, person={"name": "Kari Halvorsen", "national_id": "05840399895"})
    return searched, other


def _search(client: Client, **fields):
    return client.post(reverse("cases"), fields)


def _cases_in(response) -> set[int]:
    return {int(pk) for pk in ROWS.findall(response.content.decode())}


def test_the_filter_form_posts_and_the_list_s_address_holds_no_search_words(web, two_cases):
    searched, _other = two_cases
    kari = web("kari")

    page = kari.get(reverse("cases")).content.decode()
    assert re.search(r'<form method="post" action="/cases/" class="filters"', page)
    answer = _search(kari, q=f"  {NAME} ", status="open", process="", overdue="")

    assert answer.status_code == 303
    address = answer["Location"]
    assert NAME.lower() not in address.lower()
    params = parse_qs(urlsplit(address).query)
    assert params.pop("status") == ["open"] and set(params) == {"sok"}
    listed = kari.get(address)
    assert _cases_in(listed) == {searched.pk}
    assert f'value="{NAME}"' in listed.content.decode()  # the words stay in the box, not the address


def test_the_pager_s_links_carry_the_key_not_the_words(web, two_cases):
    kari = web("kari")
    address = _search(kari, q=NAME)["Location"]
    key = parse_qs(urlsplit(address).query)["sok"][0]

    page = kari.get(address + "&page=1").content.decode()

    assert NAME not in "".join(re.findall(r'href="(\?[^"]*)"', page))
    assert f"sok={key}" in page or 'rel="next"' not in page  # one page here: no pager link at all


def test_another_session_s_key_searches_nothing_and_says_so(web, two_cases, users):
    address = _search(web("kari"), q=NAME)["Location"]
    other_session = web("kari")  # the same user on another computer: another session

    page = other_session.get(address)

    body = page.content.decode()
    assert page.status_code == 200
    assert NAME not in body.split("<main", 1)[1].split("</form>", 1)[0]  # not given back as the words
    assert "Dette søket er ikke lagret lenger. Søk på nytt." in body
    assert _cases_in(page) == {case.pk for case in two_cases}  # the list unsearched, as without a key


def test_a_session_keeps_the_newest_searches_only(web, two_cases):
    kari = web("kari")
    first = _search(kari, q=NAME)["Location"]
    for _ in range(SEARCHES_KEPT):
        _search(kari, q="Halvorsen")

    assert "Dette søket er ikke lagret lenger" in kari.get(first).content.decode()


def test_a_post_without_words_is_the_filters_alone_and_words_are_cut_to_200(web, two_cases):
    kari = web("kari")
    assert _search(kari, status="open", overdue="1")["Location"] == "/cases/?status=open&overdue=1"
    assert _search(kari)["Location"] == "/cases/"

    long_words = "x" * 500
    address = _search(kari, q=long_words)["Location"]
    box = kari.get(address).content.decode().split('name="q"', 1)[1]
    assert len(box.split('value="', 1)[1].split('"', 1)[0]) == 200


def test_the_search_form_needs_its_csrf_token(users, two_cases):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["kari"])

    assert client.post(reverse("cases"), {"q": NAME}).status_code == 403


def test_an_address_with_q_is_still_searched(web, two_cases):
    """An old bookmark or a link typed by hand: read as before."""
    searched, _other = two_cases
    assert _cases_in(web("kari").get(f"/cases/?q={NAME}")) == {searched.pk}


def test_without_a_script_choosing_the_process_posts_the_person_typed_so_far(web, shipped):
    """The start form's no-script button showed the chosen process's agencies by sending the
    whole form with GET: the person's name and national id stood in the address."""
    kari = web("kari")
    page = kari.get(reverse("case-new")).content.decode()
    noscript = page.split("<noscript>", 1)[1].split("</noscript>", 1)[0]
    assert "formmethod" not in noscript and 'name="show_agencies"' in noscript

    shown = kari.post(
        reverse("case-new"),
        {
            "process": "prison_release_to_housing",
            "person_name": "Ola Nordmann",
            "national_id": "17912099997",
            "show_agencies": "1",
        },
    )

    assert shown.status_code == 200
    body = shown.content.decode()
    assert 'value="Ola Nordmann"' in body and 'value="17912099997"' in body  # kept in the form
    assert 'name="participant_health"' in body  # the chosen process's agencies
    assert not Case.objects.exists()  # shown, not started


def test_the_start_form_reads_no_person_from_its_address(web, shipped):
    page = web("kari").get(reverse("case-new") + "?person_name=Ola+Nordmann&national_id=17912099997").content.decode()
    assert 'value="Ola Nordmann"' not in page and 'value="17912099997"' not in page  # no field filled from it
