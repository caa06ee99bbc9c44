"""The municipality leader in Chromium on a phone: every figure's chart and table, the
heatmap drawn on the diagram, CSV and XLSX downloaded, the annual report; axe-core finds
no violation on any of these pages, and the Content-Security-Policy reports none."""

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.insight.conftest import discharge_case
from tests.insight.test_pages import FIGURES
from workflows.demo_cases import seed_demo_cases

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.1 AA rules on the page (evaluated by the browser, so the page's
    Content-Security-Policy does not apply to the checker itself)."""
    page.evaluate(AXE.read_text())
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})).violations"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    return found


# The cases seeded here close today: read them as after the month ends (the figures count
# finished months only).
pytestmark = pytest.mark.usefixtures("month_over")


@pytest.fixture
def seeded(shipped, users, agencies):
    """The demo seed (``seed_demo``'s cases, fewer of them), plus discharges that waited."""
    seed_demo_cases(40)
    today = date.today()
    for _ in range(5):
        discharge_case(users, agencies, ready=today - timedelta(days=12), discharged=today)


def test_the_leader_reads_every_figure_the_heatmap_and_exports_on_a_phone(as_user, live_server, seeded, screenshot):
    leif = as_user("leif", **PHONE)
    violations = []
    leif.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )

    leif.get_by_role("link", name="Innsikt").click()
    leif.wait_for_url(f"{live_server.url}/insight/")
    for key in FIGURES:
        figure = leif.locator(f"#figure-{key}")
        assert figure.locator("h2").inner_text()
        assert figure.locator("table.figure-table tbody tr").count() >= 1, key
    assert leif.locator("svg.chart").count() >= 8
    assert leif.locator("svg.chart[role=img][aria-label]").count() == leif.locator("svg.chart").count()
    assert axe_violations(leif) == []
    screenshot(leif, "insight-phone")

    with leif.expect_download() as csv_download:
        leif.locator('#figure-ball_by_agency a[data-export="csv"]').click()
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    assert "Hvem holder ballen" in text and "<5" in text
    with leif.expect_download() as xlsx_download:
        leif.locator('#figure-discharge a[data-export="xlsx"]').click()
    sheet = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes())).active
    assert "Utskrivningsklare" in sheet["A1"].value

    leif.get_by_role("link", name="Ventetid i prosessdiagrammet").first.click()
    leif.locator("#process").select_option("institution_discharge_to_housing")
    leif.get_by_role("button", name="Vis").click()
    leif.locator('#heatmap[data-drawn="true"]').wait_for()
    assert leif.locator(".heat-badge").count() >= 5  # every task of the version passed through
    assert leif.locator("#heat-table tbody tr").count() >= 5
    assert axe_violations(leif) == []
    screenshot(leif, "insight-heatmap-phone")

    leif.goto(f"{live_server.url}/insight/annual/")
    assert leif.get_by_role("heading", name="Boligarbeidet").count() == 1
    assert leif.locator("#figure-annual tbody tr").count() == 5
    assert axe_violations(leif) == []
    assert violations == []
