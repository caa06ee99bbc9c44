"""Break-glass over HTTP, tried by every demo user: only a participant opens, only for
themselves; only the coordinator and the auditor read the openings; only the auditor reviews."""

import pytest
from django.utils import timezone

from permissions.models import AccessLog, BreakGlass
from workflows.models import Case, CaseStatus

REASON = "Trusler om selvmord i telefonsamtale; må vite om behandlingsopplegg nå"
SECRET = "LAR, oppfølging hver uke"


@pytest.fixture
def case_id(prison_case):
    prison_case.data = {**(prison_case.data or {}), "treatment_plan": SECRET}
    prison_case.save(update_fields=["data"])
    return prison_case.pk


def _health(client, case_id):
    return client.get(f"/api/v1/cases/{case_id}/").json()["data"]["health"]


def test_a_participant_opens_health_for_themselves_only(case_id, client_for):
    nils, nora = client_for("nils"), client_for("nora")
    url = f"/api/v1/cases/{case_id}/break-glass/"
    assert _health(nils, case_id)["visible"] is False

    short = nils.post(url, {"category": "health", "reason": "akutt"}, format="json")
    assert short.status_code == 400 and short.json()["errors"][0]["field"] == "reason"
    assert nils.post(url, {"category": "health"}, format="json").status_code == 400

    opened = nils.post(url, {"category": "health", "reason": REASON}, format="json")
    assert opened.status_code == 201, opened.json()
    body = opened.json()
    assert body["active"] is True and body["reason"] == REASON and body["agency"]["kind"] == "nav"
    health = _health(nils, case_id)
    assert health["values"]["treatment_plan"] == SECRET and health["basis"] == f"break-glass:{body['id']}"
    assert SECRET not in str(nora.get(f"/api/v1/cases/{case_id}/").json())
    assert SECRET not in str(client_for("kari").get(f"/api/v1/cases/{case_id}/").json())


@pytest.mark.parametrize(
    ("username", "status"), [("siri", 404), ("ada", 404), ("aud", 404), ("oscar", 404), (None, 401)]
)
def test_outsiders_cannot_open_or_read_openings(username, status, case_id, client_for):
    client = client_for(username)
    url = f"/api/v1/cases/{case_id}/break-glass/"
    assert client.post(url, {"category": "health", "reason": REASON}, format="json").status_code == status
    assert not BreakGlass.objects.exists()
    if username != "aud":
        assert client.get(url).status_code == status


def test_who_reads_the_openings_and_who_reviews_them(case_id, client_for):
    nils = client_for("nils")
    grant = nils.post(
        f"/api/v1/cases/{case_id}/break-glass/", {"category": "health", "reason": REASON}, format="json"
    ).json()
    url = f"/api/v1/cases/{case_id}/break-glass/"
    assert nils.get(url).status_code == 403
    assert client_for("helga").get(url).status_code == 403
    listed = client_for("bjorn").get(url).json()["results"]
    assert [(row["id"], row["username"], row["reason"]) for row in listed] == [(grant["id"], "nils", REASON)]
    assert client_for("aud").get(url).status_code == 200

    for username in ("nils", "bjorn", "ada", "siri", "oscar"):
        assert client_for(username).get("/api/v1/break-glass/").status_code == 403
        assert client_for(username).post(f"/api/v1/break-glass/{grant['id']}/review/").status_code == 404
    aud = client_for("aud")
    assert [row["id"] for row in aud.get("/api/v1/break-glass/").json()["results"]] == [grant["id"]]
    reviewed = aud.post(f"/api/v1/break-glass/{grant['id']}/review/", {"note": "I orden"}, format="json")
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_by"] == "aud"
    assert aud.post(f"/api/v1/break-glass/{grant['id']}/review/").status_code == 409
    assert aud.get("/api/v1/break-glass/").json()["results"] == []
    assert AccessLog.objects.filter(action="review", break_glass_id=grant["id"]).count() == 1

    log = client_for("bjorn").get(f"/api/v1/cases/{case_id}/access-log/").json()["results"]
    assert any(row["break_glass_reason"] == REASON and row["action"] == "break_glass" for row in log)


