"""The coordinator withdraws an agency from a case (``services.withdraw_agency``), through
``POST /api/v1/cases/{id}/withdrawals/`` and the case page.

What users rely on: from the answer on, the withdrawn agency's people see the case nowhere
(404 on the case, its tasks, notes and attachments; gone from the lists) and can act on
nothing in it; the withdrawal is in the timeline with its reason and in the access log for
the auditor; nobody but the case's coordinator can withdraw, the coordinating agency is
never withdrawn, and an agency holding open tasks is refused (409) with the tasks named.
"""

import pytest
from django.test import Client

from permissions import rules
from permissions.models import AccessLog, CaseGroupObjectPermission, Membership, Role
from tests.ids import tid
from tests.workflows.helpers import open_tasks, start_prison_case
from workflows.models import Case, CaseStatus, Event, EventKind

from .test_notes_api import PDF, post_file, post_note

pytestmark = pytest.mark.django_db

REASON = "Helsetjenesten har avsluttet oppfølgingen"


@pytest.fixture
def case(users, agencies, shipped):
    """The prison case: the prison holds the open intake; NAV, health and housing hold none."""
    return start_prison_case(users, agencies)


def url(case):
    return f"/api/v1/cases/{case.pk}/withdrawals/"


def withdraw(client, case, agency, reason=REASON, **headers):
    return client.post(url(case), {"agency": agency.pk, "reason": reason}, format="json", **headers)


def standing(case):
    """Who takes part and holds the grant, what the timeline and the access log say."""
    return (
        sorted(case.participants.values_list("agency_id", flat=True)),
        CaseGroupObjectPermission.objects.filter(content_object_id=case.pk).count(),
        Event.objects.filter(case=case).count(),
        AccessLog.objects.filter(case=case).count(),
    )


def page_client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_withdrawn_agency_loses_the_case_at_once_and_the_withdrawal_is_recorded(client_for, case, users, agencies):
    helga, health = client_for("helga"), agencies["health"]
    intake = open_tasks(case)[0]
    note = post_note(helga, case).json()["id"]
    attachment = post_file(helga, case, PDF).json()["id"]
    readable = [
        f"/api/v1/cases/{case.pk}/",
        f"/api/v1/cases/{case.pk}/timeline/",
        f"/api/v1/cases/{case.pk}/notes/",
        f"/api/v1/cases/{case.pk}/notes/{note}/",
        f"/api/v1/cases/{case.pk}/attachments/{attachment}/content/",
        f"/api/v1/tasks/{tid(intake.pk)}/",
    ]
    assert [helga.get(path).status_code for path in readable] == [200] * len(readable)
    assert tid(intake.pk) in {row["id"] for row in helga.get("/api/v1/tasks/").json()["results"]}

    answer = withdraw(client_for("bjorn"), case, health)

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["agency"] == {"id": health.pk, "name": health.name, "kind": "health"} and body["reason"] == REASON
    assert not case.participants.filter(agency=health).exists()
    assert not rules.can_view_case(users["helga"], Case.objects.get(pk=case.pk))
    assert [helga.get(path).status_code for path in readable] == [404] * len(readable)
    assert helga.get("/api/v1/cases/").json()["results"] == []
    assert helga.get("/api/v1/tasks/").json()["results"] == []
    web = page_client(users["helga"])
    assert web.get(f"/cases/{case.pk}/").status_code == 404
    assert list(web.get("/cases/").context["cases"]) == []
    # Acting on the case: 404 (it is not theirs to see), and nothing changes.
    before = standing(case)
    assert helga.post(f"/api/v1/tasks/{tid(intake.pk)}/claim/").status_code == 404
    assert helga.post(f"/api/v1/tasks/{tid(intake.pk)}/complete/", {"data": {}}, format="json").status_code == 404
    assert post_note(helga, case).status_code == 404
    assert standing(case) == before

    # The timeline (for those who still work the case) names the agency; the reason only to
    # the coordinating agency (``test_the_withdrawal_s_reason_is_the_coordinating_agency_s``).
    events = client_for("nils").get(f"/api/v1/cases/{case.pk}/timeline/").json()["results"]
    (withdrawn,) = [e for e in events if e["kind"] == EventKind.AGENCY_WITHDRAWN]
    assert withdrawn["agency"]["id"] == health.pk and "reason" not in withdrawn["detail"]
    assert withdrawn["actor"] == "bjorn"
    # The auditor reads it in the case's access log.
    log = client_for("aud").get(f"/api/v1/cases/{case.pk}/access-log/").json()["results"]
    (row,) = [r for r in log if r["action"] == "withdraw_agency"]
    assert (row["username"], row["role"], row["agency"]["id"], row["item"], row["basis"]) == (
        "bjorn",
        Role.COORDINATOR,
        agencies["housing"].pk,
        f"agency:{health.pk}",
        rules.BASIS_COORDINATOR,
    )


