"""Issue 13, points 4 and 5: the case page explains masking and says what a waiting case
waits for and until when."""

import pytest

from tests.workflows.helpers import run_to_end
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


def test_masking_is_explained(web, prison_case):
    intake = open_task(prison_case, "Task_intake_interview")
    assert web("kari").post(f"/tasks/{intake.pk}/", INTAKE_NO_HOME).status_code == 302
    page = web("nils").get(f"/cases/{prison_case.pk}/").content.decode()
    assert 'id="national-id-masked"' in page  # the masked number says why
    assert "delvis skjult" in page  # justice: the shared release date shown, the rest masked
    assert "er det personen sa" in page  # "consents to contact NAV: yes" is not a registered consent
