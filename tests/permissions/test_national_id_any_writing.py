"""A national id is masked however the form or the writer keeps it (review2).

h-natid and h-attack34 masked a national id of the identity category by what it is: a text
that is one, or one written in a text as six and five digits apart by a space or a hyphen.
Three writings slipped through, shown in full to every participant and their reads not
logged (identity reads are not): a form that asks for the number as a number (``"type":
"integer"``: the value is kept as a JSON number, which no check looked at), the number
pasted from a letter or a web page with a no-break space, an en dash or a dot between its
parts, and the number in full-width digits (as an Asian input method types them)."""

import pytest
from django.test import Client
from django.urls import reverse

from permissions.models import AccessLog
from tests.permissions.test_national_id_under_any_name import CHILD, _case, _client, _forms, staff  # noqa: F401
from workflows import services

pytestmark = pytest.mark.django_db

FULL_WIDTH = CHILD.translate({ord(str(n)): chr(0xFF10 + n) for n in range(10)})
WRITTEN = (
    "fnr. 298220\u00a099635",  # no-break space, as a letter's template or a web page sets it
    "fnr. 298220\u202f99635",  # narrow no-break space
    "fnr. 298220\u201399635",  # en dash, as a word processor makes of a hyphen
    "fnr. 298220 - 99635",
    "fnr. 298220.99635",
    f"fnr. {FULL_WIDTH}",
)


def _read_by_others(case, staff):  # noqa: F811
    for reader in ("nav", "housing"):
        answer = _client(staff[reader]).get(reverse("api-case", args=[case.pk]))
        assert answer.status_code == 200
        text = answer.content.decode()
        assert "99635" not in text and FULL_WIDTH[-5:] not in text, reader
        browser = Client()
        browser.force_login(staff[reader])
        page = browser.get(reverse("case", args=[case.pk])).content.decode()
        assert "99635" not in page and FULL_WIDTH[-5:] not in page, reader
    assert not AccessLog.objects.filter(category="identity").exists()


def test_a_national_id_a_form_keeps_as_a_number_is_masked(agencies, staff):  # noqa: F811
    forms = _forms()
    form = forms["care_applicant.schema.json"]
    form["properties"]["barnets_fodselsnr"] = {**form["properties"]["barnets_fodselsnr"], "type": "integer"}
    case, task = _case(agencies, staff, forms)
    services.complete_task(
        actor=staff["health"],
        task_id=task.pk,
        data={"applicant_id": "A-17", "diagnosis": "F20", "barnets_fodselsnr": int(CHILD)},
    )
    case.refresh_from_db()
    assert case.data["barnets_fodselsnr"] == int(CHILD)

    _read_by_others(case, staff)


@pytest.mark.parametrize("written", WRITTEN)
def test_a_national_id_written_with_another_separator_or_other_digits_is_masked(agencies, staff, written):  # noqa: F811
    case, task = _case(agencies, staff, _forms())
    services.complete_task(
        actor=staff["health"],
        task_id=task.pk,
        data={"applicant_id": "A-17", "diagnosis": "F20", "barnets_fodselsnr": written},
    )

    _read_by_others(case, staff)
    # The rest of the text stays as written.
    answer = _client(staff["nav"]).get(reverse("api-case", args=[case.pk]))
    assert answer.json()["data"]["identity"]["values"]["barnets_fodselsnr"].startswith("fnr. ")
