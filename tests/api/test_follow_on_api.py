"""The person's path over the API: a follow-on case and the person's cases, with every
other user refused."""

import pytest
from django.test import Client
from django.urls import reverse

from permissions.models import AccessLog
from retention.erasure import erase_case
from retention.models import ErasureTrigger
from tests.retention.test_erasure_meets_writers import closed_long_ago
from tests.workflows.test_follow_on import finished_referral
from workflows.models import Case, Person

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
    path = client_for("nils").get(f"/api/v1/cases/{prison_case.pk}/person/").json()
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
    answer = client_for(username).get(f"/api/v1/cases/{prison_case.pk}/person/")
    expected = 200 if username in PARTICIPANTS else 401 if username is None else 404
    assert answer.status_code == expected, username
    if expected != 200:
        assert "Nordmann" not in answer.content.decode()


def test_one_open_follow_on_of_a_process_per_case(client_for, prison_case):
    """A repeated start (a retry, a double submit) made a second settling-in case with its own
    tasks in every inbox. Refused while the first is open; once it is closed, a new one may
    follow the case again."""
    from workflows.models import Case, CaseStatus

    bjorn = client_for("bjorn")
    first = start_follow_on(bjorn, prison_case)
    assert first.status_code == 201
    again = start_follow_on(bjorn, prison_case)
    assert again.status_code == 409
    assert again.json()["code"] == "case.follow_on_open"
    assert [(e["field"], e["code"]) for e in again.json()["errors"]] == [("process_key", "case.follow_on_open")]
    assert prison_case.follow_ons.count() == 1

    Case.objects.filter(pk=first.json()["id"]).update(status=CaseStatus.CANCELLED)
    assert start_follow_on(bjorn, prison_case).status_code == 201
    assert prison_case.follow_ons.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_follow_ons_started_at_once_start_one(users, agencies, shipped):
    """The page and the API at once, or two colleagues: the check runs under the earlier
    case's lock, so exactly one starts and the other is 409."""
    from core.errors import Conflict
    from tests.threads import all_at_once
    from tests.workflows.helpers import start_prison_case
    from workflows import services
    from workflows.services.follow_on import FollowOn

    case = start_prison_case(users, agencies)
    outcomes = all_at_once(
        [lambda: services.start_follow_on(actor=users["bjorn"], case=case.pk, process_key="settling_in")] * 2
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "FollowOn"], outcomes
    assert any(isinstance(o, FollowOn) for o in outcomes) and any(isinstance(o, Conflict) for o in outcomes)
    assert case.follow_ons.count() == 1


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
    assert client_for("bjorn").get("/api/v1/cases/999999/person/").status_code == 404


