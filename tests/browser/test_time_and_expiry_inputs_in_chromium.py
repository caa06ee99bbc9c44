"""The task form's time of day and the consent's expiry day in Chromium (h-inputs), on a desktop
and on a phone: the time field is the browser's time input, what it sends is stored with Oslo's
offset of the day and shown back as "09:00"; the expiry input offers today to 2199-12-31, and a
day past that is refused at the field. Every page passes axe-core and speaks bokmål."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from bpmn.services import deploy_definition
from permissions.models import Consent, Membership, Role
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import PRISON_PARTICIPANTS, open_tasks
from workflows import services
from workflows.models import Case

from .conftest import PASSWORD, PHONE, overflow_px, page_checker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY = "Proc_time_in_browser"
VISIT_FORM = {
    "type": "object",
    "properties": {
        "visit_at": {
            "type": "string",
            "format": "time",
            "title": "Tidspunkt for besøket",
            "x-category": "coordination",
        },
    },
    "required": ["visit_at"],
}


def _model() -> str:
    nodes = ["StartEvent_1", "Task_visit", "Task_after", "EndEvent_1"]
    form = properties(formJsonSchemaFilename="visit.schema.json")
    return definitions(f"""
        <bpmn:process id="{KEY}" name="Besøk" isExecutable="true">
          {lane_set({"NAV": nodes})}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_visit"/>
          <bpmn:userTask id="Task_visit" name="Avtal besøk">{form}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_visit" targetRef="Task_after"/>
          <bpmn:userTask id="Task_after" name="Etter besøket"/>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_after" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """)


def _user(username, agency, role=Role.MEMBER):
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    Membership.objects.create(user=user, agency=agency, role=role)
    return user


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_caseworker_picks_a_time_of_day_and_reads_it_back_in_oslo_time(as_user, live_server, agencies, phone):
    deploy_definition(actor=None, bpmn_xml=_model(), forms={"visit.schema.json": VISIT_FORM}, check_permission=False)
    worker = _user("nav-tid-nettleser", agencies["nav"])
    case = services.start_case(
        actor=worker, process_key=KEY, person={"name": "Tid Tidsen", "national_id": "29822099635"},
        participants={"nav": agencies["nav"].pk},
    )  # fmt: skip
    (task,) = open_tasks(case)
    # the model is drawn from no diagram of its own (the test's snippet has none): the pages are
    # checked as they load, not after a diagram is drawn (``page_checker``'s ``ready``)
    page, problems = as_user(worker.username, **(PHONE if phone else {})), []
    page.goto(live_server.url + reverse("task", args=[task.pk]))
    problems.extend(f"task form: {v}" for v in _checked(page))
    field = page.get_by_label("Tidspunkt for besøket")
    assert field.get_attribute("type") == "time"
    page.get_by_role("button", name="Fullfør oppgaven").click()  # left empty: said at the field
    assert "må fylles ut" in page.locator("#field-visit_at-error").inner_text()
    problems.extend(f"task form with an error: {v}" for v in _checked(page))
    page.get_by_label("Tidspunkt for besøket").fill("09:00")
    page.get_by_role("button", name="Fullfør oppgaven").click()
    page.wait_for_url(live_server.url + reverse("tasks"))
    offset = timezone.localtime().strftime("%z")  # today's in Oslo: +0100 in winter, +0200 in summer
    assert Case.objects.get(pk=case.pk).data["visit_at"] == f"09:00:00{offset[:3]}:{offset[3:]}"
    page.goto(live_server.url + reverse("case", args=[case.pk]))
    problems.extend(f"case page: {v}" for v in _checked(page))
    assert re.search(r"Tidspunkt for besøket\s+09:00\b", page.inner_text("main"))
    assert overflow_px(page) == 0
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_consent_s_expiry_is_offered_from_today_to_the_last_day(as_user, live_server, agencies, shipped, phone):
    starter = _user("fengsel-utlop-nettleser", agencies["prison"])
    case = services.start_case(
        actor=starter, process_key="prison_release_to_housing",
        person={"name": "Utløp Utløpsen", "national_id": "29822099635"},
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
    )  # fmt: skip
    coordinator = _user("koordinator-utlop-nettleser", case.coordinator_agency, Role.COORDINATOR)
    visit, problems = page_checker(as_user, live_server)
    page = visit(coordinator.username, reverse("case-section", args=[case.pk, "consent-form"]), phone=phone)
    expires = page.get_by_label("Utløper (valgfritt)")
    today = timezone.localdate()
    assert (expires.get_attribute("min"), expires.get_attribute("max")) == (today.isoformat(), "2199-12-31")
    page.locator("#consent-agency").select_option(str(agencies["nav"].pk))
    page.locator("#consent-category-health").check()
    page.get_by_label("Formål").fill("Oppfølging etter løslatelse")
    expires.fill("2999-12-31")
    page.get_by_role("button", name="Registrer samtykke").click()
    page.wait_for_selector("#consent-expires-error")
    assert page.inner_text("#consent-expires-error") == "må være en dato senest 2199-12-31"
    assert page.get_by_label("Utløper (valgfritt)").get_attribute("aria-invalid") == "true"
    problems.extend(f"consent form with an error: {v}" for v in _checked(page))
    assert not Consent.objects.filter(case=case).exists()
    page.get_by_label("Utløper (valgfritt)").fill((today + datetime.timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Registrer samtykke").click()
    page.wait_for_selector("text=Samtykket er registrert")
    assert timezone.localtime(Consent.objects.get(case=case).expires_at).date() == today + datetime.timedelta(days=30)
    assert problems == [], "\n".join(problems)


def _checked(page):
    from .conftest import axe_violations, english_on_page

    return [*axe_violations(page), *(f"English “{phrase}”" for phrase in english_on_page(page))]
