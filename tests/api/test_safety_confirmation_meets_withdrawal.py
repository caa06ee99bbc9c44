"""A confirmation of a safety warning decided under the case's lock (h-attack34).

The confirmation decided who answers for the warning before it held the case row: an agency
the coordinator withdrew from the case while the request waited for that row still renewed
its warning for another year, in a case it no longer takes part in, and the timeline and the
access log recorded a write by an agency that had left."""

import pytest
from django.urls import reverse

from permissions import rules
from permissions.models import AccessLog
from tests.api.test_safety_warnings import _recorded_long_ago, people, warned  # noqa: F401 (fixtures)
from tests.clients import api
from workflows import services
from workflows.models import Case, Event, EventKind
from workflows.services import safety

pytestmark = pytest.mark.django_db


def test_an_agency_withdrawn_while_its_confirmation_waits_does_not_renew_its_warning(
    warned,  # noqa: F811
    people,  # noqa: F811
    agencies,
    monkeypatch,
):
    _recorded_long_ago(warned)
    decide = rules.decide_lapsed_warning
    calls = []

    def withdrawn_meanwhile(access, case, source):
        decision = decide(access, case, source)
        if not calls:  # the first decision: then the coordinator's withdrawal commits
            calls.append(decision)
            services.withdraw_agency(
                actor=people["coordinator"], case=warned.pk, agency=agencies["prison"].pk, reason="Løslatt"
            )
        return decision

    monkeypatch.setattr(safety.rules, "decide_lapsed_warning", withdrawn_meanwhile)
    answer = api(people["recorder"]).post(
        reverse("api-case-safety-confirmations", args=[warned.pk]), {"field": "trussel"}, format="json"
    )

    assert calls and calls[0]  # the recorder answered for it when the request came
    assert answer.status_code in (403, 404), answer.content
    assert Case.objects.get(pk=warned.pk).data_recorded_at["trussel"] == "2020-01-15T10:00:00+00:00"
    assert not Event.objects.filter(case=warned, kind=EventKind.SAFETY_CONFIRMED).exists()
    assert not AccessLog.objects.filter(case=warned, item=safety.ITEM_CONFIRMED).exists()
