"""The retention pages: the coordinator's requests (erasure before the retention ends,
correction, archive export) and the auditor's trail and review, through the same services
as the API; every other user refused."""

import pytest
from django.test import Client

from permissions.models import AccessLog
from retention.models import ArchiveExport, Correction, ErasureRecord
from workflows.jobs import handlers
from workflows.models import Case, CaseStatus, Job, JobKind, Person

from .helpers import NAME, NATIONAL_ID, archived, corrections_archived

pytestmark = pytest.mark.postgres

REASON = "Personen ba om sletting (art. 17 nr. 1 a); arkivet har saksmappen"


@pytest.fixture
def web(users):
    def make(username):
        client = Client()
        client.force_login(users[username])
        return client

    return make


def url(case, rest=""):
    return f"/cases/{case.pk}/retention/{rest}"


# --- the coordinator ---------------------------------------------------------------------


def test_the_coordinator_finds_the_page_from_the_case_and_sees_no_case_data(web, closed_case):
    assert url(closed_case) in web("bjorn").get(f"/cases/{closed_case.pk}/").content.decode()
    assert 'id="retention-link"' not in web("nils").get(f"/cases/{closed_case.pk}/").content.decode()
    page = web("bjorn").get(url(closed_case)).content.decode()
    assert "Oppbevaring" in page and "uten_bolig" not in page and NAME not in page
    assert "ikke oppfylt" in page and "bolig" in page  # the archive duty, in bokmål


def test_erasure_is_refused_with_the_reason_while_the_archive_duty_applies(web, closed_case):
    answer = web("bjorn").post(url(closed_case, "erasure/"), {"reason": REASON})
    assert answer.status_code == 409
    assert "må leveres til arkivet først" in answer.content.decode()
    assert REASON in answer.content.decode()  # the form keeps what was written
    assert not ErasureRecord.objects.exists() and Person.objects.filter(national_id=NATIONAL_ID).exists()


def test_the_coordinator_erases_on_request_once_the_archive_has_the_case_file(web, closed_case):
    archived(closed_case)
    bjorn = web("bjorn")
    empty = bjorn.post(url(closed_case, "erasure/"), {"reason": "  "})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.content.decode()
    assert not ErasureRecord.objects.exists()

    answer = bjorn.post(url(closed_case, "erasure/"), {"reason": REASON})
    assert answer.status_code == 302 and answer["Location"] == url(closed_case)
    record = ErasureRecord.objects.get(case=closed_case)
    assert (record.trigger, record.requested_by.get_username(), record.reason) == ("request", "bjorn", REASON)
    assert not Person.objects.filter(national_id=NATIONAL_ID).exists()
    page = bjorn.get(url(closed_case)).content.decode()
    assert "venter på en revisor" in page and 'id="erase-submit"' not in page and 'id="correction-form"' not in page
    assert bjorn.post(url(closed_case, "erasure/"), {"reason": REASON}).status_code == 409  # erased already
    assert ErasureRecord.objects.count() == 1


