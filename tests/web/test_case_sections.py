"""The case page's folded sections (the events as a list, the access log, the consent,
follow-on and withdrawal forms) come when opened, from /cases/<id>/sections/<name>/ (issue
12: a lighter first answer). Each is refused to whoever the page did not show it to, and
reads what the page read, logged as the page logged it."""

import pytest

from permissions.models import AccessLog
from tests.ids import tid

from .conftest import INTAKE_NO_HOME, open_task

pytestmark = pytest.mark.django_db

SECTIONS = ("events", "access-log", "consent-form", "follow-on", "withdraw")
# What each section shows, and an element of it.
SHOWS = {
    "events": "events-list",
    "access-log": 'id="access-log-body"',
    "consent-form": 'id="consent-agency"',
    "follow-on": 'id="follow-on-process"',
    "withdraw": 'id="withdraw-agency-choice"',
}


def _url(case, name):
    return f"/cases/{case.pk}/sections/{name}/"


def test_the_page_folds_them_away_and_links_each_for_a_reader_without_javascript(web, prison_case):
    page = web("bjorn").get(f"/cases/{prison_case.pk}/").content.decode()
    for name in SECTIONS:
        url = _url(prison_case, name)
        assert f'hx-get="{url}"' in page and f'href="{url}"' in page, name
        assert SHOWS[name] not in page, name  # not read until opened
    assert 'hx-trigger="toggle once from:closest details"' in page


def test_the_coordinator_opens_each_section_for_htmx_and_as_a_page(web, prison_case):
    bjorn = web("bjorn")
    for name in SECTIONS:
        part = bjorn.get(_url(prison_case, name), HTTP_HX_REQUEST="true")
        assert part.status_code == 200, name
        text = part.content.decode()
        assert SHOWS[name] in text and "<html" not in text, name
        page = bjorn.get(_url(prison_case, name)).content.decode()
        assert SHOWS[name] in page and "<html" in page and f'href="/cases/{prison_case.pk}/"' in page, name
    events = bjorn.get(_url(prison_case, "events"), HTTP_HX_REQUEST="true").content.decode()
    assert "Oppgave opprettet (Halden fengsel): Innkomstsamtale" in events


def test_a_participant_gets_only_the_sections_the_page_shows_them(web, prison_case):
    """nils (NAV) sees the case: its events, and NAV records consents for what it holds; the
    log, the follow-on and the withdrawal are the coordinator's and the housing contact's."""
    nils = web("nils")
    page = nils.get(f"/cases/{prison_case.pk}/").content.decode()
    for name, allowed in {
        "events": True,
        "consent-form": True,
        "access-log": False,
        "follow-on": False,
        "withdraw": False,
    }.items():
        answer = nils.get(_url(prison_case, name), HTTP_HX_REQUEST="true")
        assert answer.status_code == (200 if allowed else 403), name
        assert (f'hx-get="{_url(prison_case, name)}"' in page) == allowed, name
        if not allowed:
            assert SHOWS[name] not in answer.content.decode()


def test_another_agency_nobody_and_anonymous_get_none(web, prison_case):
    for name in SECTIONS:
        # The hospital takes no part; oscar has no agency; aud, auditor of housing, reads the
        # access log alone (below) and sees no case.
        for username in ("siri", "oscar") + (("aud",) if name != "access-log" else ()):
            answer = web(username).get(_url(prison_case, name), HTTP_HX_REQUEST="true")
            assert answer.status_code == 404, (username, name)
            assert prison_case.reference not in answer.content.decode()
        anonymous = web(None).get(_url(prison_case, name))
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert web("bjorn").get(_url(prison_case, "no-such-section")).status_code == 404


def test_a_withdrawn_agency_gets_none(web, users, prison_case):
    from workflows import services

    health = prison_case.participants.get(agency__kind="health").agency
    services.withdraw_agency(actor=users["bjorn"], case=prison_case.pk, agency=health.pk, reason="Ikke aktuelt")
    for name in SECTIONS:
        assert web("helga").get(_url(prison_case, name)).status_code == 404, name


LOGGED_SECTIONS = {"events": "timeline", "access-log": "access-log"}


def test_a_section_writes_the_access_log_rows_the_page_wrote_for_it(web, prison_case):
    """None of them shows case data: the page's reads (its data cards, notes) are logged by
    the page, as before; opening a section takes none away. The timeline and the access log
    are reads of the case's coordination: each adds its own row (``item``), the forms none."""
    intake = open_task(prison_case, "Task_intake_interview")
    assert web("kari").post(f"/tasks/{tid(intake.pk)}/", INTAKE_NO_HOME).status_code == 302
    bjorn = web("bjorn")
    before = AccessLog.objects.count()
    bjorn.get(f"/cases/{prison_case.pk}/")
    page_rows = list(AccessLog.objects.order_by("id").values_list("category", "action")[before:])
    assert page_rows  # the data the page shows is logged
    for name in SECTIONS:
        count = AccessLog.objects.count()
        assert bjorn.get(_url(prison_case, name), HTTP_HX_REQUEST="true").status_code == 200
        added = list(AccessLog.objects.order_by("id").values_list("category", "item")[count:])
        assert added == ([("coordination", LOGGED_SECTIONS[name])] if name in LOGGED_SECTIONS else []), name
    again = AccessLog.objects.count()
    bjorn.get(f"/cases/{prison_case.pk}/")
    assert list(AccessLog.objects.order_by("id").values_list("category", "action")[again:]) == page_rows


