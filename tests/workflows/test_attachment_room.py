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
