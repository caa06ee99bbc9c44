"""A lapsed safety warning on the case page, in Chromium on a desktop and a phone: NAV reads
only «Advarsel utløpt <dato>»; the prison that recorded it reads the warning and confirms it
again, after which NAV reads it once more. axe-core and bokmål checked on each page; nothing
on the phone is wider than the screen."""

import pytest
from django.contrib.auth import get_user_model

from permissions.models import Membership, Role
from workflows import services
from workflows.models import Case, Task

from .conftest import PASSWORD, axe_violations, page_checker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WARNING = "Truet ansatt med kniv ved hjemmebesøk"


def _drawn(xml: str, process_id: str) -> str:
    """The test model with a diagram (BPMN DI) for the page to draw: a row of its steps."""
    nodes = [("S", "bpmn:startEvent", 36, 36), ("T_warn", "", 100, 80), ("T_nav", "", 100, 80)]
    nodes += [("T_home", "", 100, 80), ("E", "", 36, 36)]
    shapes, x = [], 40
    for node, _kind, width, height in nodes:
        shapes.append(
            f'<bpmndi:BPMNShape id="{node}_di" bpmnElement="{node}">'
            f'<dc:Bounds x="{x}" y="{100 - height // 2}" width="{width}" height="{height}"/></bpmndi:BPMNShape>'
        )
        x += width + 60
    edges = []
    for flow, (source, target) in {"F1": (0, 1), "F2": (1, 2), "F3": (2, 3), "F4": (3, 4)}.items():
        start = 40 + sum(n[2] + 60 for n in nodes[: source + 1]) - 60
        end = 40 + sum(n[2] + 60 for n in nodes[:target])
        edges.append(
            f'<bpmndi:BPMNEdge id="{flow}_di" bpmnElement="{flow}">'
            f'<di:waypoint x="{start}" y="100"/><di:waypoint x="{end}" y="100"/></bpmndi:BPMNEdge>'
        )
    diagram = (
        '<bpmndi:BPMNDiagram id="Diagram_1" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI">'
        f'<bpmndi:BPMNPlane id="Plane_1" bpmnElement="{process_id}">{"".join(shapes)}{"".join(edges)}'
        "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
    )
    return xml.replace("</bpmn:definitions>", diagram + "</bpmn:definitions>")


def _worker(agency, role, username):
    user = get_user_model().objects.create_user(username, password=PASSWORD, first_name=username.title())
    Membership.objects.create(user=user, agency=agency, role=role)
    user.groups.add(agency.group)
    return user