def test_an_agency_with_open_tasks_is_not_withdrawn_and_the_tasks_are_named_in_bokmal(client_for, case, agencies):
    before = standing(case)
    (intake,) = open_tasks(case)

    english = withdraw(client_for("bjorn"), case, agencies["prison"])
    bokmal = withdraw(client_for("bjorn"), case, agencies["prison"], HTTP_ACCEPT_LANGUAGE="nb")

    assert (english.status_code, bokmal.status_code) == (409, 409)
    assert english.json()["code"] == "participant.open_tasks"
    assert f"«{intake.name}»" in english.json()["detail"] and "still has open tasks" in english.json()["detail"]
    assert bokmal.json()["detail"] == (
        f"{agencies['prison'].name} har fortsatt åpne oppgaver i saken: «{intake.name}». "
        "De må gjøres ferdig før etaten trekkes ut av saken"
    )
    assert standing(case) == before


NOT_THE_COORDINATOR = {
    "nils": 403,  # another agency's caseworker: sees the case, may not withdraw
    "helga": 403,  # the agency itself
    "kari": 403,
    "lise": 403,  # the housing agency's lead, not its coordinator
    "nina": 404,  # a leader: aggregates only, never the case
    "aud": 404,  # an auditor reads the log, never the case
    "ada": 404,
    "oscar": 404,
}


def test_the_withdrawal_s_reason_is_the_coordinating_agency_s(client_for, case, users, agencies):
    # Free text with no category (restricted, design §6): "the health service ended the
    # follow-up" tells NAV and the prison of health. They read that health was withdrawn.
    assert withdraw(client_for("bjorn"), case, agencies["health"]).status_code == 201
    for name, reads in (("bjorn", True), ("hanne", True), ("nils", False), ("kari", False)):
        events = client_for(name).get(f"/api/v1/cases/{case.pk}/timeline/").json()["results"]
        (withdrawn,) = [e for e in events if e["kind"] == EventKind.AGENCY_WITHDRAWN]
        assert withdrawn["agency"]["id"] == agencies["health"].pk
        assert (withdrawn["detail"].get("reason") == REASON) is reads, name
        page = page_client(users[name]).get(f"/cases/{case.pk}/sections/events/")
        assert page.status_code == 200 and (REASON in page.content.decode()) is reads, name


@pytest.mark.parametrize("username", sorted(NOT_THE_COORDINATOR))
def test_nobody_but_the_coordinator_withdraws_an_agency(client_for, case, users, agencies, username):
    before = standing(case)
    answer = withdraw(client_for(username), case, agencies["health"])
    page = page_client(users[username]).post(
        f"/cases/{case.pk}/withdrawals/", {"agency": agencies["health"].pk, "reason": REASON}
    )
    assert (answer.status_code, page.status_code) == (NOT_THE_COORDINATOR[username],) * 2
    assert "Helsetjenesten" not in answer.content.decode()
    assert standing(case) == before


def test_a_second_coordinator_of_another_agency_cannot_withdraw_either(client_for, case, users, agencies):
    """A coordinator in NAV (not the case's coordinating agency) sees the case but may not."""
    Membership.objects.create(user=users["nils"], agency=agencies["nav"], role=Role.COORDINATOR)
    before = standing(case)
    assert withdraw(client_for("nils"), case, agencies["health"]).status_code == 403
    assert standing(case) == before


def test_the_coordinating_agency_is_never_withdrawn(client_for, case, users, agencies):
    before = standing(case)
    answer = withdraw(client_for("bjorn"), case, agencies["housing"])
    assert answer.status_code == 403 and answer.json()["code"] == "participant.coordinator_stays"
    assert standing(case) == before
    assert rules.can_view_case(users["bjorn"], Case.objects.get(pk=case.pk))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agency": "hospital", "reason": REASON}, "agency"),
        ({"reason": REASON}, "agency"),
        ({"agency": 2**70, "reason": REASON}, "agency"),
        ({"agency": 1}, "reason"),
        ({"agency": 1, "reason": "   "}, "reason"),
        ({"agency": 1, "reason": "x" * 4001}, "reason"),
    ],
)
def test_bad_input_is_400_naming_the_field(client_for, case, agencies, body, field):
    body = {**body, "agency": agencies["health"].pk} if body.get("agency") == 1 else body
    before = standing(case)
    answer = client_for("bjorn").post(url(case), body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in {error["field"] for error in answer.json()["errors"]}
    assert standing(case) == before


def test_an_agency_not_in_the_case_is_400_and_a_body_that_is_no_object_too(client_for, case, agencies):
    before = standing(case)
    answer = withdraw(client_for("bjorn"), case, agencies["hospital"])
    assert answer.status_code == 400 and [e["field"] for e in answer.json()["errors"]] == ["agency"]
    assert client_for("bjorn").post(url(case), [1, 2], format="json").status_code == 400
    assert standing(case) == before


def test_a_closed_case_is_409(client_for, case, agencies):
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED)
    before = standing(case)
    assert withdraw(client_for("bjorn"), case, agencies["health"]).status_code == 409
    assert standing(case) == before


