"""A completion replayed with its ``Idempotency-Key`` after the person withdrew the consent the
first answer rested on: the replay names only the next tasks the reader may see now.

The first answer named the health service's and the housing office's next tasks, which lie on
the branch a health value chose and which NAV sees only with the person's consent (health and
housing). Stored whole, the replay handed that list back for 24 hours after the consent was
withdrawn ("with immediate effect", domain.md): the branch the health value chose, told to an
agency the person had just shut out of it."""

import pytest

from tests.ids import tid
from tests.workflows.helpers import PERSON, PRISON_PARTICIPANTS, form_data, open_tasks
from workflows import selectors, services
from workflows.models import Task

pytestmark = pytest.mark.django_db


def _started_with_consent(users, agencies, consent_basis):
    case = services.start_case(
        actor=users["kari"],
        process_key="prison_release_to_housing",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
    )
    (intake,) = open_tasks(case)
    services.complete_task(actor=users["kari"], task_id=intake.pk, data=form_data(intake))
    consent = services.record_consent(
        actor=users["bjorn"],
        case=case,
        agency=agencies["nav"],
        categories=["health", "housing"],
        purpose="Bolig etter løslatelse",
        legal_basis=consent_basis,
    )
    return case, consent


def _seen_now(users, case):
    case.refresh_from_db()
    return sorted(
        task.public_id for task in selectors.path_view_for(users["nils"], case).tasks(selectors.open_case_tasks(case))
    )


def test_a_replay_after_the_consent_was_withdrawn_names_no_task_the_reader_no_longer_sees(
    users, agencies, shipped, consent_basis, client_for
):
    case, consent = _started_with_consent(users, agencies, consent_basis)
    task = Task.objects.get(case=case, agency__kind="nav", status="open")
    client, body = client_for("nils"), {"data": form_data(task)}
    url = f"/api/v1/tasks/{tid(task.pk)}/complete/"
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-consent")
    assert first.status_code == 200, first.content
    named_then = sorted(row["id"] for row in first.json()["open_tasks"])
    assert named_then and named_then == _seen_now(users, case)  # the consent opened them

    services.revoke_consent(actor=users["bjorn"], consent_id=consent.pk)
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-consent")

    assert again.status_code == 200 and again["Idempotency-Replayed"] == "true"
    assert _seen_now(users, case) == []  # a fresh look shows none of them now
    replayed = again.json()
    assert replayed["open_tasks"] == []
    # The rest of the first answer is given back as it was: the task, the case, its status.
    assert {key: value for key, value in replayed.items() if key != "open_tasks"} == {
        key: value for key, value in first.json().items() if key != "open_tasks"
    }
