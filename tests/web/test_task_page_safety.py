"""A safety warning is confirmed again or removed from a task page, as from the case page.

The agency that recorded a warning and the case's coordinator answer for it (domain.md:
minimal, factual, time-limited). They meet it on the task they work as often as on the case
page, which alone had the two actions: the task page told them it had lapsed and sent them
elsewhere. Now it has the same two forms (``web.safety``: the same services as the case page
and the API), and NAV, who sees only «Advarsel utløpt», has no button there and is refused
when it posts; a user outside the case is told nothing (404)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from permissions.models import AccessLog, Membership, Role
from tests.api import test_safety_warnings as warnings
from tests.api.test_safety_warnings import WARNING, _recorded_long_ago, _safety
from tests.clients import api, web
from workflows.models import Case, Event, EventKind, Task

pytestmark = pytest.mark.django_db
people, warned = warnings.people, warnings.warned  # the fixtures: a case whose prison recorded a warning

CONFIRM = "Bekreft advarselen på nytt"
REMOVE = "Fjern advarselen"


def _nav_task(case):
    return Task.objects.get(case=case, element_id="T_nav")


def test_the_coordinator_confirms_a_lapsed_warning_on_the_task_page(warned, people):
    _recorded_long_ago(warned)
    task = _nav_task(warned)
    client = web(people["coordinator"])
    page = client.get(reverse("task", args=[task.pk])).content.decode()
    confirm_url = reverse("task-safety-confirm", args=[task.pk])
    assert WARNING in page and CONFIRM in page and REMOVE in page
    assert f'action="{confirm_url}"' in page and f'hx-post="{confirm_url}"' in page

    answer = client.post(confirm_url, {"field": "trussel"})

    assert answer.status_code == 302
    assert answer["Location"] == reverse("task", args=[task.pk]) + "#category-safety"
    page = client.get(answer["Location"]).content.decode()
    assert "Advarselen er bekreftet" in page
    assert _safety(api(people["other"]), warned)["values"] == {"trussel": WARNING}
    event = Event.objects.get(case=warned, kind=EventKind.SAFETY_CONFIRMED)
    assert event.actor == people["coordinator"] and event.detail == {"field": "trussel"}
    assert AccessLog.objects.filter(case=warned, item="safety-confirmed", user=people["coordinator"]).exists()


def test_the_recorder_removes_the_warning_from_a_task_page_in_place(warned, people):
    """Posted by htmx (the page's hx-post): the answer is the task page again, whose safety
    section and messages the form swaps in."""
    _recorded_long_ago(warned)
    task = _nav_task(warned)
    client = web(people["recorder"])
    assert REMOVE in client.get(reverse("task", args=[task.pk])).content.decode()

    answer = client.post(
        reverse("task-safety-remove", args=[task.pk]),
        {"field": "trussel", "reason": "Gjelder ikke lenger"},
        headers={"HX-Request": "true"},
        follow=True,
    )

    assert answer.status_code == 200
    page = answer.content.decode()
    assert 'id="category-safety"' in page and "Advarselen er fjernet" in page and WARNING not in page
    assert WARNING not in str(Case.objects.get(pk=warned.pk).data)


def test_other_agencies_see_no_buttons_and_are_refused(warned, people, agencies):
    _recorded_long_ago(warned)
    task = _nav_task(warned)
    nav = web(people["other"])
    page = nav.get(reverse("task", args=[task.pk])).content.decode()
    assert "Advarsel utløpt 14. januar 2021" in page
    assert WARNING not in page and CONFIRM not in page and REMOVE not in page

    for name, data in (("task-safety-confirm", {"field": "trussel"}), ("task-safety-remove", {"field": "trussel"})):
        assert nav.post(reverse(name, args=[task.pk]), {**data, "reason": "x"}).status_code == 403, name

    outsider = get_user_model().objects.create_user("sykehus-advarsel", password="x")
    Membership.objects.create(user=outsider, agency=agencies["hospital"], role=Role.COORDINATOR)
    outsider.groups.add(agencies["hospital"].group)
    for name in ("task-safety-confirm", "task-safety-remove"):
        answer = web(outsider).post(reverse(name, args=[task.pk]), {"field": "trussel", "reason": "x"})
        assert answer.status_code == 404, name
    assert Case.objects.get(pk=warned.pk).data_recorded_at["trussel"].startswith("2020-01-15")
    assert not Event.objects.filter(case=warned, kind=EventKind.SAFETY_CONFIRMED).exists()


def test_a_post_without_the_csrf_token_is_refused(warned, people):
    _recorded_long_ago(warned)
    task = _nav_task(warned)
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["coordinator"])
    page = client.get(reverse("task", args=[task.pk])).content.decode()
    form = page[page.index(f'action="{reverse("task-safety-confirm", args=[task.pk])}"') :]
    assert 'name="csrfmiddlewaretoken"' in form[: form.index("</form>")]

    answer = client.post(reverse("task-safety-confirm", args=[task.pk]), {"field": "trussel"})

    assert answer.status_code == 403
    assert Case.objects.get(pk=warned.pk).data_recorded_at["trussel"].startswith("2020-01-15")