def test_the_case_page_withdraws_and_refuses_in_bokmal(case, users, agencies):
    bjorn = page_client(users["bjorn"])
    page = bjorn.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="withdraw-agency"' in page and "Trekk en etat ut av saken" in page
    assert 'id="withdraw-agency"' not in page_client(users["nils"]).get(f"/cases/{case.pk}/").content.decode()

    refused = bjorn.post(
        f"/cases/{case.pk}/withdrawals/", {"agency": agencies["prison"].pk, "reason": REASON}, follow=True
    )
    (intake,) = open_tasks(case)
    assert f"har fortsatt åpne oppgaver i saken: «{intake.name}»" in refused.content.decode()
    assert case.participants.filter(agency=agencies["prison"]).exists()

    missing = bjorn.post(f"/cases/{case.pk}/withdrawals/", {"agency": agencies["health"].pk, "reason": ""})
    assert missing.status_code == 400 and "feltet må fylles ut" in missing.content.decode()

    done = bjorn.post(
        f"/cases/{case.pk}/withdrawals/", {"agency": agencies["health"].pk, "reason": REASON}, follow=True
    )
    text = done.content.decode()
    assert f"{agencies['health'].name} er trukket ut av saken" in text
    events = bjorn.get(f"/cases/{case.pk}/sections/events/", HTTP_HX_REQUEST="true").content.decode()
    assert REASON in events  # the timeline's list, opened, says why
    assert page_client(users["helga"]).get(f"/cases/{case.pk}/").status_code == 404


def test_a_withdrawal_costs_the_same_queries_however_much_the_case_holds(client_for, users, agencies, shipped):
    """Queries of the withdrawal for a new case and for one with many notes, events, tasks
    and access-log rows: the same number (nothing is read per row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.workflows.helpers import complete

    quiet = start_prison_case(users, agencies)
    busy = start_prison_case(users, agencies, person={"name": "Per Hansen", "national_id": "05840399895"})
    complete(open_tasks(busy)[0], {"has_home": False}, actor=users["kari"])  # NAV's, health's and housing's follow
    (health_plan,) = [task for task in open_tasks(busy) if task.agency_id == agencies["health"].pk]
    complete(health_plan, actor=users["helga"])  # done: health may be withdrawn
    for _ in range(8):
        post_note(client_for("helga"), busy)
        client_for("nils").get(f"/api/v1/cases/{busy.pk}/")
    bjorn = client_for("bjorn")
    counts = []
    for case in (quiet, busy):
        with CaptureQueriesContext(connection) as queries:
            assert withdraw(bjorn, case, agencies["health"]).status_code == 201
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_consents_to_a_withdrawn_agency_do_not_count_again_if_it_were_added_back(users, agencies, prison_case):
    """The withdrawal revokes the consents given to the agency itself (each with its timeline
    event): no route adds an agency back, but one that did (as a case's start adds them) would
    otherwise have it read again what the person agreed to share for work it had stopped."""
    from permissions.grants import grant_agency_access
    from permissions.models import CaseParticipant, LegalBasis
    from workflows.selectors import case_field_rules
    from workflows.services import record_consent, withdraw_agency

    bjorn, nils, nav = users["bjorn"], users["nils"], agencies["nav"]
    consent = record_consent(
        actor=bjorn,
        case=prison_case,
        agency=nav,
        categories=["health"],
        purpose="Oppfølging etter løslatelse",
        legal_basis=LegalBasis.objects.get(law="forvaltningsloven", paragraph="§ 13 a nr. 1"),
    )
    assert rules.can_see_category(nils, prison_case, "health", case_field_rules(prison_case)).allowed

    withdraw_agency(actor=bjorn, case=prison_case, agency=nav.pk, reason=REASON)
    CaseParticipant.objects.create(case=prison_case, kind="nav", agency=nav)  # as a case's start adds one
    grant_agency_access(prison_case, [nav])
    rules.forget_case_access(prison_case)
    case = Case.objects.get(pk=prison_case.pk)

    assert rules.can_view_case(nils, case)
    assert not rules.can_see_category(nils, case, "health", case_field_rules(case)).allowed
    consent.refresh_from_db()
    assert consent.revoked_at is not None and consent.revoked_by == bjorn
    assert Event.objects.filter(case=case, kind=EventKind.CONSENT_REVOKED, detail__consent=consent.pk).exists()
