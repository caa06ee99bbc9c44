"""The correction form shows an earlier value that is a national id masked, as the case page
does (review2).

The retention page offers the agency that recorded a value a later step wrote over its earlier
value, shown in the form (h-correct). The case page shows that earlier value with each
national id in it masked (h-natid: identity is open to the participants, the national id only
where a task needs it), but the form printed it as stored: the child's number in full, and,
identity reads being unlogged, with no access-log row."""

import pytest
from django.urls import reverse

from permissions.models import AccessLog
from tests.api.test_branch_rewritten_earlier_correction import start_cases
from tests.clients import web
from tests.retention.test_earlier_value_page import SEEN_FORMS
from workflows.models import Case

pytestmark = pytest.mark.django_db

CHILD = "29822099635"  # synthetic (Skatteetaten's test numbers: month + 80)
IDENTITY = {"type": "string", "title": "Barnets fødselsnummer", "x-category": "identity"}
FORMS = {
    **SEEN_FORMS,
    "i.schema.json": {"type": "object", "properties": {"move_date": IDENTITY}},
    "a.schema.json": {"type": "object", "properties": {"move_date": IDENTITY}},
}


def test_an_earlier_national_id_is_masked_in_the_correction_form(users, agencies):
    case = start_cases(
        users,
        agencies,
        process="Proc_earlier_id",
        recorder="bjorn",
        writer="nils",
        intake_lane="Boligkontakt",
        branch_lane="NAV",
        forms=FORMS,
    )[True]
    # The housing contact recorded the child's number; NAV's step on the branch wrote another.
    common = {**case.data_common, "move_date": [f"fnr. {CHILD}", agencies["housing"].pk]}
    Case.objects.filter(pk=case.pk).update(data_common=common)
    answer = web(users["bjorn"]).get(
        reverse("case-retention", args=[case.pk]), {"field": "move_date"}, HTTP_ACCEPT_LANGUAGE="nb"
    )
    page = answer.content.decode()

    assert answer.status_code == 200
    assert 'name="of" value="earlier"' in page  # the earlier value is offered ...
    assert "fnr. 298220*****" in page and "99635" not in page  # ... masked
    assert not AccessLog.objects.filter(category="identity").exists()
