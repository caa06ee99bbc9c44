"""A safety warning removed (corrected to no value) and recorded again by its recorder through
a correction is a new warning: it holds from when it was recorded again, for its whole time,
with a reminder of its own (domain.md: time-limited). Until h-safety4 the correction put the
value back under the removed warning's time: a warning recorded and confirmed more than a
year before came back already lapsed for the other participants (or in force only for what
was left of the old time), and the old reminder's mark said its keepers had been told.

The coordinator, who removes another agency's warning, does not put one back (its words are
its recorder's: 403 ``retention.safety_remove_only``), nor does another participant (403);
neither answer carries a value."""

import datetime

import pytest
from django.urls import reverse

from permissions import policy
from tests.api.test_safety_warnings import LONG_AGO, WARNING, _safety, people, warned  # noqa: F401 (fixtures)
from tests.clients import api
from workflows.models import Case

pytestmark = pytest.mark.django_db

AGAIN = "Truet ansatt på telefon etter løslatelsen"


def _correct(user, case, value, reason="Rettet etter samtale"):
    return api(user).post(
        reverse("api-case-corrections", args=[case.pk]),
        {"field": "trussel", "value": value, "reason": reason},
        format="json",
    )


def test_a_removed_warning_recorded_again_holds_from_then(warned, people):  # noqa: F811
    Case.objects.filter(pk=warned.pk).update(
        data_recorded_at={"trussel": LONG_AGO}, safety_reminded={"trussel": LONG_AGO}
    )
    assert "trussel" in _safety(api(people["other"]), warned)["lapsed"]
    assert _correct(people["coordinator"], warned, None, "Gjelder ikke lenger").status_code == 201
    removed = Case.objects.get(pk=warned.pk)
    assert "trussel" not in removed.data_recorded_at and "trussel" not in removed.safety_reminded

    for who in ("coordinator", "other"):
        refused = _correct(people[who], warned, AGAIN)
        assert refused.status_code == 403, (who, refused.content)
        assert AGAIN not in refused.content.decode() and WARNING not in refused.content.decode()
    assert (Case.objects.get(pk=warned.pk).data or {}).get("trussel") is None

    answer = _correct(people["recorder"], warned, AGAIN)
    assert answer.status_code == 201, answer.content
    case = Case.objects.get(pk=warned.pk)
    recorded = datetime.datetime.fromisoformat(case.data_recorded_at["trussel"])
    assert abs(recorded - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)  # old: LONG_AGO
    assert "trussel" not in case.safety_reminded  # its own reminder, before its own end

    shown = _safety(api(people["other"]), case)
    assert shown["values"] == {"trussel": AGAIN} and "lapsed" not in shown  # old: lapsed, no value
    assert shown["valid_until"]["trussel"] == str(policy.lapses_on(recorded, 365) - datetime.timedelta(days=1))


def test_a_warning_s_words_corrected_keep_its_time(warned, people):  # noqa: F811
    before = Case.objects.get(pk=warned.pk).data_recorded_at["trussel"]
    assert _correct(people["recorder"], warned, AGAIN).status_code == 201
    assert Case.objects.get(pk=warned.pk).data_recorded_at["trussel"] == before  # the same warning
