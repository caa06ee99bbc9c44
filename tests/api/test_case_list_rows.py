"""The case list's rows (``CaseSummarySerializer``, written out for speed) say exactly what
DRF's own walk over the declared fields says, for every kind of row: with and without a
responsible contact, a timer, a closing date."""

from datetime import UTC, datetime

import pytest
from rest_framework import serializers

from api.serializers import CaseSummarySerializer
from workflows import selectors
from workflows.models import Case, CaseStatus, ProcessInstance

pytestmark = pytest.mark.django_db


def test_each_row_is_what_the_declared_fields_give(client_for, users, prison_case, discharge_case, small_case):
    Case.objects.filter(pk=prison_case.pk).update(responsible=None)
    Case.objects.filter(pk=discharge_case.pk).update(
        responsible=users["bjorn"], status=CaseStatus.COMPLETED, closed_at=datetime(2027, 1, 15, 8, 30, tzinfo=UTC)
    )
    ProcessInstance.objects.filter(case=small_case).update(next_timer_at=datetime(2027, 6, 1, 10, tzinfo=UTC))
    rows = list(selectors.cases_for(users["bjorn"]))
    assert len(rows) >= 2

    fast = CaseSummarySerializer(rows, many=True).data
    declared = [serializers.Serializer.to_representation(CaseSummarySerializer(), case) for case in rows]
    assert [dict(row) for row in fast] == [dict(row) for row in declared]
    kinds = {(row["responsible"] is None, row["closed_at"] is None, row["next_timer_at"] is None) for row in fast}
    assert len(kinds) >= 2  # rows of more than one kind were compared

    listed = client_for("bjorn").get("/api/v1/cases/").json()["results"]
    assert listed == [dict(row) for row in declared]