def test_htmx_gets_the_refusal_as_200_to_swap_it_in(web, closed_case):
    answer = web("bjorn").post(url(closed_case, "erasure/"), {"reason": REASON}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and 'id="retention"' in answer.content.decode()
    assert not ErasureRecord.objects.exists()


def test_the_coordinator_corrects_a_value_with_its_own_widget(web, closed_case):
    bjorn = web("bjorn")
    chosen = bjorn.get(url(closed_case) + "?field=housing_situation").content.decode()
    assert '<select name="value" id="field-value"' in chosen  # a choice stays a choice
    assert (
        'name="value" value="true" id="field-value-yes"'
        in bjorn.get(url(closed_case) + "?field=has_home").content.decode()
    )

    answer = bjorn.post(
        url(closed_case, "correction/"), {"field": "has_home", "value": "true", "reason": "Feil registrert"}
    )
    assert answer.status_code == 302
    closed_case.refresh_from_db()
    assert closed_case.data["has_home"] is True
    correction = Correction.objects.get(case=closed_case)
    assert (correction.field, correction.old_value, correction.corrected_by.get_username()) == (
        "has_home",
        False,
        "bjorn",
    )
    assert AccessLog.objects.filter(case=closed_case, basis="correction", username="bjorn").exists()
    page = bjorn.get(url(closed_case)).content.decode()
    assert "Feil registrert" in page


def test_the_person_s_name_is_corrected_and_the_old_one_shown_nowhere(web, closed_case):
    bjorn = web("bjorn")
    answer = bjorn.post(
        url(closed_case, "correction/"),
        {"field": "person.name", "value": "Torleif Eriksrud-Berg", "reason": "Stavefeil"},
    )
    assert answer.status_code == 302
    assert Person.objects.get(national_id=NATIONAL_ID).name == "Torleif Eriksrud-Berg"
    for page in (bjorn.get(url(closed_case)), web("aud").get(url(closed_case)), web("aud").get("/retention/")):
        assert (
            page.status_code == 200
            and NAME + "<" not in page.content.decode()
            and f">{NAME}" not in page.content.decode()
        )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"field": "no_such_field", "value": "x", "reason": "Feil"}, "correction-field"),
        ({"field": "has_home", "value": "kanskje", "reason": "Feil"}, "field-value"),
        ({"field": "housing_situation", "value": "finnes_ikke", "reason": "Feil"}, "field-value"),
        ({"field": "has_home", "value": "", "reason": "Feil"}, "field-value"),
        ({"field": "has_home", "value": "true", "reason": ""}, "correction-reason"),
        ({"field": "person.national_id", "value": "12345678901", "reason": "Feil"}, "field-value"),
    ],
)
def test_a_bad_correction_answers_400_and_changes_nothing(web, closed_case, body, field):
    answer = web("bjorn").post(url(closed_case, "correction/"), body)
    assert answer.status_code == 400, answer.content.decode()[:500]
    assert f'id="{field}-error"' in answer.content.decode()  # the error names the field
    assert not Correction.objects.exists()
    assert Case.objects.get(pk=closed_case.pk).data["has_home"] is False


def test_the_coordinator_orders_the_archive_export(web, closed_case):
    bjorn = web("bjorn")
    assert bjorn.post(url(closed_case, "archive-export/")).status_code == 302
    export = ArchiveExport.objects.get(case=closed_case)
    assert export.status == "pending" and Job.objects.filter(kind=JobKind.ARCHIVE_EXPORT, case=closed_case).exists()
    page = bjorn.get(url(closed_case)).content.decode()
    assert 'id="export-submit"' not in page and "venter" in page
    assert bjorn.post(url(closed_case, "archive-export/")).status_code == 409  # one at a time
    Case.objects.filter(pk=closed_case.pk).update(status=CaseStatus.OPEN, closed_at=None)
    ArchiveExport.objects.all().delete()
    assert bjorn.post(url(closed_case, "archive-export/")).status_code == 409  # an open case


# --- the auditor --------------------------------------------------------------------------


def test_the_auditor_sees_the_trail_and_reviews_an_erasure_on_request(web, closed_case):
    bjorn, aud = web("bjorn"), web("aud")
    bjorn.post(url(closed_case, "correction/"), {"field": "has_home", "value": "true", "reason": "Feil registrert"})
    archived(closed_case)
    bjorn.post(url(closed_case, "erasure/"), {"reason": REASON})
    record = ErasureRecord.objects.get()
    assert "/retention/" in aud.get("/tasks/").content.decode()  # the menu entry
    page = aud.get("/retention/").content.decode()
    assert f'id="erasure-{record.pk}"' in page and REASON in page and closed_case.reference in page
    assert "Slettet etter krav" in page and "Arkivuttrekk" in page and "bjorn" in page
    assert aud.get(url(closed_case)).status_code == 200  # the case's retention, no data

    answer = aud.post(f"/retention/erasures/{record.pk}/review/", {"note": "Grunnlaget holder"})
    assert answer.status_code == 302
    record.refresh_from_db()
    assert record.reviewed_by.get_username() == "aud" and record.review_note == "Grunnlaget holder"
    assert f'id="erasure-{record.pk}"' not in aud.get("/retention/").content.decode()
    again = aud.post(f"/retention/erasures/{record.pk}/review/", follow=True).content.decode()
    assert "allerede" in again


