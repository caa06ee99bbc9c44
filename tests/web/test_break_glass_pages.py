"""Break-glass through the pages: the form on the case page, the coordinator's list, the
auditor's review list and action; outsiders refused."""

import pytest

from permissions.models import BreakGlass
from tests.ids import tid

from .conftest import HEALTH_PLAN, INTAKE_NO_HOME, open_task

pytestmark = pytest.mark.django_db

SECRET = HEALTH_PLAN["treatment_plan"]
REASON = "Trusler om selvmord i telefonsamtale; må vite om behandlingsopplegg nå"


@pytest.fixture
def case_with_health(web, prison_case):
    web("kari").post(f"/tasks/{tid(open_task(prison_case, 'Task_intake_interview').pk)}/", INTAKE_NO_HOME)
    web("helga").post(f"/tasks/{tid(open_task(prison_case, 'Task_health_follow_up_plan').pk)}/", HEALTH_PLAN)
    return prison_case


def test_nils_opens_health_in_an_emergency_and_only_he_sees_it(web, case_with_health):
    case, nils = case_with_health, web("nils")
    url = f"/cases/{case.pk}/"
    page = nils.get(url).content.decode()
    assert 'id="break-glass-category"' in page and SECRET not in page
    assert 'id="break-glass-list"' not in page  # the openings are for the coordinator

    short = nils.post(f"{url}break-glass/", {"category": "health", "reason": "akutt"})
    assert short.status_code == 400 and "minst 20 tegn" in short.content.decode()
    assert not BreakGlass.objects.exists()

    assert nils.post(f"{url}break-glass/", {"category": "health", "reason": REASON}).status_code == 302
    page = nils.get(url).content.decode()
    assert SECRET in page and "Du har nødtilgang til helse" in page
    assert SECRET not in web("nora").get(url).content.decode()

    coordinator = web("bjorn").get(url).content.decode()
    assert 'id="break-glass-list"' in coordinator and REASON in coordinator
    report = web("bjorn").get(f"{url}person-access-report/").content.decode()
    assert REASON in report and "nødtilgang" in report


@pytest.mark.parametrize("username", ["siri", "ada", "aud", "oscar"])
def test_outsiders_cannot_open(username, web, case_with_health):
    response = web(username).post(
        f"/cases/{case_with_health.pk}/break-glass/", {"category": "health", "reason": REASON}
    )
    assert response.status_code == 404
    assert not BreakGlass.objects.exists()


def test_the_auditor_reviews_from_the_list(web, case_with_health):
    web("nils").post(f"/cases/{case_with_health.pk}/break-glass/", {"category": "health", "reason": REASON})
    grant = BreakGlass.objects.get()
    for username in ("nils", "bjorn", "ada"):
        assert web(username).get("/break-glass/").status_code == 403
        assert web(username).post(f"/break-glass/{grant.pk}/review/").status_code == 404
    aud = web("aud")
    page = aud.get("/break-glass/").content.decode()
    assert REASON in page and case_with_health.reference in page and 'href="/break-glass/"' in page
    assert aud.post(f"/break-glass/{grant.pk}/review/", {"note": "I orden"}).status_code == 302
    assert "Ingenting venter på kontroll." in aud.get("/break-glass/").content.decode()
    grant.refresh_from_db()
    assert grant.reviewed_by.username == "aud" and grant.review_note == "I orden"


