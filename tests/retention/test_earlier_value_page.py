"""The retention page's correction of an earlier value (h-correct).

The housing contact (the case's coordinator) records ``move_date`` at intake; the health
service's assessment (here coordination: every participant sees the branch) sends the case to
the treatment branch, whose NAV task moves the date, or to the other. The coordinator sees the
branch, is shown NAV's date and may not correct it (NAV answers for it), and its own earlier
date was nowhere on the page: it could not correct it. The form now offers, in bokmål and only
to the agency that recorded it, the earlier value, shown there, and corrects it."""

import pytest
from django.urls import reverse

from tests.api.test_branch_rewritten_earlier_correction import FORMS, start_cases
from tests.clients import web
from workflows.models import Case, Event

pytestmark = pytest.mark.django_db

SEEN_FORMS = {
    **FORMS,
    "h.schema.json": {
        "type": "object",
        "properties": {"needs_treatment": {"type": "boolean", "x-category": "coordination"}},
    },
}
EARLIER_TEXT = "Verdien dere registrerte før et senere steg i saken endret den: 10. januar 2027"


@pytest.fixture
def cases(users, agencies):
    return start_cases(
        users,
        agencies,
        process="Proc_earlier_page",
        recorder="bjorn",
        writer="nils",
        intake_lane="Boligkontakt",
        branch_lane="NAV",
        forms=SEEN_FORMS,
    )


def _page(user, case, **query):
    url = reverse("case-retention", args=[case.pk])
    return web(user).get(url, query, HTTP_ACCEPT_LANGUAGE="nb")


def _post(user, case, **body):
    post = {"field": "move_date", "value": "2027-01-20", "reason": "Feil dato", "of": "earlier", **body}
    return web(user).post(reverse("case-correction", args=[case.pk]), post, HTTP_ACCEPT_LANGUAGE="nb")


def test_the_coordinator_is_offered_its_earlier_value_and_corrects_it(cases, users):
    case = cases[True]
    page = _page(users["bjorn"], case, field="move_date").content.decode()
    assert '<option value="move_date" selected>' in page
    assert EARLIER_TEXT in page and 'name="of" value="earlier"' in page
    answer = _post(users["bjorn"], case)
    assert answer.status_code == 302, answer.content.decode()[:800]
    case.refresh_from_db()
    assert case.data["move_date"] == "2027-03-01" and case.data_common["move_date"][0] == "2027-01-20"
    assert Event.objects.get(case=case, kind="value_corrected").agency.kind == "housing"


def test_no_choice_where_no_branch_wrote_over_it(cases, users):
    page = _page(users["bjorn"], cases[False], field="move_date").content.decode()
    assert 'name="of"' not in page and "Hvilken verdi" not in page and "senere steg" not in page
    assert _post(users["bjorn"], cases[False], of="").status_code == 302
    assert Case.objects.get(pk=cases[False].pk).data["move_date"] == "2027-01-20"


def test_a_bad_of_answers_400_naming_it_and_changes_nothing(cases, users):
    answer = _post(users["bjorn"], cases[True], of="begge")
    assert answer.status_code == 400 and 'id="correction-of-error"' in answer.content.decode()
    assert Case.objects.get(pk=cases[True].pk).data_common["move_date"][0] == "2027-01-10"


def test_another_agency_cannot_use_the_choice(cases, users):
    # NAV wrote the branch's value and sees the case, but the page is the coordinator's: 403,
    # as for any correction there; the health service alike. Nothing changes.
    for name in ("nils", "helga"):
        assert _post(users[name], cases[True]).status_code == 403
        assert _page(users[name], cases[True], field="move_date").status_code in (403, 404)
    # An agency not in the case: 404.
    assert _post(users["kari"], cases[True]).status_code == 404
    assert Case.objects.get(pk=cases[True].pk).data_common["move_date"][0] == "2027-01-10"
    assert not Event.objects.filter(kind="value_corrected").exists()


def test_both_values_its_own_the_coordinator_chooses(users, agencies):
    """The housing office's own branch task moved the date it recorded: both values are its
    own, so the form asks which one (the case's now, or the earlier one)."""
    cases = start_cases(
        users,
        agencies,
        process="Proc_earlier_both",
        recorder="bjorn",
        writer="bjorn",
        intake_lane="Boligkontakt",
        branch_lane="Boligkontakt",
        forms=SEEN_FORMS,
    )
    case = cases[True]
    page = _page(users["bjorn"], case, field="move_date").content.decode()
    assert "Hvilken verdi vil du rette?" in page and "Verdien saken viser nå" in page and EARLIER_TEXT in page
    assert _post(users["bjorn"], case, of="current", value="2027-03-05").status_code == 302
    case.refresh_from_db()
    assert (case.data["move_date"], case.data_common["move_date"][0]) == ("2027-03-05", "2027-01-10")
    assert _post(users["bjorn"], case, of="earlier").status_code == 302
    case.refresh_from_db()
    assert (case.data["move_date"], case.data_common["move_date"][0]) == ("2027-03-05", "2027-01-20")


def test_the_case_page_shows_the_health_service_its_earlier_value(users, agencies):
    """The API's scenario (the health service recorded the date, the housing office's branch
    task moved it): the case page shows the health service its earlier date beside the
    branch's, and nobody else."""
    cases = start_cases(users, agencies, process="Proc_earlier_case_page")
    said = "slik dere registrerte den før et senere steg i saken endret den"
    for name in ("helga", "bjorn", "nils"):
        for branch, case in cases.items():
            page = web(users[name]).get(reverse("case", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="nb")
            shown = said in page.content.decode()
            assert shown == (name == "helga" and branch), (name, branch)


def test_the_form_s_showing_of_the_earlier_value_is_logged(cases, users):
    """The correction form shows the coordinator the value its agency recorded (h-attack19): a
    read of case data like the case page's ``earlier``, logged as their own data. Until
    h-attack19 the retention page showed it without an access-log row (the page shows no other
    value of the case); where no branch wrote over it, nothing is shown and nothing logged."""
    from permissions.models import AccessLog

    own = AccessLog.objects.filter(username="bjorn", category="coordination", basis="own-data")
    for branch, case in cases.items():
        before = own.filter(case=case).count()
        page = _page(users["bjorn"], case, field="move_date").content.decode()
        assert (EARLIER_TEXT in page) == branch
        assert own.filter(case=case).count() == before + (1 if branch else 0), branch
        # Nor a refused form shown again without its row (a wrong reason keeps the value shown).
        before = own.filter(case=case).count()
        refused = _post(users["bjorn"], case, reason="")
        assert refused.status_code == 400 and (EARLIER_TEXT in refused.content.decode()) == branch
        assert own.filter(case=case).count() == before + (1 if branch else 0), branch


def test_the_earlier_value_is_said_as_the_case_page_says_it(cases, users, agencies):
    """The earlier value in the form's words, as the case page shows a value: a yes/no answer
    as "Ja" (until 2026-12-06 Python's "True", English on a bokmål page), a date as
    "10. januar 2027" (not "2027-01-10")."""
    case = cases[True]
    # The housing office answered "ordinary" at intake; a later step of NAV's wrote over it.
    case.data = {**case.data, "ordinary": False}
    case.data_sources = {**case.data_sources, "ordinary": agencies["nav"].pk}
    case.data_common = {**case.data_common, "ordinary": [True, agencies["housing"].pk]}
    case.save(update_fields=["data", "data_sources", "data_common"])
    page = _page(users["bjorn"], case, field="ordinary").content.decode()
    assert 'name="of" value="earlier"' in page
    assert "endret den: Ja<" in page and "True" not in page
