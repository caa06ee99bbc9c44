"""Two edges of a safety field's time in force (h-safety5).

A text without words (empty, or only blanks) is no warning, as no value is
(``policy.holds_warning``): a warning corrected to one is removed, its time and reminder mark
with it, and words given to one record a new warning, in force from then. Until h-safety5 only
``None`` counted as absent to the correction (``_warning_time_corrected``): words given to an
empty field took the time the step that wrote it empty had recorded, so the new warning came
back lapsed (or in force for what was left of that time), its reminder said told of.

A closed case takes no new warning: a removed one put back, or words given to an empty one, is
409 ``retention.safety_case_closed``, as a confirmation is. Its time in force would start after
the close, where nobody works the case and where the case file, which says what was in force at
the close (``archive.in_force_at``), cannot place it: until h-safety5 the case file called it in
force at a close it did not stand at, and it showed to every participant for a year more. Its
words are still corrected, and it is still removed, after the close (GDPR art. 16)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from permissions import policy
from retention import archive
from retention.models import Correction
from retention.rules import rules_for_process
from tests.api.test_safety_warnings import LONG_AGO, WARNING, _safety, people, warned  # noqa: F401 (fixtures)
from tests.clients import api
from workflows.models import Case, CaseStatus

pytestmark = pytest.mark.django_db

AGAIN = "Truet ansatt på telefon etter løslatelsen"


def _correct(user, case, value, reason="Rettet etter samtale"):
    return api(user).post(
        reverse("api-case-corrections", args=[case.pk]),
        {"field": "trussel", "value": value, "reason": reason},
        format="json",
    )


def _recorded(case) -> datetime.datetime:
    return datetime.datetime.fromisoformat(Case.objects.get(pk=case.pk).data_recorded_at["trussel"])


def _now_ish(moment) -> bool:
    return abs(moment - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)


@pytest.mark.parametrize("blank", ["", "   "])
def test_words_given_to_an_empty_warning_field_are_a_new_warning_in_force_from_then(warned, people, blank):  # noqa: F811
    # A step recorded the field without words long ago (its time written with it).
    Case.objects.filter(pk=warned.pk).update(
        data={**warned.data, "trussel": blank},
        data_recorded_at={"trussel": LONG_AGO},
        safety_reminded={"trussel": LONG_AGO},
    )
    answer = _correct(people["recorder"], warned, AGAIN)
    assert answer.status_code == 201, answer.content

    recorded = _recorded(warned)
    assert _now_ish(recorded)  # old: LONG_AGO, the empty field's time
    assert "trussel" not in Case.objects.get(pk=warned.pk).safety_reminded  # its own reminder
    shown = _safety(api(people["other"]), warned)
    assert shown["values"] == {"trussel": AGAIN} and "lapsed" not in shown  # old: lapsed, no value
    assert shown["valid_until"]["trussel"] == str(policy.lapses_on(recorded, 365) - datetime.timedelta(days=1))


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_warning_corrected_to_an_empty_text_is_removed_with_its_time(warned, people, blank):  # noqa: F811
    Case.objects.filter(pk=warned.pk).update(safety_reminded={"trussel": warned.data_recorded_at["trussel"]})
    assert _correct(people["recorder"], warned, blank).status_code == 201
    removed = Case.objects.get(pk=warned.pk)
    assert "trussel" not in removed.data_recorded_at  # old: the warning's time stayed
    assert "trussel" not in removed.safety_reminded  # old: and its reminder's mark
    assert _safety(api(people["other"]), warned).get("lapsed", {}) == {}

    assert _correct(people["recorder"], warned, AGAIN).status_code == 201
    assert _now_ish(_recorded(warned))


def test_a_warning_s_words_corrected_keep_its_time_whatever_blanks_they_have(warned, people):  # noqa: F811
    before = warned.data_recorded_at["trussel"]
    assert _correct(people["recorder"], warned, f"  {AGAIN}  ").status_code == 201
    assert Case.objects.get(pk=warned.pk).data_recorded_at["trussel"] == before


def _closed(case) -> Case:
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.COMPLETED, closed_at=timezone.now() - datetime.timedelta(days=10)
    )
    return Case.objects.get(pk=case.pk)


def test_a_removed_warning_is_not_put_back_on_a_closed_case(warned, people, settings):  # noqa: F811
    settings.BROBYGGER = {
        **settings.BROBYGGER,
        "RETENTION_CASE_FILE_CATEGORIES": ("identity", "housing", "coordination", "safety"),
    }
    closed = _closed(warned)
    assert _correct(people["recorder"], closed, None, "Feil person").status_code == 201  # removed: art. 16
    corrections = Correction.objects.filter(case=closed).count()

    refused = _correct(people["recorder"], closed, AGAIN)

    assert (refused.status_code, refused.json()["code"]) == (409, "retention.safety_case_closed")  # old: 201
    assert AGAIN not in refused.content.decode()
    case = Case.objects.get(pk=closed.pk)
    assert case.data["trussel"] is None and "trussel" not in case.data_recorded_at
    assert Correction.objects.filter(case=closed).count() == corrections
    filed = archive.case_file_fields(case, rules_for_process(case.process_key))
    assert AGAIN not in str(filed)  # old: in the case file, "in force" at a close it did not stand at


def test_an_empty_warning_field_is_given_no_words_on_a_closed_case(warned, people):  # noqa: F811
    Case.objects.filter(pk=warned.pk).update(data={**warned.data, "trussel": ""})
    refused = _correct(people["recorder"], _closed(warned), AGAIN)
    assert (refused.status_code, refused.json()["code"]) == (409, "retention.safety_case_closed")
    assert Case.objects.get(pk=warned.pk).data["trussel"] == ""


def test_a_closed_case_s_warning_is_still_corrected_in_its_words_and_keeps_its_time(warned, people):  # noqa: F811
    before = warned.data_recorded_at["trussel"]
    closed = _closed(warned)
    assert _correct(people["recorder"], closed, AGAIN).status_code == 201
    case = Case.objects.get(pk=closed.pk)
    assert (case.data["trussel"], case.data_recorded_at["trussel"]) == (AGAIN, before)
    assert WARNING not in str(case.data)