def _case_with_a_lapsed_warning(agencies, suffix: str, process_key: str) -> Case:
    """A case whose prison recorded ``WARNING`` long ago (lapsed), with NAV and the housing
    coordinator taking part; the three users named ``<agency>-advarsel-<suffix>``."""
    from bpmn.services import deploy_definition
    from tests.api.test_safety_warnings import FORMS, LONG_AGO, PERSON, _model

    recorder = _worker(agencies["prison"], Role.MEMBER, f"fengsel-advarsel-{suffix}")
    _worker(agencies["nav"], Role.MEMBER, f"nav-advarsel-{suffix}")
    coordinator = _worker(agencies["housing"], Role.COORDINATOR, f"bolig-advarsel-{suffix}")
    deploy_definition(
        actor=None, bpmn_xml=_drawn(_model(process_key), process_key), forms=FORMS, check_permission=False
    )
    case = services.start_case(
        actor=coordinator,
        process_key=process_key,
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
    )
    task = Task.objects.get(case=case, element_id="T_warn")
    services.complete_task(actor=recorder, task_id=task.pk, data={"trussel": WARNING})
    Case.objects.filter(pk=case.pk).update(data_recorded_at={"trussel": LONG_AGO})
    return case


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_lapsed_warning_is_told_not_shown_and_its_recorder_confirms_it(as_user, live_server, agencies, phone):
    case = _case_with_a_lapsed_warning(agencies, "side", "Proc_warn_page")
    visit, problems = page_checker(as_user, live_server)
    path = f"/cases/{case.pk}/"

    nav = visit("nav-advarsel-side", path, phone=phone)
    section = nav.locator("#category-safety")
    assert "Advarsel utløpt 14. januar 2021" in section.inner_text()
    assert WARNING not in nav.content()

    prison = visit("fengsel-advarsel-side", path, phone=phone)
    assert WARNING in prison.locator("#category-safety").inner_text()
    prison.locator("#warning-trussel summary").click()  # the removal form, open: checked too
    problems.extend(f"prison, removal open: {v}" for v in axe_violations(prison))
    prison.get_by_role("button", name="Bekreft advarselen på nytt").click()
    prison.locator("#messages").get_by_text("Advarselen er bekreftet").wait_for()
    assert not prison.evaluate("document.documentElement.scrollWidth > window.innerWidth")

    nav = visit("nav-advarsel-side", path, phone=phone)
    assert WARNING in nav.locator("#category-safety").inner_text()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_coordinator_confirms_a_lapsed_warning_on_a_task_page(as_user, live_server, agencies, phone):
    """On NAV's task, where the coordinator follows the case: the same confirmation as on the
    case page, in place (htmx); NAV, on its own task, reads only that the warning lapsed."""
    case = _case_with_a_lapsed_warning(agencies, "oppgave", "Proc_warn_task")
    visit, problems = page_checker(as_user, live_server)
    path = f"/tasks/{Task.objects.get(case=case, element_id='T_nav').public_id}/"

    nav = visit("nav-advarsel-oppgave", path, phone=phone)
    assert "Advarsel utløpt 14. januar 2021" in nav.locator("#category-safety").inner_text()
    assert WARNING not in nav.content()
    assert nav.get_by_role("button", name="Bekreft advarselen på nytt").count() == 0

    housing = visit("bolig-advarsel-oppgave", path, phone=phone)
    assert WARNING in housing.locator("#category-safety").inner_text()
    housing.locator("#warning-trussel summary").click()
    problems.extend(f"coordinator, removal open: {v}" for v in axe_violations(housing))
    assert not housing.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    housing.get_by_role("button", name="Bekreft advarselen på nytt").click()
    housing.locator("#messages").get_by_text("Advarselen er bekreftet").wait_for()
    # in force again, until when
    assert "vises for de andre i saken til og med" in housing.locator("#category-safety").inner_text()

    nav = visit("nav-advarsel-oppgave", path, phone=phone)
    assert WARNING in nav.locator("#category-safety").inner_text()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_lapsed_warning_file_is_told_not_listed_to_nav_and_kept_by_the_prison(as_user, live_server, agencies, phone):
    """A safety attachment added long ago (h-safety3): NAV reads only «Et vedlegg: en advarsel
    som utløp <dato>», no file name or link; the prison that added it still has the file, and
    confirms it again (h-safety5), after which NAV has it too."""
    import datetime

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from tests.api.test_safety_attachments import CONTENT, NAME
    from workflows.notes import Attachment

    case = _case_with_a_lapsed_warning(agencies, "fil", "Proc_warn_file")
    recorder = get_user_model().objects.get(username="fengsel-advarsel-fil")
    attachment = services.add_attachment(
        actor=recorder, case=case.pk, upload=SimpleUploadedFile(NAME, CONTENT), category="safety"
    )
    Attachment.objects.filter(pk=attachment.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    visit, problems = page_checker(as_user, live_server)
    path = f"/cases/{case.pk}/"

    nav = visit("nav-advarsel-fil", path, phone=phone)
    item = nav.locator(f"#attachment-{attachment.pk}")
    assert "Et vedlegg: en advarsel som utløp" in item.inner_text()
    assert NAME not in nav.content() and item.get_by_role("link").count() == 0
    assert not nav.evaluate("document.documentElement.scrollWidth > window.innerWidth")

    prison = visit("fengsel-advarsel-fil", path, phone=phone)
    item = prison.locator(f"#attachment-{attachment.pk}")
    assert item.get_by_role("link", name=NAME).count() == 1
    assert "advarsel utløpt" in item.inner_text()
    assert not prison.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    # h-safety5: the prison confirms the file again, in place (htmx), as it confirms a note
    item.get_by_role("button", name="Bekreft advarselen på nytt").click()
    prison.locator("#messages").get_by_text("Advarselen er bekreftet").wait_for()
    item = prison.locator(f"#attachment-{attachment.pk}")
    assert "vises for de andre i saken til og med" in item.inner_text()
    problems.extend(f"prison, file confirmed: {v}" for v in axe_violations(prison))
    assert not prison.evaluate("document.documentElement.scrollWidth > window.innerWidth")

    nav = visit("nav-advarsel-fil", path, phone=phone)
    assert nav.locator(f"#attachment-{attachment.pk}").get_by_role("link", name=NAME).count() == 1
    assert problems == [], "\n".join(problems)