def test_the_auditor_s_trail_names_a_corrected_field_by_its_title_in_the_form(web, closed_case):
    bjorn = web("bjorn")
    bjorn.post(url(closed_case, "correction/"), {"field": "has_home", "value": "true", "reason": "Feil registrert"})
    bjorn.post(
        url(closed_case, "correction/"), {"field": "person.name", "value": "Ola Nordmann", "reason": "Stavefeil"}
    )
    page = web("aud").get("/retention/").content.decode()
    assert "Opplysning rettet: Har personen en bolig å beholde under soningen?" in page and "has_home" not in page
    assert "Opplysning rettet: Personens navn" in page


# --- everyone else ------------------------------------------------------------------------

# Members of the case's other agencies (and the coordinator's colleagues who are no
# coordinator) see the case: refused (403) like through the API; everyone else finds no
# such case (404). The retention page itself is only for the coordinator and auditors.
OTHERS = {
    "kari": 403,
    "nils": 403,
    "nora": 403,
    "helga": 403,
    "hanne": 403,
    "siri": 404,
    "mona": 404,
    "ada": 404,
    "lise": 403,
    "leif": 404,
    "nina": 404,
    "oscar": 404,
}


@pytest.mark.parametrize(("username", "refused"), OTHERS.items())
def test_nobody_else_reads_or_writes_through_the_pages(web, closed_case, username, refused):
    archived(closed_case)
    bjorn = web("bjorn")
    bjorn.post(url(closed_case, "correction/"), {"field": "has_home", "value": "true", "reason": "Feil"})
    client = web(username)
    assert client.get(url(closed_case)).status_code == 404
    assert client.post(url(closed_case, "erasure/"), {"reason": REASON}).status_code == refused
    correction = {"field": "has_home", "value": "false", "reason": "Feil"}
    assert client.post(url(closed_case, "correction/"), correction).status_code == refused
    assert client.post(url(closed_case, "archive-export/")).status_code == refused
    assert client.get("/retention/").status_code == 403
    corrections_archived(closed_case)  # the corrected case file in the archive: it may go
    bjorn.post(url(closed_case, "erasure/"), {"reason": REASON})
    record = ErasureRecord.objects.get()
    assert client.post(f"/retention/erasures/{record.pk}/review/", {"note": "ok"}).status_code == 404
    record.refresh_from_db()
    assert record.reviewed_at is None and Correction.objects.count() == 0  # erased with the case


def test_the_auditor_may_read_but_not_ask(web, closed_case):
    aud = web("aud")
    archived(closed_case)
    assert aud.post(url(closed_case, "erasure/"), {"reason": REASON}).status_code == 403
    assert (
        aud.post(url(closed_case, "correction/"), {"field": "has_home", "value": "true", "reason": "x"}).status_code
        == 403
    )
    assert aud.post(url(closed_case, "archive-export/")).status_code == 403
    assert not ErasureRecord.objects.exists() and not Correction.objects.exists()
    assert ArchiveExport.objects.filter(status="pending").count() == 0
    page = aud.get(url(closed_case)).content.decode()
    assert 'id="erase-submit"' not in page and 'id="choose-field"' not in page and 'id="export-submit"' not in page


def test_on_an_open_case_the_coordinator_corrects_only_what_the_housing_office_recorded(web, case):
    from tests.workflows.helpers import complete, open_tasks

    for element in ("Task_intake_interview", "Task_housing_application"):
        complete(next(task for task in open_tasks(case) if task.element_id == element))
    bjorn = web("bjorn")
    page = bjorn.get(url(case)).content.decode()
    assert 'value="housing_application_type"' in page and 'value="person.name"' in page
    assert 'value="has_home"' not in page  # the prison recorded it

    answer = bjorn.post(url(case, "correction/"), {"field": "has_home", "value": "true", "reason": "Feil registrert"})
    assert answer.status_code == 403
    assert "registrert av en annen virksomhet" in answer.content.decode()
    assert Case.objects.get(pk=case.pk).data["has_home"] is False
    assert not Correction.objects.exists()


