"""Issue 13, points 4 and 5: the case page explains masking and says what a waiting case
waits for and until when."""

import pytest

from tests.ids import tid
from tests.workflows.helpers import complete, open_tasks, run_to_end
from workflows.models import ProcessInstance

from .conftest import INTAKE_NO_HOME, open_task

pytestmark = pytest.mark.django_db


def test_a_case_waiting_on_a_timer_says_what_it_waits_for_and_until_when(web, prison_case):
    run_to_end(prison_case)
    due = ProcessInstance.objects.get(case=prison_case).next_timer_at
    assert due is not None
    page = web("bjorn").get(f"/cases/{prison_case.pk}/").content.decode()
    ball = page[page.index('id="ball"') : page.index("</section>", page.index('id="ball"'))]
    assert 'id="waiting"' in ball and "Ingen etat har åpent arbeid i saken" not in ball
    assert "Hver måned i seks måneder" in ball  # the timer event's name
    assert 'datetime="' in ball and "går saken videre av seg selv" in ball


def test_the_monthly_visit_timer_says_nine_in_the_morning_not_the_time_it_was_started(web, prison_case, monkeypatch):
    """The prison case's last part waits on R6/P1M: reached at 03:39 at night, the first
    visit falls due a month later at 09:00 Oslo time, and the page says so."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.clock import Clock

    Clock(monkeypatch, datetime(2027, 1, 15, 3, 39, tzinfo=ZoneInfo("Europe/Oslo")))
    run_to_end(prison_case)
    assert ProcessInstance.objects.get(case=prison_case).next_timer_at == datetime(
        2027, 2, 15, 9, 0, tzinfo=ZoneInfo("Europe/Oslo")
    )
    page = web("bjorn").get(f"/cases/{prison_case.pk}/").content.decode()
    ball = page[page.index('id="ball"') : page.index("</section>", page.index('id="ball"'))]
    assert '<time datetime="2027-02-15T09:00:00+01:00">15. februar 2027 09:00</time>' in ball


def test_masking_is_explained(web, prison_case):
    intake = open_task(prison_case, "Task_intake_interview")
    assert web("kari").post(f"/tasks/{tid(intake.pk)}/", INTAKE_NO_HOME).status_code == 302
    page = web("nils").get(f"/cases/{prison_case.pk}/").content.decode()
    assert 'id="national-id-masked"' in page  # the masked number says why
    assert "delvis skjult" in page  # justice: the shared release date shown, the rest masked
    assert "er det personen sa" in page  # "consents to contact NAV: yes" is not a registered consent


def test_the_prison_sends_a_changed_release_date_from_the_case_page(web, prison_case):
    from workflows.models import Event, EventKind

    _until_finding_a_home(prison_case)
    kari = web("kari")
    page = kari.get(f"/cases/{prison_case.pk}/").content.decode()
    assert 'id="send-release_date_changed"' in page and 'name="expected_release_date"' in page
    assert 'id="send-release_date_changed"' not in web("nils").get(f"/cases/{prison_case.pk}/").content.decode()

    url = f"/cases/{prison_case.pk}/messages/"
    bad = kari.post(url, {"message": "release_date_changed", "expected_release_date": ""})
    assert bad.status_code == 302 and bad["Location"].endswith("#send-message")
    assert not Event.objects.filter(case=prison_case, kind=EventKind.MESSAGE_RECEIVED).exists()
    ok = kari.post(url, {"message": "release_date_changed", "expected_release_date": "2027-04-15"})
    assert ok.status_code == 302
    assert Event.objects.filter(case=prison_case, kind=EventKind.MESSAGE_RECEIVED).exists()
    prison_case.refresh_from_db()
    assert "2027-04-15" in str(prison_case.data)


def test_only_the_declared_sender_may_send_it(web, prison_case):
    _until_finding_a_home(prison_case)
    post = {"message": "release_date_changed", "expected_release_date": "2027-04-15"}
    assert web("nils").post(f"/cases/{prison_case.pk}/messages/", post).status_code == 403
    assert web("siri").post(f"/cases/{prison_case.pk}/messages/", post).status_code == 404


def _until_finding_a_home(case):
    """Work the case until the housing office looks for a home: the release date may change."""
    for _ in range(20):
        tasks = open_tasks(case)
        if any(t.element_id == "Task_find_home" for t in tasks):
            return
        complete(tasks[0])
    raise AssertionError("Task_find_home never opened")
