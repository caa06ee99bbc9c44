"""The list of legal bases over the API (issue 11, point 1): only process admins add, change,
retire and delete; a legal basis that consents rest on is retired, never deleted; bad input is
400 naming the field; every other role of every agency is refused and changes nothing."""

import pytest

from permissions.models import LegalBasis

NEW = {
    "law": "sosialtjenesteloven",
    "paragraph": "§ 45 (prøve)",
    "title": "Opplysninger til NAV når det er nødvendig for å gi tjenester",
    "categories": ["economy", "housing"],
    "agency_kinds": ["nav"],
}
# Every role but the process admin's: members, leads, coordinators, auditors, leaders, outsiders.
NOT_ADMINS = ("kari", "nils", "helga", "bjorn", "lise", "siri", "mona", "aud", "leif", "nina", "oscar")


def fields_of(response):
    return {error["field"] for error in response.json()["errors"]}


def test_the_process_admin_adds_changes_retires_and_deletes(client_for, legal_bases):
    ada = client_for("ada")
    created = ada.post("/api/v1/legal-bases/", NEW, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["law"], body["paragraph"], body["categories"], body["agency_kinds"], body["active"]) == (
        "sosialtjenesteloven",
        "§ 45 (prøve)",
        ["housing", "economy"],
        ["nav"],
        True,
    )
    url = f"/api/v1/legal-bases/{body['id']}/"
    changed = ada.patch(url, {"title": "Endret tittel", "categories": ["economy"]}, format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "Endret tittel"
    assert LegalBasis.objects.get(pk=body["id"]).categories == ["economy"]
    offered = {row["id"] for row in client_for("bjorn").get("/api/v1/legal-bases/?page_size=100").json()["results"]}
    assert body["id"] in offered

    retired = ada.post(f"{url}retire/")
    assert retired.status_code == 200 and retired.json()["active"] is False
    assert ada.post(f"{url}retire/").status_code == 409
    offered = {row["id"] for row in client_for("bjorn").get("/api/v1/legal-bases/?page_size=100").json()["results"]}
    assert body["id"] not in offered  # no new consent may rest on it
    everything = ada.get("/api/v1/legal-bases/?include_retired=true&page_size=100").json()["results"]
    assert body["id"] in {row["id"] for row in everything}
    # Only true or false: "yes" was read as false, the list without the retired basis.
    for value in ("yes", "1", "True", ""):
        refused = ada.get(f"/api/v1/legal-bases/?include_retired={value}")
        assert refused.status_code == 400, value
        assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
            ("include_retired", "field.expected_boolean")
        ]
    not_retired = ada.get("/api/v1/legal-bases/?include_retired=false&page_size=100").json()["results"]
    assert body["id"] not in {row["id"] for row in not_retired}

    assert ada.delete(url).status_code == 204
    assert not LegalBasis.objects.filter(pk=body["id"]).exists()
    assert ada.get(url).status_code == 404


def test_a_legal_basis_that_consents_rest_on_is_retired_not_deleted(client_for, agencies, prison_case, consent_basis):
    recorded = client_for("helga").post(
        f"/api/v1/cases/{prison_case.pk}/consents/",
        {"agency": agencies["nav"].pk, "categories": ["health"], "purpose": "Bolig", "legal_basis": consent_basis.pk},
        format="json",
    )
    assert recorded.status_code == 201, recorded.json()
    ada = client_for("ada")
    url = f"/api/v1/legal-bases/{consent_basis.pk}/"
    refused = ada.delete(url)
    assert refused.status_code == 409 and refused.json()["code"] == "legal_basis.in_use"
    assert ada.post(f"{url}retire/").status_code == 200
    consent_basis.refresh_from_db()
    assert consent_basis.active is False


