"""The person's rights on request through the API: erasure before the retention ends,
correction of a wrong value, the auditor's review; and every other user refused."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from permissions import policy
from permissions.models import AccessLog, Membership, Role
from retention.erasure import erase_case
from retention.models import ArchiveExport, ArchiveStatus, Correction, ErasureRecord, ErasureTrigger
from retention.pseudonyms import person_key
from tests.workflows.helpers import complete, open_tasks, start_prison_case
from workflows import selectors
from workflows.models import Case, CaseStatus, Event, EventKind, Person

from .helpers import NAME, NATIONAL_ID, TRACES, api, archived, corrections_archived, erase, traces

pytestmark = pytest.mark.postgres


def correct(user, case, field, value, reason="Feil registrert; personen ba om retting"):
    body = {"field": field, "value": value, "reason": reason}
    return api(user).post(f"/api/v1/cases/{case.pk}/corrections/", body, format="json")


def review(user, correction_id, approve=True, note=""):
    body = {"approve": approve, "note": note}
    return api(user).post(f"/api/v1/corrections/{correction_id}/review/", body, format="json")


# --- erasure on request ------------------------------------------------------------------


def test_the_coordinator_erases_a_closed_case_on_request(closed_case, users):
    archived(closed_case)
    answer = erase(users["bjorn"], closed_case)
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["trigger"] == "request" and body["requested_by"] == "bjorn" and body["reviewed_at"] is None
    assert traces(*TRACES) == []
    # the request itself is in the access log, with the person as a key like the rest
    row = AccessLog.objects.get(case=closed_case, basis="erasure-request")
    assert (row.username, row.person_id, row.person_key) == ("bjorn", None, person_key(NATIONAL_ID))
    assert erase(users["bjorn"], closed_case).status_code == 409  # once


def test_erasure_is_refused_with_the_reason_while_the_archive_duty_applies(closed_case, users):
    answer = erase(users["bjorn"], closed_case)
    assert answer.status_code == 409
    assert answer.json()["code"] == "retention.archive_duty" and "housing" in answer.json()["detail"]
    assert Person.objects.filter(national_id=NATIONAL_ID, name=NAME).exists()
    assert not ErasureRecord.objects.exists()


def test_an_open_case_is_not_erased(closed_case, users):
    Case.objects.filter(pk=closed_case.pk).update(status=CaseStatus.OPEN, closed_at=None)
    archived(closed_case)
    answer = erase(users["bjorn"], closed_case)
    assert (answer.status_code, answer.json()["code"]) == (409, "retention.case_open")


@pytest.mark.parametrize(
    ("username", "expected"),
    [("kari", 403), ("nils", 403), ("helga", 403), ("aud", 403), ("ada", 404), ("siri", 404), ("oscar", 404)],
)
def test_nobody_but_the_coordinator_erases(closed_case, users, username, expected):
    archived(closed_case)
    assert erase(users[username], closed_case).status_code == expected
    assert not ErasureRecord.objects.exists()


def test_an_erasure_and_a_correction_evict_the_case_s_cached_workflows_in_every_process(closed_case, users):
    """The workflow a process kept after its last step held the data as it was: the erasure
    and the correction each write an eviction every process follows at its next step."""
    from workflows.models import WorkflowEviction

    instances = set(closed_case.instances.values_list("pk", flat=True))
    assert correct(users["bjorn"], closed_case, "person.name", "Torleif Eriksrud-Berg").status_code == 201
    assert set(WorkflowEviction.objects.values_list("instance_id", flat=True)) == instances
    WorkflowEviction.objects.all().delete()
    archived(closed_case)
    assert erase(users["bjorn"], closed_case).status_code == 201
    assert set(WorkflowEviction.objects.values_list("instance_id", flat=True)) == instances


def test_an_erasure_needs_a_reason(closed_case, users):
    archived(closed_case)
    for body in ({}, {"reason": "   "}, {"reason": "x" * 2001}):
        answer = api(users["bjorn"]).post(f"/api/v1/cases/{closed_case.pk}/erasure/", body, format="json")
        assert answer.status_code == 400, body
    assert not ErasureRecord.objects.exists()


# --- the auditor's review ----------------------------------------------------------------


def test_the_auditor_reviews_an_erasure_on_request_once(closed_case, users):
    archived(closed_case)
    record_id = erase(users["bjorn"], closed_case).json()["id"]
    url = f"/api/v1/erasures/{record_id}/review/"
    for username in ("bjorn", "kari", "nils", "ada", "oscar"):
        assert api(users[username]).post(url, {"note": "ok"}, format="json").status_code == 404, username
    answer = api(users["aud"]).post(url, {"note": "Grunnlaget holder (art. 17 nr. 1 b)"}, format="json")
    assert answer.status_code == 200 and answer.json()["reviewed_by"] == "aud"
    assert api(users["aud"]).post(url, {}, format="json").status_code == 409


def test_an_erasure_by_the_retention_job_is_not_a_request_to_review(closed_case, users):
    archived(closed_case)
    Case.objects.filter(pk=closed_case.pk).update(closed_at=timezone.now() - timezone.timedelta(days=6 * 365))
    record = erase_case(closed_case.pk, trigger=ErasureTrigger.RETENTION)
    answer = api(users["aud"]).post(f"/api/v1/erasures/{record.pk}/review/", {}, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "retention.not_request")


# --- what the auditor and the coordinator read ---------------------------------------------


def test_the_retention_of_a_case_shows_no_case_data(closed_case, users):
    archived(closed_case)
    correct(users["bjorn"], closed_case, "person.name", "Torleif Eriksrud-Berg")
    # The corrected case file goes to the archive as a new export before the case may go.
    assert erase(users["bjorn"], closed_case).json()["code"] == "retention.archive_duty"
    corrections_archived(closed_case)
    erase(users["bjorn"], closed_case)
    for username in ("aud", "bjorn"):
        answer = api(users[username]).get(f"/api/v1/cases/{closed_case.pk}/retention/")
        assert answer.status_code == 200
        body = answer.json()
        assert body["erasure"]["trigger"] == "request" and body["rule"] == "default"
        assert [c["field"] for c in body["corrections"]] == []  # erased with the case
        assert "Eriksrud" not in json.dumps(body)
    for username in ("kari", "nils", "ada", "oscar", "siri"):
        assert api(users[username]).get(f"/api/v1/cases/{closed_case.pk}/retention/").status_code == 404


# --- correction on request -------------------------------------------------------------


def test_the_coordinator_corrects_a_form_value_everywhere_but_the_audit_trail(closed_case, users):
    field = next(name for name, value in closed_case.data.items() if isinstance(value, str) and len(value) > 3)
    wrong = closed_case.data[field]
    # a value the field's form accepts: another of its options, or any text
    options = selectors.case_runtime(closed_case).field_validators[field].schema.get("enum") or []
    right = next((option for option in options if option != wrong), "rett verdi")
    answer = correct(users["bjorn"], closed_case, field, right)
    assert answer.status_code == 201, answer.json()
    assert "old_value" not in answer.json() and json.dumps(wrong) not in json.dumps(answer.json())
    closed_case.refresh_from_db()
    assert closed_case.data[field] == right
    state = closed_case.instances.get().state
    assert f'"{field}": "{right}"' in state and json.dumps(wrong) not in state
    assert Correction.objects.get(case=closed_case).old_value == wrong
    event = Event.objects.get(case=closed_case, kind=EventKind.VALUE_CORRECTED)
    assert event.detail == {"field": field, "correction": answer.json()["id"]}
    assert AccessLog.objects.filter(case=closed_case, basis="correction", action="write").count() == 1


def test_the_coordinator_corrects_the_person(closed_case, users):
    assert correct(users["bjorn"], closed_case, "person.name", "Torleif Eriksrud-Berg").status_code == 201
    asked = correct(users["bjorn"], closed_case, "person.national_id", "29822099635")
    assert asked.status_code == 201 and asked.json()["status"] == "waiting"
    assert Case.objects.get(pk=closed_case.pk).person.national_id == NATIONAL_ID  # not before the review
    assert review(users["aud"], asked.json()["id"]).json()["status"] == "done"
    person = Case.objects.get(pk=closed_case.pk).person
    assert (person.name, person.national_id) == ("Torleif Eriksrud-Berg", "29822099635")
    assert Case.objects.get(pk=closed_case.pk).person_name == "Torleif Eriksrud-Berg"
    assert sorted(Correction.objects.values_list("old_value", flat=True)) == [NATIONAL_ID, NAME]


def test_a_national_id_confirmed_after_the_export_goes_to_the_archive_as_a_new_export(closed_case, users):
    """The national id is in the case file: the auditor's confirmation queues a new export
    naming the one it replaces (its own Idempotency-Key); a request the auditor refuses, none."""
    archived(closed_case)
    (first,) = ArchiveExport.objects.filter(case=closed_case)
    refused = correct(users["bjorn"], closed_case, "person.national_id", "29822099635").json()["id"]
    assert review(users["aud"], refused, approve=False, note="Ikke legitimert").json()["status"] == "refused"
    assert ArchiveExport.objects.filter(case=closed_case).count() == 1
    asked = correct(users["bjorn"], closed_case, "person.national_id", "29822099635").json()["id"]
    assert ArchiveExport.objects.filter(case=closed_case).count() == 1  # not before the review
    assert review(users["aud"], asked).json()["status"] == "done"
    (again,) = ArchiveExport.objects.filter(case=closed_case, replaces=first)
    assert again.status == ArchiveStatus.PENDING and again.job_id is not None


def test_a_name_is_corrected_in_its_case_only_when_the_person_has_another(closed_case, users, agencies):
    """The coordinator corrects the name of their case; the person's other case (started
    with another name) keeps its own, and so does the person row: another case's starter
    could otherwise rename someone on file. "The same value" is the case's own name only."""
    other = start_prison_case(users, agencies, person={"name": "Tore Eriksen", "national_id": NATIONAL_ID})
    assert correct(users["bjorn"], closed_case, "person.name", "Tore Eriksen").status_code == 201
    assert Case.objects.get(pk=closed_case.pk).person_name == "Tore Eriksen"
    answer = correct(users["bjorn"], other, "person.name", NAME)  # the person row's name, not the case's
    assert answer.status_code == 201, answer.json()
    assert Case.objects.get(pk=other.pk).person_name == NAME
    assert Person.objects.get(national_id=NATIONAL_ID).name == NAME  # as the first case gave it
    assert Correction.objects.get(case=other).old_value == "Tore Eriksen"
    same = correct(users["bjorn"], other, "person.name", NAME)
    assert same.status_code == 400 and "retention.same_value" in json.dumps(same.json())


