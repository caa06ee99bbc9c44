"""The figures count finished months only: reading them before and after a case one knows of
closes today tells nothing about its outcome (README "Insight for leaders")."""

import datetime
import io
import re

from django.urls import reverse
from openpyxl import load_workbook

from insight.models import WHOLE_MUNICIPALITY, CaseFlow
from tests.insight.conftest import housed, prison_case

# The family of case flow and outcomes, as a leader reads it: the page and both exports.
FLOW_FIGURES = ("flow", "opened_by_process", "closed_by_outcome", "outcomes_by_tenure")


def earlier_months(today: datetime.date) -> list[CaseFlow]:
    """Cases opened and closed in the finished months before this one (some figures to read)."""
    rows, month = [], today.replace(day=1)
    for _ in range(3):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
        rows.append(CaseFlow(scope=WHOLE_MUNICIPALITY, month=month, process_key="prison_release_to_housing", opened=9))
        for kind, closed in (("bolig_beholdt", 6), ("bosatt", 7)):
            rows.append(
                CaseFlow(
                    scope=WHOLE_MUNICIPALITY,
                    month=month,
                    process_key="prison_release_to_housing",
                    outcome=kind,
                    closed=closed,
                    tenure="kommunal_utleiebolig" if kind == "bosatt" else "",
                )
            )
    return CaseFlow.objects.bulk_create(rows)


def read_everything(client) -> dict:
    """Every year's flow figures on the page, in both exports, and the annual report."""
    page = client.get(reverse("insight")).content.decode()
    years = sorted(set(re.findall(r'<option value="(\d{4})"', page)))
    seen = {}
    for year in years:
        query = {"year": year}
        html = client.get(reverse("insight"), query).content.decode()
        seen["page", year] = [html.split(f'id="figure-{key}"')[1].split("</table>")[0] for key in FLOW_FIGURES]
        seen["annual", year] = client.get(reverse("insight-annual"), query).content.decode().split("<main")[1]
        for key in FLOW_FIGURES:
            for fmt in ("csv", "xlsx"):
                response = client.get(reverse("insight-export", args=[key, fmt]), query)
                assert response.status_code == 200
                seen[key, fmt, year] = response.content if fmt == "csv" else _sheet(response.content)
    return seen


def _sheet(content: bytes) -> list:
    return [list(row) for row in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)]


def test_a_case_closing_today_moves_no_cell_a_leader_can_read(client, outcome_kinds, shipped, users, agencies):
    earlier_months(datetime.date.today())
    client.force_login(users["leif"])
    case = prison_case(users, agencies, outcome={"outcome": "bolig_beholdt", "outcome_reason": ""})
    case.refresh_from_db()
    assert case.closed_at is not None
    before = read_everything(client)
    today = datetime.date.today()
    moved_in = housed(today - datetime.timedelta(days=20), today)
    other = prison_case(users, agencies, outcome=moved_in, national_id="01010012356")
    other.refresh_from_db()
    assert other.closed_at is not None
    after = read_everything(client)
    assert before.keys() == after.keys()
    changed = [key for key in before if before[key] != after[key]]
    assert changed == []  # the leader learns nothing about the outcome of the case they knew of
    # The finished months are shown as they were counted: 6 kept + 7 housed closed.
    last_month = datetime.date.today().replace(day=1) - datetime.timedelta(days=1)
    closed = before["closed_by_outcome", "csv", str(last_month.year)].decode("utf-8-sig")
    assert closed.count(";7;6;13\r\n") == (3 if last_month.month >= 3 else last_month.month)