@pytest.mark.parametrize(
    "body, field",
    [
        ({**NEW, "law": ""}, "law"),
        ({**NEW, "law": "x" * 201}, "law"),
        ({**NEW, "paragraph": None}, "paragraph"),
        ({**NEW, "title": 12}, "title"),
        ({**NEW, "title": "a\u0000b"}, "title"),
        ({**NEW, "categories": []}, "categories"),
        ({**NEW, "categories": ["identity"]}, "categories.0"),
        ({**NEW, "categories": "health,economy"}, "categories.0"),
        ({**NEW, "agency_kinds": ["police"]}, "agency_kinds.0"),
        ({**NEW, "agency_kinds": {}}, "agency_kinds"),
        ({**NEW, "is_consent": "yes"}, "is_consent"),
        ({**NEW, "position": -1}, "position"),
        ({**NEW, "position": 10**9}, "position"),
        ({**NEW, "description": "x" * 4001}, "description"),
        ({**NEW, "basis": "anything I type"}, "basis"),
        ({k: v for k, v in NEW.items() if k != "agency_kinds"}, "agency_kinds"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_nothing_is_written(client_for, legal_bases, body, field):
    before = LegalBasis.objects.count()
    response = client_for("ada").post("/api/v1/legal-bases/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in fields_of(response)
    assert LegalBasis.objects.count() == before


def test_a_paragraph_the_law_already_has_is_400_on_paragraph(client_for, consent_basis):
    ada = client_for("ada")
    duplicate = {**NEW, "law": consent_basis.law.upper(), "paragraph": consent_basis.paragraph}
    response = ada.post("/api/v1/legal-bases/", duplicate, format="json")
    assert response.status_code == 400 and fields_of(response) == {"paragraph"}
    other = ada.post("/api/v1/legal-bases/", NEW, format="json").json()
    clash = ada.patch(
        f"/api/v1/legal-bases/{other['id']}/",
        {"law": consent_basis.law, "paragraph": consent_basis.paragraph},
        format="json",
    )
    assert clash.status_code == 400 and fields_of(clash) == {"paragraph"}
    assert ada.post("/api/v1/legal-bases/", [NEW], format="json").status_code == 400
    assert ada.patch("/api/v1/legal-bases/999999/", {"title": "x"}, format="json").status_code == 404


@pytest.mark.parametrize("username", NOT_ADMINS)
def test_no_other_role_of_any_agency_writes_the_list(client_for, consent_basis, username):
    client = client_for(username)
    url = f"/api/v1/legal-bases/{consent_basis.pk}/"
    before = list(LegalBasis.objects.order_by("pk").values())
    assert client.post("/api/v1/legal-bases/", NEW, format="json").status_code == 403
    assert client.post("/api/v1/legal-bases/", {"law": ""}, format="json").status_code == 403  # no field hints
    assert client.patch(url, {"title": "Kapret", "categories": ["health"]}, format="json").status_code == 403
    assert client.post(f"{url}retire/").status_code == 403
    assert client.delete(url).status_code == 403
    assert client.get(url).status_code == 403
    assert client.get("/api/v1/legal-bases/?include_retired=true").status_code == 403
    assert list(LegalBasis.objects.order_by("pk").values()) == before


def test_without_a_token_nothing_is_written(client_for, consent_basis):
    anonymous = client_for(None)
    assert anonymous.post("/api/v1/legal-bases/", NEW, format="json").status_code == 401
    assert anonymous.patch(f"/api/v1/legal-bases/{consent_basis.pk}/", {"title": "x"}, format="json").status_code == 401
    assert anonymous.delete(f"/api/v1/legal-bases/{consent_basis.pk}/").status_code == 401
    assert LegalBasis.objects.get(pk=consent_basis.pk).title == consent_basis.title


def test_what_a_recorded_consent_rests_on_is_not_rewritten(client_for, agencies, prison_case, consent_basis):
    """The person's consent recorded on forvaltningsloven § 13 a nr. 1 stays the person's
    consent: made a provision of law afterwards, the coordinator could no longer record its
    withdrawal (only the holder of the data ends a provision), and the person's report would
    name another provision. Which provision a basis is (law, paragraph, whether it is
    consent) is fixed once consents rest on it: 409 naming each field, nothing changed."""
    recorded = client_for("helga").post(
        f"/api/v1/cases/{prison_case.pk}/consents/",
        {"agency": agencies["nav"].pk, "categories": ["health"], "purpose": "Bolig", "legal_basis": consent_basis.pk},
        format="json",
    )
    assert recorded.status_code == 201, recorded.json()
    ada = client_for("ada")
    url = f"/api/v1/legal-bases/{consent_basis.pk}/"
    before = LegalBasis.objects.values().get(pk=consent_basis.pk)
    refused = ada.patch(url, {"is_consent": False, "law": "sosialtjenesteloven", "paragraph": "§ 99"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "legal_basis.in_use_fixed"
    assert fields_of(refused) == {"is_consent", "law", "paragraph"}
    assert LegalBasis.objects.values().get(pk=consent_basis.pk) == before
    # Its wording and what new consents may rest on it for still change.
    assert ada.patch(url, {"title": "Samtykke fra personen (skriftlig)"}, format="json").status_code == 200
    # The coordinator records the person's withdrawal, as of any consent.
    revoked = client_for("bjorn").post(f"/api/v1/consents/{recorded.json()['id']}/revoke/")
    assert revoked.status_code == 200, revoked.json()
