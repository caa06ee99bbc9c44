"""Two confirmations of one lapsed safety attachment at once (PostgreSQL), by its agency and the
coordinator: both answer as made, and the file is confirmed once (one new time in force, one
event), never half (a time without its event, or two events of one time). Each confirmer's word
is logged as theirs. As a safety note's confirmation, decided under the case's lock."""

import pytest

from permissions.models import AccessLog
from tests.api.test_safety_attachment_confirmation import case, people, warning_file  # noqa: F401 (fixtures)
from tests.threads import all_at_once, meet_after
from workflows import services
from workflows.models import Event, EventKind
from workflows.notes import Attachment
from workflows.services import attachments as attachment_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_confirmations_at_once_confirm_the_file_once(people, case, monkeypatch):  # noqa: F811
    attachment = warning_file(people, case)
    # Both have read the file and passed every check before either takes the lock.
    meet_after(monkeypatch, attachment_services, "_attachment_of")

    def confirm(who):
        return lambda: services.confirm_safety_attachment(actor=people[who], case=case.pk, attachment_id=attachment.pk)

    outcomes = all_at_once([confirm("recorder"), confirm("coordinator")])

    assert all(isinstance(o, Attachment) for o in outcomes), outcomes
    confirmed = Attachment.objects.get(pk=attachment.pk).confirmed_at
    assert confirmed is not None and {o.confirmed_at for o in outcomes} == {confirmed}
    (event,) = Event.objects.filter(case=case, kind=EventKind.SAFETY_CONFIRMED)
    assert event.detail == {"attachment": attachment.pk, "category": "safety"}
    rows = AccessLog.objects.filter(case=case, item=f"attachment:{attachment.pk}", action="write")
    assert sorted(rows.values_list("user__username", flat=True)) == sorted(
        [people["recorder"].username, people["recorder"].username, people["coordinator"].username]
    )  # the adding, and each confirmer's word