def test_an_agency_new_to_the_path_is_not_told_the_earlier_case(client_for, prison_case, users):
    """A follow-on case may take in an agency the earlier case never had (another NAV
    office): its people read the new case, not the prison case it follows, and are not told
    that one exists (that someone comes from prison is itself confidential): neither its
    id in the person's path nor its reference on the case page or the person page."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from permissions.models import Agency, Membership

    halden = Agency.objects.create(name="NAV Halden", kind="nav", group=Group.objects.create(name="agency:nav-halden"))
    Membership.objects.create(user=users["oscar"], agency=halden, role="member")
    answer = start_follow_on(client_for("bjorn"), prison_case, participants={"nav": halden.pk})
    assert answer.status_code == 201, answer.json()
    follow_on = answer.json()["id"]

    # The path through the case they see; the case it follows is no way in for them.
    path = client_for("oscar").get(f"/api/v1/cases/{follow_on}/person/").json()
    assert [(c["id"], c["follows"]) for c in path["cases"]] == [(follow_on, None)]
    assert client_for("oscar").get(f"/api/v1/cases/{prison_case.pk}/person/").status_code == 404
    web = Client()
    web.force_login(users["oscar"])
    for page in (f"/cases/{follow_on}/", f"/cases/{follow_on}/person/"):
        answer = web.get(page)
        assert answer.status_code == 200 and prison_case.reference not in answer.content.decode(), page
    # Who reads both cases is told as before.
    assert client_for("bjorn").get(f"/api/v1/cases/{prison_case.pk}/person/").json()["cases"][1]["follows"] == (
        prison_case.pk
    )
    assert prison_case.reference in web_page(users["bjorn"], f"/cases/{follow_on}/")


def web_page(user, url) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.get(url).content.decode()


def test_the_earlier_case_names_the_follow_on_only_to_who_sees_it(client_for, prison_case):
    """The other way round: the prison takes no part in settling-in, and its timeline of the
    release case says that a follow-on started, not which case or process it is."""
    answer = start_follow_on(client_for("bjorn"), prison_case)
    assert answer.status_code == 201, answer.json()
    follow_on = answer.json()

    def started(username):
        events = client_for(username).get(f"/api/v1/cases/{prison_case.pk}/timeline/").json()["results"]
        return next(e["detail"] for e in events if e["kind"] == "follow_on_started")

    assert started("kari") == {}
    assert started("bjorn") == {
        "case": follow_on["id"],
        "reference": follow_on["reference"],
        "process_key": "settling_in",
    }


def test_a_consent_recorded_at_the_start_does_not_name_the_earlier_case(client_for, prison_case, users, agencies):
    """The person's consent now, recorded in the new case for the agencies that lacked it,
    is read in the new case's consent list by every participant: an agency new to the path
    (another NAV office) was told there the reference of the prison case it follows."""
    from django.contrib.auth.models import Group

    from permissions.models import Agency, Membership

    prison_case.data = {**prison_case.data, "home_address": "Storgata 1, 1706 Sarpsborg"}
    prison_case.data_sources = {**prison_case.data_sources, "home_address": agencies["housing"].pk}
    prison_case.save(update_fields=["data", "data_sources"])
    halden = Agency.objects.create(name="NAV Halden", kind="nav", group=Group.objects.create(name="agency:nav-halden"))
    Membership.objects.create(user=users["oscar"], agency=halden, role="member")
    answer = start_follow_on(
        client_for("bjorn"), prison_case, participants={"nav": halden.pk}, consent_categories=["housing"]
    )
    assert answer.status_code == 201, answer.json()
    assert "settling_home_address" in answer.json()["carried"]
    consents = client_for("oscar").get(f"/api/v1/cases/{answer.json()['id']}/consents/").json()["results"]
    assert {consent["agency"]["id"] for consent in consents} >= {halden.pk}
    assert prison_case.reference not in str(consents)
    assert prison_case.reference not in web_page(users["oscar"], f"/cases/{answer.json()['id']}/")


def test_an_erased_case_starts_no_follow_on_and_says_so(client_for, users, agencies, shipped):
    """Its person is a tombstone: the start took the tombstone's number as the person's, and
    answered 400 naming ``person.national_id``, a field no follow-on request has (and the case
    page's form the same). Now 409 ``retention.erased``, as a consent recorded on it is, and
    nothing is written: no case, no export in the access log."""
    referral = finished_referral(users, agencies)
    closed_long_ago(referral)
    erase_case(referral.pk, trigger=ErasureTrigger.RETENTION)
    before = (Case.objects.count(), Person.objects.count(), AccessLog.objects.count())

    answer = client_for("bjorn").post(
        reverse("api-case-follow-on", args=[referral.pk]),
        {"process_key": "settling_in", "participants": {"health": agencies["health"].pk}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="nb",
    )

    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "retention.erased"
    assert answer.json()["detail"] == "personopplysningene i saken er slettet"
    assert (Case.objects.count(), Person.objects.count(), AccessLog.objects.count()) == before
    # The case page offers no follow-on on it, and a form sent from an older page says why.
    page = Client()
    page.force_login(users["bjorn"])
    assert 'id="follow-on"' not in page.get(reverse("case", args=[referral.pk])).content.decode()
    sent = page.post(
        reverse("case-follow-on", args=[referral.pk]),
        {"process": "settling_in", "participant_health": agencies["health"].pk},
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert sent.status_code == 409
    assert "personopplysningene i saken er slettet" in sent.content.decode().lower()
    assert Case.objects.count() == before[0]
