"""The pages' forms post raw text straight to the services (the API's serializers read ids
and choices first), so the services' own error texts are what a page shows: they name the
field and what is wrong, never the value sent. A participant's agency "id" that is a
national id typed in the wrong box, or a consent category that is not one, came back in the
error text ("no agency with id 17912099997", "unknown category Schizofreni"), and the
consent form's errors are kept in the session until the case page shows them."""

import pytest
from django.contrib.sessions.models import Session

from core.errors import InvalidInput
from workflows import services

pytestmark = pytest.mark.django_db

SECRET = "17912099997"  # a national id typed where an id or a choice belongs


def test_the_start_form_does_not_repeat_an_agency_id_that_is_no_id(web, shipped, agencies):
    answer = web("kari").post(
        "/cases/new/",
        {
            "process": "prison_release_to_housing",
            "person_name": "Ola Nordmann",
            "national_id": "29822099635",
            "participant_prison": str(agencies["prison"].pk),
            "participant_nav": SECRET,
            "participant_health": str(agencies["health"].pk),
            "participant_housing": str(agencies["housing"].pk),
        },
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert answer.status_code == 400
    text = answer.content.decode()
    assert 'id="participant_nav-error"' in text  # the error is there, next to its field
    assert SECRET not in text


def test_the_consent_form_does_not_repeat_a_category_that_is_none(web, prison_case, agencies, consent_basis):
    client = web("bjorn")
    answer = client.post(
        f"/cases/{prison_case.pk}/consents/",
        {
            "agency": str(agencies["nav"].pk),
            "categories": [SECRET],
            "purpose": "Bolig",
            "legal_basis": str(consent_basis.pk),
        },
    )
    assert answer.status_code == 302
    # The form's values wait in the session for the page (they are the writer's own); the
    # errors' texts and params, which the page shows, do not carry them.
    (kept,) = [data["brobygger.consent_form"] for data in map(Session.get_decoded, Session.objects.all())]
    assert kept["errors"] and SECRET not in repr(kept["errors"])
    page = client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="nb")
    text = page.content.decode()
    assert "has-error" in text  # the form came back with its error
    assert SECRET not in text


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda users, agencies, case: services.start_case(
                actor=users["kari"],
                process_key="prison_release_to_housing",
                person={"name": "Ola Nordmann", "national_id": "29822099635"},
                participants={"prison": agencies["prison"].pk, SECRET: 1, "nav": SECRET},
            ),
            "participants.nav",
        ),
        (
            lambda users, agencies, case: services.record_consent(
                actor=users["bjorn"],
                case=case,
                agency_kind=SECRET,
                categories=[SECRET],
                purpose="Bolig",
                legal_basis=None,
            ),
            "categories.0",
        ),
    ],
)
def test_the_services_name_the_field_not_the_value(users, agencies, prison_case, call, field):
    with pytest.raises(InvalidInput) as refused:
        call(users, agencies, prison_case)
    errors = refused.value.errors
    assert field in {error["field"] for error in errors}
    for error in errors:
        assert SECRET not in error["message"]
        assert SECRET not in repr(error["params"])
