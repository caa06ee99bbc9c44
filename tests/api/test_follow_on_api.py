"""The person's path over the API: a follow-on case and the person's cases, with every
other user refused."""

import pytest

from permissions.models import AccessLog

from .conftest import CAST

PARTICIPANTS = {"kari", "nils", "nora", "helga", "bjorn"}  # the prison case's agencies


def start_follow_on(client, case, **body):
    return client.post(f"/api/v1/cases/{case.pk}/follow-on/", {"process_key": "settling_in", **body}, format="json")


def test_a_housing_contact_starts_settling_in_after_a_prison_release(client_for, prison_case):
    answer = start_follow_on(client_for("bjorn"), prison_case)
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["follows"] == prison_case.pk and body["process_key"] == "settling_in"
    assert body["carried"] == [] and body["withheld"] == []
    path = client_for("nils").get(f"/api/v1/people/{prison_case.person_id}/").json()
    assert [c["id"] for c in path["cases"]] == [prison_case.pk, body["id"]]
    assert path["cases"][1]["follows"] == prison_case.pk
    assert path["national_id"].endswith("*****")
    assert AccessLog.objects.filter(user__username="nils", item="person").count() == 2


@pytest.mark.parametrize("username", [*CAST, None])
def test_nobody_else_starts_one(client_for, prison_case, username):
    answer = start_follow_on(client_for(username), prison_case)
    expected = 201 if username == "bjorn" else 401 if username is None else 403 if username in PARTICIPANTS else 404
    assert answer.status_code == expected, username


@pytest.mark.parametrize("username", [*CAST, None])
def test_the_person_is_shown_only_to_who_sees_a_case(client_for, prison_case, username):
    answer = client_for(username).get(f"/api/v1/people/{prison_case.person_id}/")
    expected = 200 if username in PARTICIPANTS else 401 if username is None else 404
    assert answer.status_code == expected, username
    if expected != 200:
        assert "Nordmann" not in answer.content.decode()


def test_bad_follow_on_requests_answer_400(client_for, prison_case):
    bjorn = client_for("bjorn")
    for body in (
        {"process_key": "housing_referral"},
        {"process_key": "nope"},
        {"consent_categories": ["alt"]},
        {"participants": {"health": 10**9}},
        {"unknown": 1},
    ):
        answer = start_follow_on(bjorn, prison_case, **body)
        assert answer.status_code == 400, (body, answer.json())
    assert not prison_case.follow_ons.exists()
    assert client_for("bjorn").get("/api/v1/people/999999/").status_code == 404
