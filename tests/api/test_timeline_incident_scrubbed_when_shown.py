"""A timeline's incident event keeps the error text scrubbed when it was written, of the values
the case held then. Until 2026-12-06 it was shown as stored: a value the case came to hold
later (a later step's, a correction's) that stood in an old incident's text (an agency's
system that knew the new address before the case did) reached the process admin who works
the case, though their agency may not see the field; and so did a value the case held
before and no longer holds (corrected away, or written over by a later step), which an
agency's system remembered. Now the text is scrubbed again when shown, of every value the
case holds and held (its corrections' old values, its instances' saved states, its person's
former name), at two statements a page whatever its incidents."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from retention.models import Correction
from tests.api.test_step_incident_language import admin_at_work, api, script_incident  # noqa: F401 (fixtures)
from workflows.models import Case, Event, EventKind

pytestmark = pytest.mark.django_db

LATER = "Storgata 12 B"  # written into the case after the incident
CORRECTED = "Gamleveien 7"  # the value a correction replaced
FORMER_NAME = "Per Persen"  # the person's name before it was corrected
SAID = (
    "the register answered: address STORGATA 12 B unknown; previous address Gamleveien 7; "
    "holder PERSEN, PER; note FIRST VISIT"
)
SECRETS = ("STORGATA", "Storgata", "Gamleveien", "PERSEN", "FIRST VISIT", "first visit")


def _old_incident_text(case) -> Event:
    """The case's incident event with the words of an agency's system, stored as an earlier
    version wrote them (scrubbed of the values the case held then, which these were not)."""
    event = Event.objects.get(case=case, kind=EventKind.INCIDENT)
    event.detail = {
        **event.detail,
        "error": f"the call failed: {SAID}",
        "error_message": {"code": "job.call_failed", "params": {"detail": SAID}},
    }
    event.save(update_fields=["detail"])
    return event


def _values_changed_since(case, users, agencies) -> None:
    """What the case came to hold and no longer holds since the incident: a later step's
    value (``LATER``), a note written over (its first value, "first visit", is in the saved
    state only), a value corrected away and the person's former name (in corrections only)."""
    Case.objects.filter(pk=case.pk).update(data={**case.data, "note": LATER})
    for field, old in (("note", CORRECTED), ("person.name", FORMER_NAME)):
        Correction.objects.create(
            case=case,
            field=field,
            category="economy",
            old_value=old,
            reason="the person asked",
            corrected_by=users["nils"],
            agency=agencies["nav"],
            corrected_at=datetime.now(UTC),
        )


def _shown(user, case) -> str:
    answer = api(user).get(f"/api/v1/cases/{case.pk}/timeline/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200, answer.content
    (event,) = [event for event in answer.json()["results"] if event["kind"] == "incident"]
    return event["detail"]["error"]


def test_an_incident_shown_on_the_timeline_names_no_value_the_case_held_since(
    admin_at_work,  # noqa: F811
    script_incident,  # noqa: F811
    users,
    agencies,
):
    case = script_incident.case
    _old_incident_text(case)
    _values_changed_since(case, users, agencies)
    error = _shown(admin_at_work, case)
    assert error.startswith("the call failed: the register answered: address")  # the system's words stay
    assert "unknown" in error and "previous address" in error
    for value in SECRETS:
        assert value not in error, (value, error)


def test_the_timeline_reads_the_same_statements_for_one_incident_or_many(
    admin_at_work,  # noqa: F811
    script_incident,  # noqa: F811
    users,
    agencies,
):
    case = script_incident.case
    event = _old_incident_text(case)
    _values_changed_since(case, users, agencies)

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            _shown_all(admin_at_work, case)
        return len(queries)

    one = statements()
    for _ in range(5):
        Event.objects.create(
            case=case,
            instance=event.instance,
            kind=EventKind.INCIDENT,
            element_id=event.element_id,
            detail=event.detail,
        )
    assert statements() == one


def _shown_all(user, case) -> list[str]:
    answer = api(user).get(f"/api/v1/cases/{case.pk}/timeline/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    errors = [event["detail"]["error"] for event in answer.json()["results"] if event["kind"] == "incident"]
    assert errors and all("STORGATA" not in error for error in errors)
    return errors
