"""Ending an emergency access before its time (``services.end_break_glass``), through the API
and the pages: by the user who opened it and by an auditor reviewing it, logged; 404 for
whoever may not see the opening, 403 for the coordinator who sees it, 409 once ended. Before,
no action ended one: an opening the auditor had found not needed stayed in force for its
``BREAK_GLASS_HOURS``."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permissions.models import AccessLog, BreakGlass
from tests.clients import web
from workflows import services

from .test_break_glass_api import REASON, SECRET, _health, case_id  # noqa: F401 - case_id: a fixture

pytestmark = pytest.mark.django_db


def _open(client, pk):
    opened = client.post(
        reverse("api-case-break-glass", args=[pk]), {"category": "health", "reason": REASON}, format="json"
    )
    assert opened.status_code == 201, opened.json()
    return opened.json()["id"]


def test_the_user_who_opened_it_ends_it_and_sees_the_category_masked_again(case_id, client_for, users):  # noqa: F811
    nils = client_for("nils")
    grant = _open(nils, case_id)
    assert _health(nils, case_id)["values"]["treatment_plan"] == SECRET
    url = reverse("api-break-glass-end", args=[grant])
    ended = nils.post(url)
    assert ended.status_code == 200, ended.json()
    body = ended.json()
    assert body["active"] is False and body["ended_at"] and body["expires_at"] == body["ended_at"]
    assert _health(nils, case_id)["visible"] is False
    assert SECRET not in str(nils.get(reverse("api-case", args=[case_id])).json())
    assert nils.post(url).status_code == 409
    row = AccessLog.objects.get(action="break_glass_end", break_glass_id=grant)
    assert row.username == "nils" and row.category == "health"
    grant_row = BreakGlass.objects.get(pk=grant)
    assert grant_row.ended_by.username == "nils"
    # A second opening after it is possible again (the category is masked once more), ended
    # by a few statements (the service alone: the test client's requests reset the log).
    again = _open(nils, case_id)
    with CaptureQueriesContext(connection) as ended_queries:
        services.end_break_glass(actor=users["nils"], grant_id=again)
    assert len(ended_queries) <= 10, [q["sql"] for q in ended_queries]


def test_an_auditor_ends_an_opening_they_reviewed(case_id, client_for):  # noqa: F811
    nils, aud = client_for("nils"), client_for("aud")
    grant = _open(nils, case_id)
    reviewed = aud.post(reverse("api-break-glass-review", args=[grant]), {"note": "Ikke nødvendig"}, format="json")
    assert reviewed.status_code == 200
    assert BreakGlass.objects.get(pk=grant).is_active()  # reviewed, still in force
    ended = aud.post(reverse("api-break-glass-end", args=[grant]))
    assert ended.status_code == 200 and ended.json()["active"] is False
    assert _health(nils, case_id)["visible"] is False
    assert AccessLog.objects.get(action="break_glass_end", break_glass_id=grant).role == "auditor"
    assert aud.post(reverse("api-break-glass-end", args=[grant])).status_code == 409


@pytest.mark.parametrize(
    ("username", "status"),
    [("nora", 404), ("kari", 404), ("helga", 404), ("siri", 404), ("ada", 404), ("oscar", 404), ("bjorn", 403)],
)
def test_nobody_else_ends_an_opening(username, status, case_id, client_for):  # noqa: F811
    grant = _open(client_for("nils"), case_id)
    answer = client_for(username).post(reverse("api-break-glass-end", args=[grant]))
    assert answer.status_code == status
    assert REASON not in str(answer.content) and "nils" not in str(answer.content)
    assert BreakGlass.objects.get(pk=grant).is_active() and BreakGlass.objects.get(pk=grant).ended_at is None
    assert client_for(username).post(reverse("api-break-glass-end", args=[999_999])).status_code == 404
    assert client_for(None).post(reverse("api-break-glass-end", args=[grant])).status_code == 401


def test_the_pages_end_it_from_the_case_s_section_and_the_review_list(case_id, client_for, users):  # noqa: F811
    first = _open(client_for("nils"), case_id)
    nils = web(users["nils"])
    page = nils.get(reverse("case", args=[case_id])).content.decode()
    assert reverse("break-glass-end", args=[first]) in page and "Avslutt nødtilgangen nå" in page
    answer = nils.post(reverse("break-glass-end", args=[first]), {"case": case_id}, follow=True)
    assert answer.redirect_chain[-1][0] == reverse("case", args=[case_id])
    assert "Nødtilgangen er avsluttet." in answer.content.decode()
    again = nils.post(reverse("break-glass-end", args=[first]), {"case": case_id}, follow=True)
    assert "denne nødtilgangen er allerede avsluttet" in again.content.decode().lower()
    assert web(users["nora"]).post(reverse("break-glass-end", args=[first])).status_code == 404

    second = _open(client_for("nils"), case_id)
    aud = web(users["aud"])
    listed = aud.get(reverse("break-glass-review")).content.decode()
    assert reverse("break-glass-end", args=[second]) in listed
    ended = aud.post(reverse("break-glass-end", args=[second]), follow=True)
    assert ended.redirect_chain[-1][0] == reverse("break-glass-review")
    assert not BreakGlass.objects.get(pk=second).is_active()