def test_the_opening_shows_health_notes_and_attachments_on_the_page_until_it_expires(
    web, users, prison_case, monkeypatch
):
    import datetime

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from permissions.models import AccessAction, AccessLog
    from tests.workflows.test_attachments import PDF
    from workflows import services

    note_text = "Avbrøt LAR i forrige uke, ruset ved besøk"
    services.add_note(actor=users["helga"], case=prison_case.pk, text=note_text)
    attachment = services.add_attachment(
        actor=users["helga"], case=prison_case.pk, upload=SimpleUploadedFile("epikrise.pdf", PDF)
    )
    url, download = f"/cases/{prison_case.pk}/", f"/cases/{prison_case.pk}/attachments/{attachment.pk}/"

    def shown(username):
        page = web(username).get(url).content.decode()
        return note_text in page, "epikrise.pdf" in page, web(username).get(download).status_code

    assert shown("nils") == (False, False, 403)
    assert web("nils").post(f"{url}break-glass/", {"category": "health", "reason": REASON}).status_code == 302
    grant = BreakGlass.objects.get()
    assert shown("nils") == (True, True, 200)
    assert web("nils").get(download).content == PDF
    assert set(
        AccessLog.objects.filter(username="nils", break_glass=grant)
        .exclude(action=AccessAction.BREAK_GLASS)
        .values_list("item", "basis")
    ) >= {("notes", f"break-glass:{grant.pk}"), ("attachments", f"break-glass:{grant.pk}")}
    review = web("aud").get("/break-glass/").content.decode()
    reads = AccessLog.objects.filter(break_glass=grant, action__in=("read", "export")).count()
    assert reads >= 4 and f'class="reads">{reads}</td>' in review  # two pages read, two downloads
    assert shown("nora") == (False, False, 403)  # the same agency, no opening of her own
    assert shown("kari") == (False, False, 403)  # another agency

    later = grant.expires_at + datetime.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert shown("nils") == (False, False, 403)


def test_a_closed_case_offers_no_emergency_access_and_refuses_a_post(web, case_with_health):
    from django.utils import timezone

    from workflows.models import Case, CaseStatus

    case, nils = case_with_health, web("nils")
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    page = nils.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="break-glass-category"' not in page and 'id="open-break-glass"' not in page
    assert "Saken er avsluttet, så nødtilgang kan ikke åpnes." in page

    answer = nils.post(f"/cases/{case.pk}/break-glass/", {"category": "health", "reason": REASON}, follow=True)
    assert "nødtilgang kan bare åpnes mens en sak er åpen" in answer.content.decode()
    assert not BreakGlass.objects.exists() and SECRET not in answer.content.decode()


def test_the_form_opens_only_the_category_the_user_chooses(web, case_with_health):
    """The category list chose its first entry (housing) for whoever only wrote the reason, so
    an emergency about health opened the person's housing data, which nobody asked for (the
    API refuses an opening that names no category). Now it asks, and such a post opens nothing."""
    import re

    nils = web("nils")
    page = nils.get(f"/cases/{case_with_health.pk}/").content.decode()
    select = page.split('id="break-glass-category"')[1].split("</select>")[0]
    chosen = re.search(r'<option value="(\w*)"[^>]* selected', select) or re.search(r'<option value="(\w*)"', select)
    answer = nils.post(f"/cases/{case_with_health.pk}/break-glass/", {"category": chosen.group(1), "reason": REASON})
    assert not BreakGlass.objects.exists()
    assert answer.status_code == 400 and "feltet må fylles ut" in answer.content.decode()


def test_the_auditor_ends_a_reviewed_opening_still_in_force_from_the_review_page(web, case_with_health):
    """Once reviewed, an opening left the review list, and only the API ended it: the page now
    lists the reviewed openings still in force, each with its end button."""
    web("nils").post(f"/cases/{case_with_health.pk}/break-glass/", {"category": "health", "reason": REASON})
    grant = BreakGlass.objects.get()
    aud = web("aud")
    assert aud.post(f"/break-glass/{grant.pk}/review/", {"note": "Begrunnet"}).status_code == 302

    page = aud.get("/break-glass/").content.decode()
    assert 'id="break-glass-in-force"' in page and "Kontrollert, men fortsatt i kraft" in page
    assert f'id="end-break-glass-{grant.pk}"' in page and REASON not in page.split('id="break-glass-in-force"')[1]

    assert aud.post(f"/break-glass/{grant.pk}/end/").status_code == 302
    grant.refresh_from_db()
    assert grant.ended_at is not None and grant.ended_by.username == "aud" and not grant.is_active()
    assert 'id="break-glass-in-force"' not in aud.get("/break-glass/").content.decode()
