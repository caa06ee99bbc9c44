"""A row listed only where something was counted tells the zeros: a hidden count must not be
given away by the rows that are (or are not) listed beside it."""

import datetime

import pytest
from django.urls import reverse

from insight.figures import elements_of
from insight.models import WHOLE_MUNICIPALITY, CaseFlow, TaskTime
from insight.privacy import SMALL
from tests.insight.test_privacy import csv_table

YEAR = datetime.date.today().year - 1  # a finished year, and the year before it


def test_a_task_with_none_completed_this_year_is_still_listed(client, shipped, users, agencies):
    """NAV completed 3 of one task, none of another (10 the year before) and 20 of a third:
    the 3 are hidden, and a number beside them as the complement; were the 0's row left out,
    the agency's total less the 20 would give the 3 away. The complement is the 20, not the
    0: a hidden mark is 0 or 5 and up to one who knows how the marks are chosen, so a hidden
    0 beside a "<5" in a sum under 5 is read as 0 (``tests/insight/test_marks.py``)."""
    definition = shipped["housing_referral"]
    tasks = sorted(element for element, (kind, _name) in elements_of(definition.pk).items() if kind == "userTask")
    counts = {(YEAR, tasks[0]): 3, (YEAR - 1, tasks[1]): 10, (YEAR, tasks[2]): 20}
    TaskTime.objects.bulk_create(
        TaskTime(
            scope=WHOLE_MUNICIPALITY,
            month=datetime.date(year, 3, 1),
            definition=definition,
            element_id=element,
            agency=agencies["nav"],
            completed=completed,
            seconds=completed * 86400,
        )
        for (year, element), completed in counts.items()
    )
    # Cases opened from the year before on (the years the filter offers).
    CaseFlow.objects.create(
        scope=WHOLE_MUNICIPALITY, month=datetime.date(YEAR - 1, 1, 1), process_key="housing_referral", opened=9
    )
    client.force_login(users["leif"])
    query = {"year": YEAR}
    by_task = csv_table(client.get(reverse("insight-export", args=["ball_by_task", "csv"]), query).content)[1:]
    by_agency = csv_table(client.get(reverse("insight-export", args=["ball_by_agency", "csv"]), query).content)[1:]
    assert len(by_task) == 3  # every task NAV ever completed, this year's 0 too
    shown = [int(row[1]) for row in by_task if row[1].isdigit()]
    hidden = [row[1] for row in by_task if not row[1].isdigit()]
    total = by_agency[0][1]
    # The attacker's sum: the agency's total less the tasks shown, over the tasks hidden.
    assert "<5" in hidden
    assert not (total.isdigit() and len(hidden) == 1), "the one hidden task is the total less the others"
    if total.isdigit():
        assert len(hidden) >= 2 and "\u00d7" in hidden and int(total) - sum(shown) >= 3 + SMALL  # 3 among several
    assert 0 in shown  # the 0 is shown: hidden, it would be read as 0


@pytest.mark.django_db
def test_an_outcome_whose_cases_were_all_reopened_is_not_listed_as_one_or_more():
    """A summary row comes back to 0 closed when its case is reopened. Its outcome's column and
    its form of tenure were still listed, and the check took every listed column for "1 or
    more" (an outcome is listed only where a case closed with it): a column of zeros marked
    so contradicted its own cells, and the check ran to its cap hiding what it need not."""
    from insight.figures import _case_flow
    from insight.privacy import PRESENT
    from workflows.outcomes import OutcomeKind, Tenure

    kept, reopened = [kind.code for kind in OutcomeKind.objects.filter(needs_tenure=True)][:2]
    month = datetime.date(YEAR, 1, 1)
    CaseFlow.objects.create(scope=WHOLE_MUNICIPALITY, month=month, process_key="housing_referral", opened=12)
    for code, tenure, closed in [(kept, Tenure.MUNICIPAL_RENTAL, 7), (reopened, Tenure.PRIVATE_RENTAL, 0)]:
        CaseFlow.objects.create(
            scope=WHOLE_MUNICIPALITY,
            month=month.replace(month=2),
            process_key="housing_referral",
            outcome=code,
            tenure=tenure,
            closed=closed,
        )
    family = _case_flow(WHOLE_MUNICIPALITY, datetime.date(YEAR + 1, 1, 1))
    assert family.kinds == [kept]
    assert Tenure.PRIVATE_RENTAL not in family.tenures
    ledger = family.ledger
    marked = [cell for cell, kind in ledger.hidden.items() if kind == PRESENT]
    assert marked and all(ledger.values[cell] >= 1 for cell in marked)
