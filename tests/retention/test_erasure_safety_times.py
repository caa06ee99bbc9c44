"""An erasure takes the times of the case's safety warnings with its data (h-attack34).

``Case.data_recorded_at`` (h-safety) holds, per safety field, when its warning was recorded or
last confirmed. The erasure emptied the case's data, sources and the values every case's
steps left, but not this column: the erased case still said that a warning about its person
was recorded (the field's name, ``trussel``) and when."""

import pytest

from retention import erasure
from retention.models import ErasureTrigger
from tests.api.test_safety_warnings import people, warned  # noqa: F401 (fixtures)
from workflows import services
from workflows.models import Case, CaseStatus, Task

pytestmark = pytest.mark.django_db


def test_an_erased_case_keeps_no_time_of_its_safety_warning(warned, people, monkeypatch):  # noqa: F811
    for element, worker in (("T_nav", "other"), ("T_home", "coordinator")):
        task = Task.objects.get(case=warned, element_id=element)
        services.complete_task(actor=people[worker], task_id=task.pk, data={"notert": True})
    assert Case.objects.get(pk=warned.pk).status == CaseStatus.COMPLETED
    assert "trussel" in Case.objects.get(pk=warned.pk).data_recorded_at
    # The archive has its case file (what the archive endpoint's tests do end to end).
    monkeypatch.setattr(erasure, "unmet_archive_duty", lambda case: ())

    record = erasure.erase_case(
        warned.pk, trigger=ErasureTrigger.REQUEST, actor=people["coordinator"], reason="Personen ba om det"
    )

    assert record is not None
    erased = Case.objects.get(pk=warned.pk)
    assert erased.data == {}
    assert erased.data_recorded_at == {}
