"""A case holds a bounded number of files and bytes: a participant could add 10 MB after
10 MB to one case (each upload alone within ATTACHMENT_MAX_BYTES) until the database's disk,
which every agency shares, was full (resource-exhaustion review)."""

import pytest

from core.errors import InvalidInput
from workflows import services
from workflows.notes import Attachment

from .helpers import start_prison_case
from .test_attachments import PDF, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(users, agencies, shipped):
    return start_prison_case(users, agencies)


def _add(users, case):
    return services.add_attachment(actor=users["bjorn"], case=case.pk, upload=upload(PDF))


def _refusal(users, case):
    with pytest.raises(InvalidInput) as refused:
        _add(users, case)
    return [(error["field"], error["code"]) for error in refused.value.errors], refused.value.errors[0]["message"]


def test_a_case_holds_at_most_so_many_bytes_of_files(users, case, settings):
    settings.ATTACHMENT_CASE_MAX_BYTES = 3 * len(PDF)
    for _ in range(3):
        _add(users, case)
    assert _refusal(users, case)[0] == [("file", "attachment.case_bytes_full")]
    assert Attachment.objects.filter(case=case).count() == 3
    # A withdrawn file's bytes are deleted: its room is free again.
    first = Attachment.objects.filter(case=case).first()
    services.withdraw_attachment(actor=users["bjorn"], case=case.pk, attachment_id=first.pk)
    _add(users, case)


def test_a_case_has_at_most_so_many_files_added_withdrawn_ones_too(users, case, settings):
    settings.ATTACHMENT_CASE_MAX_COUNT = 2
    added = _add(users, case)
    services.withdraw_attachment(actor=users["bjorn"], case=case.pk, attachment_id=added.pk)
    _add(users, case)
    codes, message = _refusal(users, case)
    assert codes == [("file", "attachment.case_count_full")]
    assert "2" in message
    assert Attachment.objects.filter(case=case).count() == 2


def test_the_room_is_each_agency_s_own_and_tells_nothing_of_another_s_files(users, case, settings):
    """Counted over the case, the refusal told the housing contact the size of files it may
    not see (the prison's: fill the room, then add and withdraw until refused), and one agency
    could use up every other's room. Each agency's own files count now."""
    settings.ATTACHMENT_CASE_MAX_BYTES = 2 * len(PDF)
    settings.ATTACHMENT_CASE_MAX_COUNT = 3
    for _ in range(2):
        services.add_attachment(actor=users["kari"], case=case.pk, upload=upload(PDF))  # the prison's
    for _ in range(2):
        _add(users, case)  # the housing contact's: room of its own
    codes, message = _refusal(users, case)
    assert codes == [("file", "attachment.case_bytes_full")]
    assert "agency" in message
    first = Attachment.objects.filter(case=case, uploaded_by=users["bjorn"]).first()
    services.withdraw_attachment(actor=users["bjorn"], case=case.pk, attachment_id=first.pk)
    _add(users, case)  # the third of the housing contact's, whatever the prison added
    assert _refusal(users, case)[0] == [("file", "attachment.case_count_full")]