def test_a_closed_case_is_not_opened_in_an_emergency(case_id, client_for):
    Case.objects.filter(pk=case_id).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    answer = client_for("nils").post(
        f"/api/v1/cases/{case_id}/break-glass/", {"category": "health", "reason": REASON}, format="json"
    )
    assert answer.status_code == 409
    assert answer.json()["detail"].startswith("the case is closed")
    assert not BreakGlass.objects.exists()
    assert not AccessLog.objects.filter(case_id=case_id, action="break_glass").exists()
    assert _health(client_for("nils"), case_id)["visible"] is False


def test_an_opening_in_force_ends_when_the_case_closes(case_id, client_for):
    """Opened on an open case just before it closes: no emergency access outlives the case
    (nobody works it any more; its data waits for the archive), neither over the API."""
    nils = client_for("nils")
    opened = nils.post(f"/api/v1/cases/{case_id}/break-glass/", {"category": "health", "reason": REASON}, format="json")
    assert opened.status_code == 201 and _health(nils, case_id)["values"]["treatment_plan"] == SECRET
    Case.objects.filter(pk=case_id).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    health = _health(nils, case_id)
    assert health["visible"] is False and SECRET not in str(health)
    # Nor do the openings' lists call it in force (they did, by its clock alone, for hours):
    # the coordinator's, and the auditor's review list, which waits for its review still.
    (listed,) = client_for("bjorn").get(f"/api/v1/cases/{case_id}/break-glass/").json()["results"]
    (waiting,) = client_for("aud").get("/api/v1/break-glass/").json()["results"]
    assert (listed["active"], waiting["active"]) == (False, False)


def test_an_opening_is_reviewed_by_someone_else_than_who_opened_it(case_id, client_for, users, agencies):
    """domain.md: break-glass is reviewed afterwards. A caseworker who is also an auditor of
    their agency (a membership per role) neither finds their own opening in the review list
    nor marks it reviewed; another auditor still does."""
    from permissions.models import Membership, Role

    Membership.objects.create(user=users["nils"], agency=agencies["nav"], role=Role.AUDITOR)
    Membership.objects.create(user=users["aud"], agency=agencies["nav"], role=Role.AUDITOR)
    nils = client_for("nils")
    grant = nils.post(
        f"/api/v1/cases/{case_id}/break-glass/", {"category": "health", "reason": REASON}, format="json"
    ).json()

    assert [row["id"] for row in nils.get("/api/v1/break-glass/").json()["results"]] == []
    own = nils.post(f"/api/v1/break-glass/{grant['id']}/review/", {"note": "I orden"}, format="json")
    assert own.status_code == 404
    opening = BreakGlass.objects.get(pk=grant["id"])
    assert opening.reviewed_at is None
    assert not AccessLog.objects.filter(action="review", break_glass=opening).exists()

    aud = client_for("aud")
    assert [row["id"] for row in aud.get("/api/v1/break-glass/").json()["results"]] == [grant["id"]]
    assert aud.post(f"/api/v1/break-glass/{grant['id']}/review/").status_code == 200


@pytest.mark.parametrize(
    "invisible",
    [
        "\u200b" * 25,  # zero-width spaces
        "\u2060\ufeff" * 12,  # word joiners and byte order marks
        "\u3164" * 25,  # Hangul fillers: letters that draw nothing
        "\u2800" * 25,  # blank Braille patterns
        "akutt" + "\u200d" * 20,  # a word padded with joiners to pass the length
        "akutt" + "\u0301" * 20,  # a word padded with combining accents
    ],
)
def test_an_emergency_is_opened_only_with_a_reason_that_can_be_read(invisible, case_id, client_for):
    """The reviewer and the person read the reason: twenty characters that draw nothing are
    no reason, whatever their count."""
    answer = client_for("nils").post(
        f"/api/v1/cases/{case_id}/break-glass/", {"category": "health", "reason": invisible}, format="json"
    )
    assert answer.status_code == 400
    assert [error["field"] for error in answer.json()["errors"]] == ["reason"]
    assert not BreakGlass.objects.exists()
    assert not AccessLog.objects.filter(action="break_glass").exists()