@pytest.mark.parametrize(
    ("field", "value", "code_field"),
    [
        ("person.national_id", "12345678901", "value"),
        ("person.name", "", "value"),
        ("no_such_field", "x", "field"),
        ("has_home", "ja", "value"),  # a boolean stays a boolean
        ("has_home", False, "value"),  # the same value
    ],
)
def test_a_bad_correction_is_refused_naming_the_field(closed_case, users, field, value, code_field):
    answer = correct(users["bjorn"], closed_case, field, value)
    assert answer.status_code == 400, answer.json()
    assert [error["field"] for error in answer.json()["errors"]] == [code_field]
    assert not Correction.objects.exists()


def test_a_case_has_at_most_so_many_corrections(closed_case, users, settings):
    """Each correction keeps the old value and a reason: corrected back and forth, a value
    added rows for ever. Past the limit: 400 naming ``field``, coded, nothing written."""
    settings.CORRECTION_CASE_MAX_COUNT = 2
    for name in ("Torleif Eriksrud-Berg", NAME):
        assert correct(users["bjorn"], closed_case, "person.name", name).status_code == 201
    events, logs = Event.objects.filter(case=closed_case).count(), AccessLog.objects.filter(case=closed_case).count()
    answer = api(users["bjorn"]).post(
        f"/api/v1/cases/{closed_case.pk}/corrections/",
        {"field": "person.name", "value": "Tredje Navn", "reason": "Feil"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error == {
        "field": "field",
        "code": "retention.corrections_full",
        "message": "etaten din har gjort 2 rettinger i saken, så mange som én etat kan gjøre",
    }
    assert Correction.objects.filter(case=closed_case).count() == 2
    assert Case.objects.get(pk=closed_case.pk).person.name == NAME
    assert Event.objects.filter(case=closed_case).count() == events
    assert AccessLog.objects.filter(case=closed_case).count() == logs


@pytest.mark.parametrize(
    ("username", "expected"),
    [("kari", 403), ("nils", 403), ("aud", 403), ("ada", 404), ("siri", 404), ("oscar", 404)],
)
def test_nobody_but_the_coordinator_corrects(closed_case, users, username, expected):
    assert correct(users[username], closed_case, "person.name", "Someone Else").status_code == expected
    assert Case.objects.get(pk=closed_case.pk).person.name == NAME


def test_an_erased_case_is_not_corrected(closed_case, users):
    archived(closed_case)
    erase(users["bjorn"], closed_case)
    assert correct(users["bjorn"], closed_case, "person.name", "Ny").status_code == 409


def test_a_corrected_value_must_be_one_the_form_accepts(closed_case, users):
    answer = correct(users["bjorn"], closed_case, "housing_situation", "finnes_ikke")
    assert answer.status_code == 400
    assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [("value", "schema.enum")]
    assert "finnes_ikke" not in json.dumps(answer.json())  # values travel in no error text
    assert Case.objects.get(pk=closed_case.pk).data["housing_situation"] == "uten_bolig"
    assert not Correction.objects.exists()


def _masked_for(user, case):
    """A field of the case's process whose category ``user`` does not see, given a value."""
    fields = selectors.case_field_rules(case)
    views = policy.case_data_for(user, case, fields, log=False)
    name = next(
        name
        for name, category in sorted(fields.fields.items())
        if category in ("health", "justice")
        and name not in case.data
        and not getattr(views.get(category), "visible", False)
    )
    Case.objects.filter(pk=case.pk).update(data={**case.data, name: "Hemmelig diagnose"})
    case.refresh_from_db()
    views = policy.case_data_for(user, case, fields, log=False)
    assert not policy.sees_field(views, fields, name)
    return name


def test_a_value_masked_for_the_coordinator_is_neither_corrected_nor_compared(closed_case, users):
    # Attack: bjorn (no consent for health or justice) guessed the masked value; "the same
    # as the old one" confirmed the guess, and another guess overwrote it unseen.
    name = _masked_for(users["bjorn"], closed_case)
    answers = [correct(users["bjorn"], closed_case, name, guess) for guess in ("Hemmelig diagnose", "Noe annet", 3)]
    answers.append(correct(users["bjorn"], closed_case, "no_such_field", "Hemmelig diagnose"))
    for answer in answers:  # one answer, as for a field the case does not have
        assert answer.status_code == 400
        assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [("field", "retention.unknown_field")]
    assert Case.objects.get(pk=closed_case.pk).data[name] == "Hemmelig diagnose"
    assert not Correction.objects.exists()


def test_the_national_id_is_not_confirmed_by_a_correction(closed_case, users):
    # The coordinator sees the national id masked: the same number is no "same value" oracle.
    answer = correct(users["bjorn"], closed_case, "person.national_id", NATIONAL_ID)
    assert answer.status_code == 201 and answer.json()["status"] == "waiting"
    assert "retention.same_value" not in json.dumps(answer.json())
    # one waits at a time (whatever the number: the refusal tells nothing about it)
    again = correct(users["bjorn"], closed_case, "person.national_id", "29822099635")
    assert again.status_code == 409 and "29822099635" not in json.dumps(again.json())


OTHER_ID, FREE_ID = "29822099635", "05840399895"  # synthetic (domain.md)


def _comparable(answer):
    body = answer.json()
    return answer.status_code, sorted(body), body["status"], body["field"], body["category"]


def test_a_national_id_correction_does_not_tell_whether_another_person_holds_it(closed_case, users, agencies):
    # Attack: the coordinator probes whether someone is a client of these services by
    # "correcting" a case's national id to their number.
    Person.objects.create(name="Annen Person", national_id=OTHER_ID)
    second = start_prison_case(users, agencies, person={"name": "Tredje Person", "national_id": "57912075186"})
    taken = correct(users["bjorn"], closed_case, "person.national_id", OTHER_ID)
    free = correct(users["bjorn"], second, "person.national_id", FREE_ID)
    assert (
        _comparable(taken)
        == _comparable(free)
        == (taken.status_code, sorted(free.json()), "waiting", "person.national_id", "identity")
    )
    assert taken.status_code == 201 and OTHER_ID not in json.dumps(taken.json())
    assert Case.objects.get(pk=closed_case.pk).person.national_id == NATIONAL_ID  # nothing changed yet
    assert not Event.objects.filter(kind=EventKind.VALUE_CORRECTED).exists()

    # nobody but the coordinating agency's auditor decides (404: not theirs to see)
    for username in ("bjorn", "kari", "nils", "ada"):
        assert review(users[username], taken.json()["id"]).status_code == 404
    # the auditor is told; the coordinator still reads "waiting", as before the decision, and
    # no review in the case's log (the merge or refusal comes next: tests/retention/test_person_merge.py)
    assert review(users["aud"], taken.json()["id"]).json()["status"] == "merge"
    assert review(users["aud"], free.json()["id"]).json()["status"] == "done"
    assert review(users["aud"], taken.json()["id"]).status_code == 409  # decided once
    assert Case.objects.get(pk=closed_case.pk).person.national_id == NATIONAL_ID
    assert Person.objects.get(national_id=OTHER_ID).name == "Annen Person"
    assert Case.objects.get(pk=second.pk).person.national_id == FREE_ID
    statuses = api(users["bjorn"]).get(f"/api/v1/cases/{closed_case.pk}/retention/").json()["corrections"]
    assert [c["status"] for c in statuses] == ["waiting"] and OTHER_ID not in json.dumps(statuses)
    assert not AccessLog.objects.filter(case=closed_case, basis="correction", action="review").exists()
    assert AccessLog.objects.filter(person__national_id=OTHER_ID, case=None, action="review", username="aud").exists()
    # one waits at a time, as for any waiting correction
    assert correct(users["bjorn"], closed_case, "person.national_id", FREE_ID).status_code == 409


def test_the_auditor_refuses_a_national_id_and_nothing_changes(closed_case, users):
    asked = correct(users["bjorn"], closed_case, "person.national_id", FREE_ID).json()
    assert review(users["aud"], asked["id"], approve="kanskje").status_code == 400
    refused = review(users["aud"], asked["id"], approve=False, note="Ikke dokumentert")
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert Case.objects.get(pk=closed_case.pk).person.national_id == NATIONAL_ID
    correction = Correction.objects.get(pk=asked["id"])
    assert correction.new_value is None and correction.review_note == "Ikke dokumentert"
    # decided: the coordinator may ask again
    assert correct(users["bjorn"], closed_case, "person.national_id", FREE_ID).status_code == 201


def test_the_retention_page_offers_only_the_values_the_coordinator_sees(closed_case, users, client):
    name = _masked_for(users["bjorn"], closed_case)
    client.force_login(users["bjorn"])
    page = client.get(f"/cases/{closed_case.pk}/retention/")
    assert page.status_code == 200
    assert "has_home" in page.content.decode() or "housing_situation" in page.content.decode()
    assert name not in page.content.decode()
    chosen = client.get(f"/cases/{closed_case.pk}/retention/", {"field": name})
    assert 'name="value"' not in chosen.content.decode()  # no form for it (the URL names it, nothing else)


# --- who corrects which value --------------------------------------------------------------


@pytest.fixture
def worked_case(case, users):
    """An open prison case after the intake (the prison records the housing situation), NAV's
    economy assessment and the housing office's application."""
    for element in ("Task_intake_interview", "Task_economy_assessment", "Task_housing_application"):
        complete(next(task for task in open_tasks(case) if task.element_id == element))
    case.refresh_from_db()
    return case


def _flip(user, case, field):
    return correct(user, case, field, not Case.objects.get(pk=case.pk).data[field])


def test_on_an_open_case_each_agency_corrects_what_it_recorded(worked_case, users):
    case = worked_case
    before = dict(case.data)
    # the coordinator: neither the prison's housing situation nor NAV's economy assessment
    for field in ("has_home", "benefits_applied"):
        refused = _flip(users["bjorn"], case, field)
        assert refused.status_code == 403, refused.json()
        assert json.dumps(before[field]) not in refused.json()["detail"]
    assert Case.objects.get(pk=case.pk).data == before
    assert not Correction.objects.exists()
    assert not AccessLog.objects.filter(case=case, basis="correction").exists()
    # the prison does not see NAV's economy: it answers as a value the case does not have
    masked = _flip(users["kari"], case, "benefits_applied")
    assert [(e["field"], e["code"]) for e in masked.json()["errors"]] == [("field", "retention.unknown_field")]
    # and only the coordinator corrects the person
    assert correct(users["kari"], case, "person.name", "Someone Else").status_code == 403
    # each corrects its own: the prison, NAV, the housing office (the coordinator's agency)
    assert _flip(users["kari"], case, "has_home").status_code == 201
    assert _flip(users["nils"], case, "benefits_applied").status_code == 201
    options = selectors.case_runtime(case).field_validators["housing_application_type"].schema["enum"]
    other = next(option for option in options if option != case.data["housing_application_type"])
    assert correct(users["bjorn"], case, "housing_application_type", other).status_code == 201
    assert correct(users["bjorn"], case, "person.name", "Torleif Eriksrud-Berg").status_code == 201
    logged = AccessLog.objects.filter(case=case, basis="correction", username="kari").get()
    event = Event.objects.get(case=case, kind=EventKind.VALUE_CORRECTED, actor__username="kari")
    assert logged.agency.kind == event.agency.kind == "prison"  # for the agency that recorded it
    who = dict(Correction.objects.values_list("field", "corrected_by__username"))
    assert who == {
        "has_home": "kari",
        "benefits_applied": "nils",
        "housing_application_type": "bjorn",
        "person.name": "bjorn",
    }


def test_one_agency_filling_its_room_for_corrections_leaves_the_others_theirs(worked_case, users, settings):
    """The room is counted per agency: the prison correcting its value back and forth up to
    the limit does not block NAV's nor the coordinator's corrections of the same case."""
    settings.CORRECTION_CASE_MAX_COUNT = 2
    case = worked_case
    for _ in range(2):
        assert _flip(users["kari"], case, "has_home").status_code == 201
    full = _flip(users["kari"], case, "has_home")
    assert full.status_code == 400
    assert [(e["field"], e["code"]) for e in full.json()["errors"]] == [("field", "retention.corrections_full")]
    assert _flip(users["nils"], case, "benefits_applied").status_code == 201
    assert correct(users["bjorn"], case, "person.name", "Torleif Eriksrud-Berg").status_code == 201
    counted = sorted(Correction.objects.filter(case=case).values_list("agency__kind", flat=True))
    assert counted == ["housing", "nav", "prison", "prison"]


def test_on_a_closed_case_the_coordinator_corrects_the_case_file_but_not_another_agency_s_economy(worked_case, users):
    Case.objects.filter(pk=worked_case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    assert _flip(users["bjorn"], worked_case, "benefits_applied").status_code == 403
    assert _flip(users["bjorn"], worked_case, "has_home").status_code == 201  # housing: the case file
    assert _flip(users["nils"], worked_case, "benefits_applied").status_code == 201  # NAV's own, still
    assert sorted(Correction.objects.values_list("field", flat=True)) == ["benefits_applied", "has_home"]


def test_a_withdrawn_agency_s_values_are_corrected_by_the_coordinator_with_a_reason_and_logged(worked_case, users):
    """Withdrawn, NAV's people no longer see the case: its economy value would be corrected
    by nobody. The coordinator corrects it (open case, any category they see), logged for the
    coordinating agency; nobody else does."""
    from workflows import services as workflow_services

    case = worked_case
    workflow_services.withdraw_agency(
        actor=users["bjorn"], case=case.pk, agency=case.participants.get(kind="nav").agency_id, reason="Avsluttet"
    )
    assert _flip(users["nils"], case, "benefits_applied").status_code == 404  # withdrawn: not seen at all
    assert _flip(users["kari"], case, "benefits_applied").status_code == 400  # masked for the prison
    assert correct(users["bjorn"], case, "benefits_applied", True, reason="").status_code == 400  # a reason
    assert not Correction.objects.exists()
    answer = _flip(users["bjorn"], case, "benefits_applied")
    assert answer.status_code == 201, answer.json()
    correction = Correction.objects.get()
    assert (correction.field, correction.corrected_by, correction.reason) == (
        "benefits_applied",
        users["bjorn"],
        "Feil registrert; personen ba om retting",
    )
    logged = AccessLog.objects.get(case=case, basis="correction")
    assert (logged.username, logged.agency_id, logged.role) == ("bjorn", case.coordinator_agency_id, Role.COORDINATOR)
    event = Event.objects.get(case=case, kind=EventKind.VALUE_CORRECTED)
    assert event.agency_id == case.coordinator_agency_id
    # the prison, still taking part, corrects its own and the coordinator still does not
    assert _flip(users["bjorn"], case, "has_home").status_code == 403


def test_another_agency_s_correction_of_a_value_masked_for_the_coordinator_is_not_shown_to_them(worked_case, users):
    """Helga corrects a health value the coordinator does not see: the coordinator's retention
    answer and page name neither that field nor her reason, nor does a participant's timeline;
    an auditor of the health agency still reviews it."""
    from tests.clients import web

    case = worked_case
    complete(next(task for task in open_tasks(case) if task.element_id == "Task_health_follow_up_plan"))
    field, reason = "substance_use_follow_up", "Personen ba om retting av rusoppfølgingen"
    assert _flip(users["bjorn"], case, field).status_code == 400  # masked for the coordinator
    assert correct(users["helga"], case, field, not Case.objects.get(pk=case.pk).data[field], reason).status_code == 201

    answer = api(users["bjorn"]).get(f"/api/v1/cases/{case.pk}/retention/")
    assert answer.status_code == 200
    assert field not in json.dumps(answer.json()) and reason not in json.dumps(answer.json())
    page = web(users["bjorn"]).get(f"/cases/{case.pk}/retention/").content.decode()
    assert "Behov for oppfølging for rus" not in page and reason not in page
    timeline = api(users["nils"]).get(f"/api/v1/cases/{case.pk}/timeline/")
    assert timeline.status_code == 200 and field not in json.dumps(timeline.json())
    # the health agency's own people still see what they corrected
    mine = api(users["helga"]).get(f"/api/v1/cases/{case.pk}/timeline/")
    assert field in json.dumps(mine.json())


def test_the_erasure_answer_does_not_tell_the_coordinator_whether_the_person_has_other_cases(
    closed_case, users, agencies
):
    """Before, ``removed`` counted "persons": 1 when the case was the person's last, "person_names":
    1 when it was the first of several, and the rows about the person without a case among
    the pseudonymised ones: a coordinator who started a case with any national id learned from
    its erasure whether the person was a client elsewhere. The case's auditors, who review the
    erasure for the coordinating agency, are still told all of it; another agency's auditor
    is told what the coordinator is."""
    other = {"name": "Per Hansen", "national_id": "29822099635"}
    with_another = start_prison_case(users, agencies, person=other)
    start_prison_case(users, agencies, person={**other, "name": "P. Hansen"})  # the person's later case
    Case.objects.filter(pk=with_another.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    archived(closed_case, with_another)
    told, told_counts = {}, {}
    for case in (closed_case, with_another):  # the person's only case; the first of two
        answer = erase(users["bjorn"], case)
        assert answer.status_code == 201, answer.json()
        retention = api(users["bjorn"]).get(f"/api/v1/cases/{case.pk}/retention/").json()
        assert retention["erasure"]["removed"] == answer.json()["removed"]
        told[case.pk] = set(answer.json()["removed"])
        told_counts[case.pk] = answer.json()["removed"]
    person_wide = {"persons", "person_names", "person_admin_log_entries", "person_access_log_rows_pseudonymised"}
    assert not (told[closed_case.pk] | told[with_another.pk]) & person_wide
    assert "access_log_rows_pseudonymised" in told[closed_case.pk] & told[with_another.pk]
    audited = api(users["aud"]).get(f"/api/v1/cases/{closed_case.pk}/retention/").json()
    assert audited["erasure"]["removed"]["persons"] == 1
    audited = api(users["aud"]).get(f"/api/v1/cases/{with_another.pk}/retention/").json()
    assert audited["erasure"]["removed"]["person_names"] == 1
    # An auditor of another agency in the case reviews the erasure from the case's own counts:
    # only the coordinating agency's auditors, who decide national ids, learn of other cases.
    nav_auditor = get_user_model().objects.create_user("nav-revisor", password="x")
    Membership.objects.create(user=nav_auditor, agency=agencies["nav"], role=Role.AUDITOR)
    for case in (closed_case, with_another):
        reviewed = api(nav_auditor).get(f"/api/v1/cases/{case.pk}/retention/")
        assert reviewed.status_code == 200
        assert reviewed.json()["erasure"]["removed"] == told_counts[case.pk]
