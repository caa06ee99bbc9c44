"""Issue 13, point 7: what one page view writes to the access log.

The law asks that every access to sensitive data is logged with its basis; the log
should not say more than happened. Decided (permissions/policy.py): one row per reader,
case, category and basis for each page view that shows the category's values. A second
view is a new access and is logged again; nothing is written twice within one view; a
partial (htmx) answer that shows no case data (taking or releasing a task) writes nothing.
"""

from collections import Counter

import pytest

from permissions.models import AccessLog
from tests.ids import tid
from tests.workflows.helpers import complete, open_tasks, run_to_end

pytestmark = pytest.mark.django_db

# The prison case after it has run to its follow-up timer, as its coordinator sees it:
# the housing office's own answers, NAV's economy (the coordinator's need to know), the
# release date the prison shares, and the case's coordination data.
COORDINATOR_ROWS = [
    ("bjorn", "housing", "own-service", "read"),
    ("bjorn", "economy", "coordinator", "read"),
    ("bjorn", "justice", "shared-field", "read"),
    ("bjorn", "coordination", "participant", "read"),
]


def rows_written_by(call):
    last = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = call()
    rows = list(
        AccessLog.objects.filter(id__gt=last).order_by("id").values_list("username", "category", "basis", "action")
    )
    return response, rows


def test_a_case_page_view_logs_each_category_it_shows_once(web, prison_case):
    run_to_end(prison_case)
    bjorn = web("bjorn")
    response, rows = rows_written_by(lambda: bjorn.get(f"/cases/{prison_case.pk}/"))
    assert response.status_code == 200
    assert rows == COORDINATOR_ROWS
    assert all(AccessLog.objects.filter(case=prison_case, username="bjorn").values_list("person", flat=True))
    # The page shows what it logged: each category's card is on it.
    page = response.content.decode()
    for category in ("housing", "economy", "justice", "coordination"):
        assert f'class="category shown" id="category-{category}"' in page

    # A second view is a new access: logged again, once.
    _response, again = rows_written_by(lambda: bjorn.get(f"/cases/{prison_case.pk}/"))
    assert again == COORDINATOR_ROWS
    assert set(
        Counter(AccessLog.objects.filter(case=prison_case, username="bjorn").values_list("category", "basis")).values()
    ) == {2}


def test_taking_and_releasing_a_task_in_place_logs_nothing_and_shows_no_case_data(web, prison_case):
    """The htmx answer to "take the task" replaces the actions and the status only: it carries
    no case data, so it writes no access-log row (the full page without htmx still does)."""
    from workflows.models import Task

    (intake,) = open_tasks(prison_case)
    complete(intake, {"has_home": False, "expected_release_date": "2027-06-30"})
    task = next(t for t in open_tasks(prison_case) if t.agency.kind == "nav")
    nils = web("nils")
    _page, viewed = rows_written_by(lambda: nils.get(f"/tasks/{tid(task.pk)}/"))
    assert viewed  # the task page shows (and logs) the release date the prison shares

    # As the browser's XMLHttpRequest does, a redirect is followed (with the htmx headers).
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "task-actions", "follow": True}
    response, rows = rows_written_by(lambda: nils.post(f"/tasks/{tid(task.pk)}/claim/", **htmx))
    assert response.status_code == 200 and rows == []
    answer = response.content.decode()
    assert 'id="task-actions"' in answer and 'id="unclaim"' in answer
    assert 'id="task-status"' in answer and 'id="messages"' in answer and "Du har tatt" in answer
    assert "2027" not in answer and 'id="category-' not in answer  # no case data in the answer
    assert Task.objects.get(pk=task.pk).assignee.username == "nils"

    response, rows = rows_written_by(lambda: nils.post(f"/tasks/{tid(task.pk)}/unclaim/", **htmx))
    assert response.status_code == 200 and rows == [] and 'id="claim"' in response.content.decode()
    assert Task.objects.get(pk=task.pk).assignee is None

    # Without JavaScript the form posts and the task page is shown again: a new view, logged.
    response, rows = rows_written_by(lambda: nils.post(f"/tasks/{tid(task.pk)}/claim/", follow=True))
    assert response.status_code == 200 and rows == viewed