def test_a_form_sent_back_with_errors_comes_open_on_the_page(web, prison_case):
    bjorn = web("bjorn")
    answer = bjorn.post(f"/cases/{prison_case.pk}/withdrawals/", {"agency": "", "reason": ""})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert '<details class="card" id="withdraw-agency" open>' in page and 'id="withdraw-agency-choice"' in page
    bad = bjorn.post(f"/cases/{prison_case.pk}/follow-on/", {"process": "no-such-process"})
    assert bad.status_code == 400 and 'id="follow-on-process"' in bad.content.decode()


def test_the_case_page_asks_the_database_no_more_than_its_budget(web, prison_case):
    """The first answer's statements (issue 12): the folded sections and the model are not
    read for it. Was 24 on the kept million before they moved (docs/performance-history.md, "The case page")."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bjorn = web("bjorn")
    bjorn.get(f"/cases/{prison_case.pk}/")  # the session's first save and the caches, unmeasured
    with CaptureQueriesContext(connection) as queries:
        assert bjorn.get(f"/cases/{prison_case.pk}/").status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= CASE_PAGE_STATEMENTS, "\n".join(statements)
    # Not read for it: the consent form's legal bases, the model, the access log's count.
    reads = (
        'FROM "permissions_legalbasis"',
        '"bpmn_xml"',
        '"permissions_accesslog"."username"',
        'FROM (SELECT "permissions_accesslog"',
    )
    for read in reads:
        assert not any(read in sql for sql in statements), read


# Here (a session with no second factor, a small case): 17, and the user's page rate limit's
# bucket since 2026-12-06 (web.page_rate_limit); on the kept million, 19 with the agency's
# memberships and the session's second factor (docs/performance-history.md, "The case page").
CASE_PAGE_STATEMENTS = 18


@pytest.mark.parametrize("role", ["leader", "municipal_leader", "process_admin"])
def test_a_leader_of_a_participating_agency_gets_no_section_and_no_model(web, prison_case, role):
    """Leaders see figures, never a case; a process admin sees models, never a case's sections."""
    from django.contrib.auth import get_user_model

    from permissions.models import Membership
    from workflows.models import ProcessInstance

    housing = prison_case.participants.get(agency__kind="housing").agency
    leader = get_user_model().objects.create_user(f"leder-{role}")
    Membership.objects.create(user=leader, agency=housing, role=role)
    client = web(None)
    client.force_login(leader)
    for name in SECTIONS:
        answer = client.get(_url(prison_case, name), HTTP_HX_REQUEST="true")
        assert answer.status_code == 404, (role, name)
        assert prison_case.reference not in answer.content.decode()
    model = client.get(f"/process-models/{ProcessInstance.objects.get(case=prison_case).definition_id}.bpmn")
    assert model.status_code == (200 if role == "process_admin" else 404), role


@pytest.mark.parametrize(
    ("username", "status"),
    # the auditor of a participating agency, the coordinator; NAV takes part but reads no
    # log; the hospital takes no part; the process admin sees no case.
    [("aud", 200), ("bjorn", 200), ("nils", 403), ("siri", 404), ("ada", 404)],
)
def test_the_case_page_and_the_api_agree_on_who_reads_the_access_log(web, prison_case, username, status):
    """Issue 11: one rule (``rules.can_view_access_log``) for the page's section and the API.
    The auditor was refused the section (404: it asked first whether they see the case) while
    the API gave them the very log."""
    intake = open_task(prison_case, "Task_intake_interview")
    assert web("kari").post(f"/tasks/{tid(intake.pk)}/", INTAKE_NO_HOME).status_code == 302
    web("bjorn").get(f"/cases/{prison_case.pk}/")  # reads worth logging
    client = web(username)
    api = client.get(f"/api/v1/cases/{prison_case.pk}/access-log/")
    part = client.get(_url(prison_case, "access-log"), HTTP_HX_REQUEST="true")
    page = client.get(_url(prison_case, "access-log"))
    assert (api.status_code, part.status_code, page.status_code) == (status, status, status)
    if status == 200:
        readers = {row["username"] for row in api.json()["results"]}
        assert "bjorn" in readers
        assert 'id="access-log-body"' in part.content.decode() and "Bjørn Boligkontakt" in part.content.decode()
    else:
        assert 'id="access-log-body"' not in part.content.decode() + page.content.decode()


def test_the_auditor_reaches_the_log_from_the_audit_list_and_is_led_back_there(web, prison_case):
    """The auditor sees no case page: the audit list links each case's log, and the log's
    page leads back to the list, not to a case page that would answer 404."""
    aud = web("aud")
    listing = aud.get("/audit/").content.decode()
    assert f'href="{_url(prison_case, "access-log")}"' in listing
    page = aud.get(_url(prison_case, "access-log")).content.decode()
    assert 'href="/audit/"' in page and f'href="/cases/{prison_case.pk}/"' not in page
    assert f'href="/cases/{prison_case.pk}/"' in web("bjorn").get(_url(prison_case, "access-log")).content.decode()
