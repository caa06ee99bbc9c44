"""Reads of the case's timeline, its consents, its access log and its emergency openings are in the access log
(domain.md: every access to sensitive data is logged, and the person may learn who saw it).
They wrote no row while the case page logged the categories of the fields it shows. They show
the case's coordination (who takes part, what was done when, who may see what, who looked):
one row each, category ``coordination``, ``item`` naming the list, on the reader's standing;
the access log on the standing it is read on (its coordinator, or an auditor). Nothing is
logged for a reader the case answers 404 (or 403)."""

import pytest
from django.urls import reverse

from permissions.models import AccessLog
from tests.clients import api, web
from workflows.services import open_break_glass, record_consent

pytestmark = pytest.mark.django_db

ROW = ("username", "agency__kind", "role", "category", "basis", "action", "item", "case_id", "person_id")


@pytest.fixture
def consented(users, agencies, prison_case, consent_basis):
    record_consent(
        actor=users["bjorn"],
        case=prison_case.pk,
        agency=agencies["nav"].pk,
        categories=["health"],
        purpose="Oppfølging av bolig og helse",
        legal_basis=consent_basis,
    )
    return prison_case


def rows_since(before: int) -> list[tuple]:
    return list(AccessLog.objects.filter(pk__gt=before).order_by("pk").values_list(*ROW))


def last_row() -> int:
    return AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_the_timeline_over_the_api_and_the_page_logs_one_coordination_row_each(users, consented):
    case = consented
    expected = ("nils", "nav", "member", "coordination", "participant", "read", "timeline", case.pk, case.person_id)
    before = last_row()
    assert api(users["nils"]).get(f"/api/v1/cases/{case.pk}/timeline/").status_code == 200
    assert rows_since(before) == [expected]

    before = last_row()
    assert web(users["nils"]).get(reverse("case-section", args=[case.pk, "events"])).status_code == 200
    assert rows_since(before) == [expected]


def test_the_consents_over_the_api_and_the_case_page_log_one_coordination_row(users, consented):
    case = consented
    bjorn = ("bjorn", "housing", "coordinator", "coordination", "participant", "read", "consents")
    before = last_row()
    answer = api(users["bjorn"]).get(f"/api/v1/cases/{case.pk}/consents/")
    assert answer.status_code == 200 and len(answer.json()["results"]) == 1
    assert rows_since(before) == [(*bjorn, case.pk, case.person_id)]

    before = last_row()
    assert web(users["bjorn"]).get(f"/cases/{case.pk}/").status_code == 200
    assert [row for row in rows_since(before) if row[6] == "consents"] == [(*bjorn, case.pk, case.person_id)]


def test_the_access_log_read_is_logged_on_the_standing_it_is_read_on(users, consented):
    case = consented
    at = ("coordination", "read", "access-log", case.pk, case.person_id)
    before = last_row()
    answer = api(users["bjorn"]).get(f"/api/v1/cases/{case.pk}/access-log/")
    assert answer.status_code == 200
    # The page is the log as it was before this read: the read is its next row.
    assert all(row["item"] != "access-log" for row in answer.json()["results"])
    (bjorn,) = rows_since(before)
    assert (bjorn[:3], bjorn[4]) == (("bjorn", "housing", "coordinator"), "coordinator")
    assert (bjorn[3], *bjorn[5:]) == at

    before = last_row()
    assert api(users["aud"]).get(f"/api/v1/cases/{case.pk}/access-log/").status_code == 200
    (audit,) = rows_since(before)
    assert (audit[2], audit[4], audit[1] is not None) == ("auditor", "audit", True)
    assert (audit[3], *audit[5:]) == at

    before = last_row()
    assert web(users["bjorn"]).get(reverse("case-section", args=[case.pk, "access-log"])).status_code == 200
    assert [row[6] for row in rows_since(before)] == ["access-log"]


REASON = "Trusler om selvmord i telefonsamtale; må vite om behandlingsopplegg nå"


@pytest.fixture
def opened(users, consented):
    """nils (NAV) opened justice in an emergency: his opening, its reason, is in the lists."""
    open_break_glass(actor=users["nils"], case=consented.pk, category="justice", reason=REASON)
    return consented


def test_the_case_s_emergency_openings_are_logged_on_the_standing_they_are_read_on(users, opened):
    """Who opened which masked category of the person's data and why is about the person:
    the coordinator's and the auditor's reads of the case's openings (the API's list, the case
    page's) each write one coordination row, ``item`` "break-glass". They wrote none."""
    case = opened
    at = ("coordination", "read", "break-glass", case.pk, case.person_id)
    before = last_row()
    answer = api(users["bjorn"]).get(f"/api/v1/cases/{case.pk}/break-glass/")
    assert answer.status_code == 200 and [row["reason"] for row in answer.json()["results"]] == [REASON]
    (bjorn,) = rows_since(before)
    assert (bjorn[:3], bjorn[4]) == (("bjorn", "housing", "coordinator"), "coordinator")
    assert (bjorn[3], *bjorn[5:]) == at

    before = last_row()
    assert api(users["aud"]).get(f"/api/v1/cases/{case.pk}/break-glass/").status_code == 200
    (audit,) = rows_since(before)
    assert (audit[2], audit[4], audit[1] is not None) == ("auditor", "audit", True)
    assert (audit[3], *audit[5:]) == at

    before = last_row()
    page = web(users["bjorn"]).get(f"/cases/{case.pk}/")
    assert page.status_code == 200 and REASON in page.content.decode()
    assert [row for row in rows_since(before) if row[6] == "break-glass"] == [bjorn]


def test_the_auditors_review_list_logs_a_row_per_case_it_lists(users, opened, agencies):
    """The review list (``/break-glass/``, ``GET /api/v1/break-glass/``) names each opening's
    case, who opened it and why, across the municipality's cases: one row per case listed, as
    an auditor of an agency that takes part in it (basis audit)."""
    case = opened
    expected = ("aud", "auditor", "coordination", "audit", "read", "break-glass", case.pk, case.person_id)
    for client, path in ((api(users["aud"]), "/api/v1/break-glass/"), (web(users["aud"]), "/break-glass/")):
        before = last_row()
        answer = client.get(path)
        assert answer.status_code == 200 and REASON in answer.content.decode()
        (row,) = rows_since(before)
        assert (row[0], *row[2:]) == expected
        assert row[1] in {kind for kind, agency in agencies.items() if case.participants.filter(agency=agency)}


@pytest.mark.parametrize(
    ("reader", "path", "status"),
    [
        ("siri", "/api/v1/cases/{pk}/timeline/", 404),
        ("siri", "/api/v1/cases/{pk}/consents/", 404),
        ("siri", "/api/v1/cases/{pk}/access-log/", 404),
        ("nils", "/api/v1/cases/{pk}/access-log/", 403),
        ("siri", "/cases/{pk}/sections/events/", 404),
        ("siri", "/cases/{pk}/sections/access-log/", 404),
        ("nils", "/cases/{pk}/sections/access-log/", 403),
        ("siri", "/api/v1/cases/{pk}/break-glass/", 404),
        ("nils", "/api/v1/cases/{pk}/break-glass/", 403),
    ],
)
def test_nothing_is_logged_for_a_case_not_shown(users, opened, reader, path, status):
    consented = opened
    before = last_row()
    client = api(users[reader]) if path.startswith("/api/") else web(users[reader])
    assert client.get(path.format(pk=consented.pk)).status_code == status
    assert rows_since(before) == []
    assert client.get(path.format(pk=999999)).status_code == 404
    assert rows_since(before) == []
