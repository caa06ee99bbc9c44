"""A row listed only where something was counted tells the zeros: a hidden count must not be
given away by the rows that are (or are not) listed beside it."""

import datetime

from django.urls import reverse

from insight.figures import elements_of
from insight.models import WHOLE_MUNICIPALITY, CaseFlow, TaskTime
from tests.insight.test_privacy import csv_table

YEAR = datetime.date.today().year - 1  # a finished year, and the year before it


def test_a_task_with_none_completed_this_year_is_still_listed(client, shipped, users, agencies):
    """NAV completed 3 of one task, none of another (10 the year before) and 20 of a third:
    the 3 are hidden, and the 0 beside them as the complement; were the 0's row left out, the
    agency's total less the 20 would give the 3 away."""
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
        assert int(total) - sum(shown) == 3 and len(hidden) >= 2 and "\u00d7" in hidden  # 3 among several
