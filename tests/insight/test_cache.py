"""The figures are computed once per change of a scope's summary rows, and never served
stale: the version a cached family is keyed by is bumped in the step that changes them."""

import datetime
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insight import backfill, figures
from insight.models import WHOLE_MUNICIPALITY, TaskTime
from insight.privacy import Ledger
from tests.insight.conftest import PRISON_PARTICIPANTS, start
from tests.workflows.helpers import complete, open_tasks
from web import insight as insight_views

# The cases walked here close today: read them as after the month ends (figures count
# finished months only).
pytestmark = pytest.mark.usefixtures("month_over")

# Each page and how many of its figures are live (``overdue_now``: computed every time).
URLS = (
    (reverse("insight"), 1),
    (reverse("insight-annual"), 0),
    (reverse("insight-heatmap"), 0),
    (reverse("insight-export", args=["overdue", "csv"]), 1),
    (reverse("insight-export", args=["flow", "csv"]), 0),
)


def completed_this_year(scope: int) -> int:
    family = figures.task_family(scope)
    return family.ledger.values[family.per_year[datetime.date.today().year]]


@pytest.mark.parametrize(("url", "live"), URLS)
def test_a_second_request_computes_no_figure_again(client, finished_cases, users, url, live):
    client.force_login(users["leif"])
    cache.clear()
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    with (
        mock.patch.object(Ledger, "suppress", autospec=True, side_effect=Ledger.suppress) as suppress,
        CaptureQueriesContext(connection) as second,
    ):
        assert client.get(url).status_code == 200
    assert suppress.call_count == live
    assert len(second) < len(first)


def test_a_completed_task_counts_at_once(finished_cases, users, agencies):
    scopes = (WHOLE_MUNICIPALITY, agencies["prison"].pk)
    before = {scope: completed_this_year(scope) for scope in scopes}
    with mock.patch.object(Ledger, "suppress", autospec=True) as suppress:
        assert {scope: completed_this_year(scope) for scope in scopes} == before  # from the cache
    suppress.assert_not_called()
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    complete(open_tasks(case)[0])
    assert {scope: completed_this_year(scope) for scope in scopes} == {scope: n + 1 for scope, n in before.items()}


def test_a_rebuild_of_the_summary_tables_leaves_no_cached_figure_in_use(finished_cases):
    counted = completed_this_year(WHOLE_MUNICIPALITY)
    row = TaskTime.objects.filter(scope=WHOLE_MUNICIPALITY).first()
    TaskTime.objects.filter(pk=row.pk).update(completed=row.completed + 7)  # counted wrong
    cache.clear()
    assert completed_this_year(WHOLE_MUNICIPALITY) == counted + 7  # and cached so
    backfill.rebuild()
    assert completed_this_year(WHOLE_MUNICIPALITY) == counted


def tables_drawn(client) -> int:
    """How many figure tables a request for the page draws."""
    with mock.patch("web.insight._table_rows", autospec=True, side_effect=insight_views._table_rows) as draw:
        assert client.get(reverse("insight")).status_code == 200
    return draw.call_count


def test_the_page_drawn_once_is_drawn_again_after_a_completed_task(client, finished_cases, users, agencies):
    client.force_login(users["leif"])
    cache.clear()
    every = tables_drawn(client)
    assert every == 11  # every figure
    assert tables_drawn(client) == 1  # overdue now, live; the others as drawn before
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    complete(open_tasks(case)[0])  # the scope's figures changed
    assert tables_drawn(client) == every
