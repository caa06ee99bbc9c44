"""A national id written as people write one is masked as the person's is (h-attack34).

h-attack33 masked a value of the identity category that is a national id whatever its
field is called; but only a text that was a number as a whole, spaces left out, was known as
one. A caseworker types the child's number as the letter prints it, six and five apart by a
hyphen ("298220-99635"), or a contact's number inside a line of text (six and five apart
by a space was known already: the spaces were left out): each was shown in full
to every participant of the case, on every page and answer, and no access-log row was
written (identity reads are not logged)."""

import pytest
from django.test import Client
from django.urls import reverse

from permissions.models import AccessLog
from tests.permissions.test_national_id_under_any_name import CHILD, CHILD_MASKED, _case, _client, _forms, staff  # noqa: F401
from workflows import services

pytestmark = pytest.mark.django_db

# (as written, as shown): the rest of a text stays as written, and so do digits whose check
# digits do not hold (an order number).
WRITTEN = (
    ("298220-99635", CHILD_MASKED),
    (
        "Mor: Kari Testesen, fnr. 298220-99635, saksnr. 298220-99636",
        f"Mor: Kari Testesen, fnr. {CHILD_MASKED}, saksnr. 298220-99636",
    ),
)


@pytest.mark.parametrize(("written", "shown"), WRITTEN)
def test_a_national_id_written_apart_or_in_a_text_is_masked_for_every_participant(agencies, staff, written, shown):  # noqa: F811
    case, task = _case(agencies, staff, _forms())
    services.complete_task(
        actor=staff["health"],
        task_id=task.pk,
        data={"applicant_id": "A-17", "diagnosis": "F20", "barnets_fodselsnr": written},
    )

    for reader in ("nav", "housing", "health"):
        answer = _client(staff[reader]).get(reverse("api-case", args=[case.pk]))
        assert answer.status_code == 200
        assert answer.json()["data"]["identity"]["values"]["barnets_fodselsnr"] == shown, reader
        browser = Client()
        browser.force_login(staff[reader])
        page = browser.get(reverse("case", args=[case.pk])).content.decode()
        assert "99635" not in page and CHILD not in page, reader
    assert not AccessLog.objects.filter(category="identity").exists()


def test_a_text_or_key_naming_a_national_id_as_written_masks_it_and_a_long_text_costs_no_more(agencies, staff):  # noqa: F811
    """A key written so masks its object whole, as a key that is a number does (h-natid); a
    text with more eleven-digit candidates than ``SCAN_LIMIT`` is masked whole, unread, as a
    value of too many items is: its read costs no more than a short text's."""
    from permissions import policy

    case, task = _case(agencies, staff, _forms())
    services.complete_task(
        actor=staff["health"],
        task_id=task.pk,
        data={"applicant_id": "A-17", "diagnosis": "F20", "barnets_fodselsnr": "298220-99635"},
    )
    stars = "*" * 11
    nav = _client(staff["nav"])
    for value in (
        [{"298220-99635": "barn"}],
        " ".join([*(f"{n:011d}" for n in range(10**10, 10**10 + policy.SCAN_LIMIT)), "298220-99635"]),
    ):
        case.data = {**case.data, "barnets_fodselsnr": value}
        case.save(update_fields=["data"])
        answer = nav.get(reverse("api-case", args=[case.pk]))
        assert answer.status_code == 200
        assert "99635" not in answer.content.decode()
        assert answer.json()["data"]["identity"]["values"]["barnets_fodselsnr"] == stars
