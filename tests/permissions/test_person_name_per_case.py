"""A name per case (``Case.person_name``). One person row serves every case with their
national id, so its name told a starter who typed a number on file (with any name) whose
number it was, and that the services know them. The starter is now shown the name they
typed, everywhere; the person row keeps its name, and the cases of others keep theirs."""

import pytest

from permissions.models import Membership, Role
from tests.api.conftest import SMALL_FORM, small_model
from tests.clients import api, web
from tests.ids import tid
from workflows import services
from workflows.models import ACTIVE_TASK_STATUSES, Case, Person, Task

pytestmark = pytest.mark.django_db

KARI = {"name": "Kari Nordmann", "national_id": "29822099635"}
TYPED = "Test Testesen"
DISCHARGE_KINDS = ("hospital", "health", "nav", "housing")
PRISON_KINDS = ("prison", "nav", "health", "housing")


@pytest.fixture
def kari_at_the_hospital(users, agencies, shipped):
    """Kari Nordmann's case of the hospital (agency A): the prison (B) takes no part in it."""
    return services.start_case(
        actor=users["siri"],
        process_key="institution_discharge_to_housing",
        person=KARI,
        participants={kind: agencies[kind].pk for kind in DISCHARGE_KINDS},
    )


def start_over_api(user, agencies, name):
    answer = api(user).post(
        "/api/v1/cases/",
        {
            "process_key": "prison_release_to_housing",
            "person": {"name": name, "national_id": KARI["national_id"]},
            "participants": {kind: agencies[kind].pk for kind in PRISON_KINDS},
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    return Case.objects.get(pk=answer.json()["id"]), answer


def start_over_the_form(user, agencies, name):
    answer = web(user).post(
        "/cases/new/",
        {
            "process": "prison_release_to_housing",
            "person_name": name,
            "national_id": KARI["national_id"],
            **{f"participant_{kind}": agencies[kind].pk for kind in PRISON_KINDS},
        },
    )
    case = Case.objects.order_by("-id").first()
    assert answer.status_code == 302 and answer["Location"] == f"/cases/{case.pk}/"
    return case, answer


STARTS = {"api": start_over_api, "form": start_over_the_form}


def what_the_starter_gets(user, case, start_answer) -> dict[str, str]:
    """Every answer the starter gets about their case: {what: body}."""
    tasks = list(Task.objects.filter(case=case, status__in=ACTIVE_TASK_STATUSES))
    assert tasks, "the case has a task for the starter to open"
    client, page = api(user), web(user)
    gets = {
        "start answer": start_answer,
        "case (API)": client.get(f"/api/v1/cases/{case.pk}/"),
        "timeline (API)": client.get(f"/api/v1/cases/{case.pk}/timeline/"),
        "tasks of the case (API)": client.get(f"/api/v1/tasks/?case={case.pk}"),
        "tasks (API)": client.get("/api/v1/tasks/"),
        "case list (API)": client.get("/api/v1/cases/"),
        "search (API)": client.get("/api/v1/cases/", {"q": TYPED}),
        "person (API)": client.get(f"/api/v1/cases/{case.pk}/person/"),
        "case page": page.get(f"/cases/{case.pk}/"),
        "inbox": page.get("/tasks/"),
        "case list": page.get("/cases/"),
        "search": page.get("/cases/", {"q": TYPED}),
        "person page of the case": page.get(f"/cases/{case.pk}/person/"),
        "today": page.get("/today/"),
    }
    for task in tasks:
        gets[f"task {task.pk} (API)"] = client.get(f"/api/v1/tasks/{tid(task.pk)}/")
        gets[f"task {task.pk} page"] = page.get(f"/tasks/{tid(task.pk)}/")
    for section in ("events", "access-log", "consent-form", "follow-on", "withdraw"):
        gets[f"section {section}"] = page.get(f"/cases/{case.pk}/sections/{section}/")
    assert gets["case page"].status_code == 200 and gets["case (API)"].status_code == 200
    return {what: answer.content.decode() for what, answer in gets.items()}


@pytest.mark.parametrize("how", sorted(STARTS))
def test_a_starter_who_types_a_national_id_on_file_learns_neither_the_name_nor_the_client(
    users, agencies, kari_at_the_hospital, how
):
    case, answer = STARTS[how](users["kari"], agencies, TYPED)

    bodies = what_the_starter_gets(users["kari"], case, answer)
    assert {what for what, body in bodies.items() if KARI["name"] in body} == set()
    shown = {
        "case (API)",
        "case page",
        "inbox",
        "case list",
        "search",
        "person (API)",
        "person page of the case",
        *(what for what in bodies if what.startswith("task ")),
    }
    assert {what for what in shown if TYPED not in bodies[what]} == set()
    # Nor does a page link to the person by their id, nor an answer give it: an id older
    # than a new person's would tell that they were on file.
    assert {what for what, body in bodies.items() if "/people/" in body} == set()
    assert "id" not in api(users["kari"]).get(f"/api/v1/cases/{case.pk}/person/").json()
    # The stored name finds nothing of theirs: a search by it would tell it too.
    for search in (
        api(users["kari"]).get("/api/v1/cases/", {"q": KARI["name"]}),
        web(users["kari"]).get("/cases/", {"q": KARI["name"]}),
    ):
        assert case.reference not in search.content.decode()
    # The person on file keeps their name, and both cases are theirs.
    assert Person.objects.get(national_id=KARI["national_id"]).name == KARI["name"]
    assert case.person_id == kari_at_the_hospital.person_id and case.person_name == TYPED


@pytest.mark.parametrize("how", sorted(STARTS))
def test_a_starter_who_types_the_same_name_sees_it_and_the_other_case_keeps_its_own(
    users, agencies, kari_at_the_hospital, how
):
    case, _ = STARTS[how](users["kari"], agencies, KARI["name"])

    assert KARI["name"] in web(users["kari"]).get(f"/cases/{case.pk}/").content.decode()
    assert api(users["kari"]).get(f"/api/v1/cases/{case.pk}/").json()["person"]["name"] == KARI["name"]
    assert Person.objects.filter(national_id=KARI["national_id"]).count() == 1
    assert case.person_id == kari_at_the_hospital.person_id


def test_the_case_on_file_keeps_its_name_beside_a_case_started_with_another(users, agencies, kari_at_the_hospital):
    case, _ = start_over_api(users["kari"], agencies, TYPED)

    hospital = web(users["siri"]).get(f"/cases/{kari_at_the_hospital.pk}/").content.decode()
    assert KARI["name"] in hospital and TYPED not in hospital
    assert api(users["siri"]).get(f"/api/v1/cases/{kari_at_the_hospital.pk}/").json()["person"]["name"] == KARI["name"]
    # One person, two cases: a reader of both sees each case's own name.
    assert set(Person.objects.get(national_id=KARI["national_id"]).cases.all()) == {kari_at_the_hospital, case}
    listed = web(users["bjorn"]).get("/cases/").content.decode()
    assert KARI["name"] in listed and TYPED in listed
    path = api(users["bjorn"]).get(f"/api/v1/cases/{case.pk}/person/").json()
    assert path["name"] == TYPED and path["names"] == [TYPED, KARI["name"]]
    assert 'id="other-names"' in web(users["bjorn"]).get(f"/cases/{case.pk}/person/").content.decode()


@pytest.mark.parametrize("how", sorted(STARTS))
def test_no_route_takes_a_person_id_and_no_answer_gives_one(users, agencies, kari_at_the_hospital, how):
    """Person ids are sequential: a starter who typed a fresh national id learns the newest
    one, and a person found at an older id was on file before, a client of another service.
    So the person's path is reached only by a case the reader sees, and names no id."""
    from django.urls import Resolver404, resolve

    from api.views import not_found
    from tests.test_hostile_walk import site_routes

    case, _ = STARTS[how](users["kari"], agencies, TYPED)
    person = case.person_id
    assert person == kari_at_the_hospital.person_id  # the person on file, at their old id
    by_person = {
        route
        for route, _name, _pattern in site_routes()
        if "people" in route or "person/<" in route or "person_pk" in route or "person_id" in route
    }
    assert by_person == set()
    for path in (f"/people/{person}/", "/people/1/"):
        with pytest.raises(Resolver404):
            resolve(path)
        assert web(users["kari"]).get(path).status_code == 404, path
    for path in (f"/api/v1/people/{person}/", "/api/v1/people/1/"):
        assert resolve(path).func is not_found, path  # the API's catch-all 404
        assert api(users["kari"]).get(path).status_code == 404, path
    # The way that stays: by the case, with no id of the person in the answer.
    answer = api(users["kari"]).get(f"/api/v1/cases/{case.pk}/person/")
    assert answer.status_code == 200 and "id" not in answer.json()
    assert web(users["kari"]).get(f"/cases/{case.pk}/person/").status_code == 200
    # A case the reader does not see is no way in: 404, as for any case id.
    assert api(users["kari"]).get(f"/api/v1/cases/{kari_at_the_hospital.pk}/person/").status_code == 404
    assert web(users["kari"]).get(f"/cases/{kari_at_the_hospital.pk}/person/").status_code == 404


def test_a_coordinator_whose_only_case_has_another_name_gets_the_report_under_that_name(
    users, agencies, kari_at_the_hospital
):
    """The person's access report, read by the coordinator of a case (here the prison, in a
    process no housing agency takes part in) started with another name: that name, never
    the stored one."""
    from bpmn.services import deploy_definition

    definition = deploy_definition(
        actor=None, bpmn_xml=small_model(), forms={"small.schema.json": SMALL_FORM}, check_permission=False
    ).definition
    Membership.objects.create(user=users["kari"], agency=agencies["prison"], role=Role.COORDINATOR)
    case = services.start_case(
        actor=users["kari"],
        process_key=definition.key,
        person={"name": TYPED, "national_id": KARI["national_id"]},
        participants={"prison": agencies["prison"].pk, "hospital": agencies["hospital"].pk},
    )
    assert case.coordinator_agency == agencies["prison"]

    answer = api(users["kari"]).get(f"/api/v1/cases/{case.pk}/person-access-report/")
    page = web(users["kari"]).get(f"/cases/{case.pk}/person-access-report/")

    assert answer.status_code == 200 and page.status_code == 200
    assert answer.json()["person"]["name"] == TYPED and answer.json()["person"]["names"] == [TYPED]
    for body in (answer.content.decode(), page.content.decode()):
        assert KARI["name"] not in body and TYPED in body