def test_the_page_answers_alike_whether_or_not_another_person_holds_the_national_id(web, closed_case, users, agencies):
    from tests.workflows.helpers import start_prison_case

    Person.objects.create(name="Annen Person", national_id="29822099635")
    second = start_prison_case(users, agencies, person={"name": "Tredje Person", "national_id": "57912075186"})
    bjorn = web("bjorn")
    pages = []
    for case, number in ((closed_case, "29822099635"), (second, "05840399895")):
        body = {"field": "person.national_id", "value": number, "reason": "Personen viste legitimasjon"}
        answer = bjorn.post(url(case, "correction/"), body, follow=True)
        assert answer.status_code == 200
        page = answer.content.decode()
        assert "sendt til en revisor" in page and number not in page and "Venter på kontroll" in page
        pages.append(page.replace(case.reference, "").replace(str(case.pk), ""))
    assert Person.objects.get(pk=closed_case.person_id).national_id == NATIONAL_ID

    aud = web("aud")
    listed = aud.get("/retention/").content.decode()
    assert 'id="national-ids-to-review"' in listed and "Personen viste legitimasjon" in listed
    assert "29822099635" not in listed  # the number asked for is not shown either
    taken, free = Correction.objects.filter(field="person.national_id").order_by("case_id")
    for username in ("bjorn", "kari", "ada"):  # only the coordinating agency's auditor decides
        assert (
            web(username).post(f"/retention/corrections/{taken.pk}/review/", {"decision": "approve"}).status_code == 404
        )
    merge = aud.post(f"/retention/corrections/{taken.pk}/review/", {"decision": "approve"}, follow=True)
    assert "En annen person i Brobygger har dette fødselsnummeret" in merge.content.decode()
    done = aud.post(f"/retention/corrections/{free.pk}/review/", {"decision": "approve"}, follow=True)
    assert "Fødselsnummeret er endret" in done.content.decode()
    assert Person.objects.get(pk=second.person_id).national_id == "05840399895"
    # the coordinator's page reads the number another person holds as still waiting, as it
    # read before the auditor's first decision
    page = bjorn.get(url(closed_case)).content.decode()
    assert "Venter på kontroll" in page and "Ikke gjennomført etter revisors kontroll" not in page
    # the auditor merges the two on their page; nobody else can
    listed = aud.get("/retention/").content.decode()
    assert f'id="merge-{taken.pk}"' in listed and "Slå sammen personene" in listed and "29822099635" not in listed
    for username in ("bjorn", "kari", "ada"):
        assert web(username).post(f"/retention/corrections/{taken.pk}/merge/", {"decision": "merge"}).status_code == 404
    merged = aud.post(f"/retention/corrections/{taken.pk}/merge/", {"decision": "merge"}, follow=True)
    assert "Personene er slått sammen" in merged.content.decode()
    assert Case.objects.get(pk=closed_case.pk).person.national_id == "29822099635"
    page = bjorn.get(url(closed_case)).content.decode()
    assert "Venter på kontroll" not in page and "Ikke gjennomført etter revisors kontroll" not in page


def test_the_access_log_names_the_archive_and_the_persons_requests_in_words(web, closed_case, settings, tmp_path):
    """The rows of a correction, an archive order and the delivery of the case file read as
    bokmål in the case's access log and the person's report (given to the person), not as
    the codes stored."""
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    bjorn = web("bjorn")
    answer = bjorn.post(
        url(closed_case, "correction/"), {"field": "has_home", "value": "true", "reason": "Feil registrert"}
    )
    assert answer.status_code == 302
    assert bjorn.post(url(closed_case, "archive-export/")).status_code in (302, 303)
    assert handlers.run_one("test") == 1
    assert AccessLog.objects.filter(case=closed_case, username="archive-folder", role="archive").exists()

    log = bjorn.get(f"/cases/{closed_case.pk}/sections/access-log/", HTTP_HX_REQUEST="true").content.decode()
    report = bjorn.get(f"/cases/{closed_case.pk}/person-access-report/").content.decode()
    for page in (log, report):
        assert "arkivets mappe (kommunens arkiv)" in page
        assert "arkivplikten (arkivlova)" in page and "personens krav om retting" in page
        for code in ("archive-folder", "archive-duty", ">correction<", "(archive)"):
            assert code not in page
