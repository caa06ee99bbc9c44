"""Issue 11, point 1, over HTTP: NAV's nils once recorded a consent for NAV itself, with any
categories and any basis text, and read the masked health data at once. Now a receiving agency
never records a sharing with itself, the basis is an id from the admins' list, and the health
data stays masked."""

from permissions.models import Consent
from tests.workflows.helpers import complete, open_tasks
from workflows.models import Event, EventKind

HEALTH_SECRET = "LAR, oppfølging hver uke"


def _case_with_health_data(users, prison_case):
    (intake,) = open_tasks(prison_case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    health_task = next(task for task in open_tasks(prison_case) if task.element_id == "Task_health_follow_up_plan")
    complete(health_task, {"treatment_plan": HEALTH_SECRET}, actor=users["helga"])
    return prison_case.pk


def _health_masked(client, case_id):
    data = client.get(f"/api/v1/cases/{case_id}/").json()["data"]
    return data["health"]["visible"] is False and HEALTH_SECRET not in str(data)


def test_nav_cannot_grant_itself_consent_over_the_api(users, agencies, prison_case, client_for, consent_basis):
    case_id = _case_with_health_data(users, prison_case)
    nils = client_for("nils")
    url = f"/api/v1/cases/{case_id}/consents/"
    assert _health_masked(nils, case_id)

    # The request of the finding, verbatim: free text is no basis any more.
    verbatim = {"agency": agencies["nav"].pk, "categories": ["health", "housing", "justice"], "basis": "anything"}
    response = nils.post(url, verbatim, format="json")
    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} >= {"legal_basis", "basis"}

    # With a real provision, for the agency or for its kind: refused, as the recipient.
    for recipient in ({"agency": agencies["nav"].pk}, {"agency_kind": "nav"}):
        payload = {
            **recipient,
            "categories": ["health", "housing", "justice"],
            "purpose": "x",
            "legal_basis": consent_basis.pk,
        }
        response = nils.post(url, payload, format="json")
        assert response.status_code == 403, response.json()
        assert "never records a sharing with itself" in response.json()["detail"]
    assert not Consent.objects.exists()
    assert not Event.objects.filter(kind=EventKind.CONSENT_GIVEN).exists()
    assert _health_masked(nils, case_id)

    # The health service (which holds the data) records the person's consent: NAV sees it.
    recorded = client_for("helga").post(
        url,
        {
            "agency": agencies["nav"].pk,
            "categories": ["health"],
            "purpose": "Oppfølging",
            "legal_basis": consent_basis.pk,
        },
        format="json",
    )
    assert recorded.status_code == 201, recorded.json()
    body = recorded.json()
    assert body["legal_basis"]["law"] == "forvaltningsloven" and body["legal_basis"]["is_consent"] is True
    assert not _health_masked(nils, case_id)


def test_the_list_of_legal_bases(shipped, client_for):
    rows = client_for("nils").get("/api/v1/legal-bases/").json()["results"]
    assert {(row["law"], row["paragraph"]) for row in rows} >= {
        ("forvaltningsloven", "§ 13 a nr. 1"),
        ("helsepersonelloven", "§ 22"),
        ("helsepersonelloven", "§ 45"),
        ("forvaltningsloven", "§ 13 b første ledd nr. 5"),
        ("sosialtjenesteloven", "§ 44"),
        ("NAV-loven", "§ 15"),
        ("straffegjennomføringsloven", "§ 4"),
    }
    assert client_for("oscar").get("/api/v1/legal-bases/").json()["results"] == []
    assert client_for(None).get("/api/v1/legal-bases/").status_code == 401


def test_a_consent_s_note_is_read_only_by_the_agency_that_wrote_it_and_the_coordinator(
    users, agencies, prison_case, client_for, consent_basis
):
    """The note is free text with no category (the health service's words about the person's
    treatment, say): restricted, as a field without a category is (design §6). The other
    participants read the consent itself (who may see what, for which purpose), never the
    note: not in the list, nor in the answer to a withdrawal any of them may record."""
    case_id = _case_with_health_data(users, prison_case)
    url = f"/api/v1/cases/{case_id}/consents/"
    note = "Personen er i LAR-behandling og vil at boligkontoret skal vite det"
    recorded = client_for("helga").post(
        url,
        {
            "agency": agencies["housing"].pk,
            "categories": ["health"],
            "purpose": "Bolig med oppfølging",
            "legal_basis": consent_basis.pk,
            "note": note,
        },
        format="json",
    )
    assert recorded.status_code == 201, recorded.json()
    assert recorded.json()["note"] == note  # the recorder's own answer

    for reader in ("helga", "bjorn"):
        (row,) = client_for(reader).get(url).json()["results"]
        assert row["note"] == note, reader
    for reader in ("nils", "kari"):
        response = client_for(reader).get(url)
        assert response.status_code == 200
        (row,) = response.json()["results"]
        assert row["purpose"] == "" and row["categories"] == ["health"]  # not theirs: rules.consent_purpose_shown
        assert row["note"] == "" and "LAR" not in response.content.decode(), reader

    withdrawn = client_for("nils").post(f"/api/v1/consents/{recorded.json()['id']}/revoke/")
    assert withdrawn.status_code == 200, withdrawn.json()
    assert withdrawn.json()["revoked_at"] and withdrawn.json()["note"] == ""
