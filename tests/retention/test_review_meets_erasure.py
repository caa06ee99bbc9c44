"""An auditor deciding a national id asked for in a closed case while the case is erased.

The erasure deletes the case's corrections. The decision read the correction, then locked
the case and read the correction again with ``get``: erased in between, that raised
``DoesNotExist`` and the auditor got a 500. Now 409 ``retention.erased``, as a decision after
the erasure is told, and nothing is written."""

import threading

import pytest

from retention import services as retention_services
from retention.models import Correction, ErasureRecord
from tests.threads import all_at_once
from workflows.models import Case, Person

from .helpers import NATIONAL_ID, archived, erase
from .test_requests import correct, review

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FREE_NUMBER = "05840399895"  # synthetic (bench.service.PERSON_IDS), held by nobody here


def test_a_national_id_decided_while_the_case_is_erased_is_refused_not_a_server_error(closed_case, users, monkeypatch):
    archived(closed_case)
    asked = correct(users["bjorn"], closed_case, "person.national_id", FREE_NUMBER)
    assert asked.status_code == 201, asked.json()
    read, erased = threading.Event(), threading.Event()
    to_decide = retention_services._national_id_to_decide

    def read_then_wait(*args):
        found = to_decide(*args)
        read.set()
        assert erased.wait(timeout=30)
        return found

    monkeypatch.setattr(retention_services, "_national_id_to_decide", read_then_wait)

    def erasure():
        assert read.wait(timeout=30)
        try:
            return erase(users["bjorn"], closed_case)
        finally:
            erased.set()

    decided, erased_answer = all_at_once([lambda: review(users["aud"], asked.json()["id"]), erasure])

    assert erased_answer.status_code == 201, erased_answer.json()
    assert decided.status_code == 409, decided.content
    assert decided.json()["code"] == "retention.erased"
    assert ErasureRecord.objects.filter(case=closed_case).count() == 1
    assert not Correction.objects.filter(case=closed_case).exists()
    assert not Person.objects.filter(national_id=FREE_NUMBER).exists()
    assert Case.objects.get(pk=closed_case.pk).person.national_id != NATIONAL_ID
