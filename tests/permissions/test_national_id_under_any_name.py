"""A national id in the case data is shown in full only to whoever works a task that needs it,
whatever the form calls its field (h-attack33).

domain.md: identity is open to the case's participants, "national id only where the task
needs it". The policy knew a national id by its field's name (``national_id``,
``fodselsnummer``, ``fnr``); a model whose form asks for a child's or a guardian's number
under another name (``barnets_fodselsnr``) in the identity category showed it in full to
every participant, on every page and answer, and wrote no access-log row (identity reads
are not logged). Now a value of the identity category that is a national id is masked as
the person's is, by what it is, not by what its field is called."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from bpmn.services import deploy_definition
from permissions.models import AccessLog, Membership, Role
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_message_payload_consent import FORMS, care_notice_model
from workflows import services

pytestmark = pytest.mark.django_db

CHILD = "29822099635"  # synthetic (Skatteetaten's test numbers: month + 80)
CHILD_MASKED = "298220*****"
FORM = "care_applicant.schema.json"


def _member(agencies, kind, username, role=Role.MEMBER):
    user = get_user_model().objects.create_user(username)
    Membership.objects.create(user=user, agency=agencies[kind], role=role)
    return user


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
    return client


def _forms(**schema_extra):
    form = FORMS[FORM]
    properties = {
        **form["properties"],
        "barnets_fodselsnr": {"type": "string", "title": "Barnets fødselsnummer", "x-category": "identity"},
    }
    return {**FORMS, FORM: {**form, **schema_extra, "properties": properties}}


@pytest.fixture
def staff(agencies):
    return {
        "housing": _member(agencies, "housing", "bolig-fnr", Role.COORDINATOR),
        "nav": _member(agencies, "nav", "nav-fnr"),
        "health": _member(agencies, "health", "helse-fnr"),
    }


def _case(agencies, staff, forms):
    deploy_definition(actor=None, bpmn_xml=care_notice_model(), forms=forms, check_permission=False)
    participants = {kind: agencies[kind].pk for kind in ("nav", "health", "housing")}
    case = services.start_case(
        actor=staff["health"], process_key="care_notice", person=PERSON, participants=participants
    )
    (task,) = open_tasks(case)
    return case, task


def test_a_national_id_in_a_field_of_another_name_is_masked_for_every_participant(agencies, staff):
    case, task = _case(agencies, staff, _forms())
    services.complete_task(
        actor=staff["health"],
        task_id=task.pk,
        data={"applicant_id": "A-17", "diagnosis": "F20", "barnets_fodselsnr": CHILD},
    )

    for reader in ("nav", "housing", "health"):
        client = _client(staff[reader])
        answer = client.get(reverse("api-case", args=[case.pk]))
        assert answer.status_code == 200
        assert CHILD not in answer.content.decode()
        assert answer.json()["data"]["identity"]["values"]["barnets_fodselsnr"] == CHILD_MASKED
        browser = Client()
        browser.force_login(staff[reader])
        page = browser.get(reverse("case", args=[case.pk]))
        assert page.status_code == 200 and CHILD not in page.content.decode()
    assert not AccessLog.objects.filter(category="identity").exists()


def test_the_task_that_needs_identity_in_full_sees_it_and_its_read_is_logged(agencies, staff):
    case, task = _case(agencies, staff, _forms(**{"x-identity": "full"}))
    case.data = {**case.data, "barnets_fodselsnr": CHILD}
    case.data_sources = {**case.data_sources, "barnets_fodselsnr": agencies["health"].pk}
    case.save()

    answer = _client(staff["health"]).get(reverse("api-task", args=[task.pk]))

    assert answer.status_code == 200
    assert answer.json()["case_data"]["identity"]["values"]["barnets_fodselsnr"] == CHILD
    row = AccessLog.objects.get(category="identity")
    assert (row.user, row.basis) == (staff["health"], f"task:{task.pk}")
    # Another agency's participant, on the case: masked.
    other = _client(staff["nav"]).get(reverse("api-case", args=[case.pk]))
    assert other.json()["data"]["identity"]["values"]["barnets_fodselsnr"] == CHILD_MASKED


def test_an_earlier_value_that_is_a_national_id_is_masked_as_the_value_is(agencies, staff):
    """The health service recorded the child's number; a later step of NAV wrote another over
    it. The case answer shows the health service its earlier value beside the case's
    (``case_data_for(show_earlier=)``): it came after the masking, and the number it had
    recorded was shown in full to each of its members, on no task that needs it."""
    case, _task = _case(agencies, staff, _forms())
    other_child = "17912099997"
    case.data = {**case.data, "barnets_fodselsnr": other_child}
    case.data_sources = {**case.data_sources, "barnets_fodselsnr": agencies["nav"].pk}
    case.data_common = {**(case.data_common or {}), "barnets_fodselsnr": [CHILD, agencies["health"].pk]}
    case.save()

    answer = _client(staff["health"]).get(reverse("api-case", args=[case.pk]))
    assert answer.status_code == 200
    identity = answer.json()["data"]["identity"]
    assert identity["values"]["barnets_fodselsnr"] == "179120*****"
    assert identity["earlier"] == {"barnets_fodselsnr": CHILD_MASKED}
    browser = Client()
    browser.force_login(staff["health"])
    page = browser.get(reverse("case", args=[case.pk])).content.decode()
    assert CHILD not in page and CHILD_MASKED in page
