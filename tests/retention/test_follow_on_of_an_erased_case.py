"""An erased case starts no follow-on case: the follow-on section opened directly (its fold's
link, or typed) says the case's personal data was erased instead of showing the form, and a
posted form is refused (409). Before, the section showed the form to the housing contact,
and a post started a case for the erased case's tombstone."""

import pytest
from django.urls import reverse

from tests.clients import web
from workflows.models import Case

from .helpers import archived, erase

pytestmark = pytest.mark.django_db

ERASED = "Personopplysningene i saken er slettet"


def _erased(users, case):
    archived(case)
    assert erase(users["bjorn"], case).status_code == 201


def test_the_follow_on_section_of_an_erased_case_explains_instead_of_showing_the_form(closed_case, users):
    bjorn = web(users["bjorn"])
    url = reverse("case-section", args=[closed_case.pk, "follow-on"])
    assert 'name="process"' in bjorn.get(url).content.decode()  # the form, before the erasure
    _erased(users, closed_case)
    for answer in (bjorn.get(url), bjorn.get(url, headers={"HX-Request": "true"})):
        body = answer.content.decode()
        assert answer.status_code == 200
        assert ERASED in body and 'name="process"' not in body
        assert reverse("case-follow-on", args=[closed_case.pk]) not in body


def test_a_follow_on_posted_for_an_erased_case_is_refused(closed_case, users):
    _erased(users, closed_case)
    before = Case.objects.count()
    answer = web(users["bjorn"]).post(reverse("case-follow-on", args=[closed_case.pk]), {"process": "settling_in"})
    assert answer.status_code == 409
    assert ERASED in answer.content.decode()  # the page's follow-on section, instead of its form
    assert Case.objects.count() == before
