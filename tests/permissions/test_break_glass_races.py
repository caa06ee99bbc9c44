"""Break-glass opened twice at the same moment (PostgreSQL): a double submit of the form, or
the page and the API at once. Sequentially the second is refused (the category is no longer
masked for them); at once, both checked before either wrote, and the person's report and the
auditors' list showed two openings, two access-log rows, for one emergency. The interleaving
is forced: both requests finish their checks before either writes."""

import pytest

from core.errors import InvalidInput
from permissions import rules
from permissions.models import AccessAction, AccessLog, BreakGlass
from tests.threads import all_at_once, meet_after
from workflows.services import open_break_glass

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REASON = "Trusler om selvmord i telefonsamtale; må vite om behandlingsopplegg nå"


def test_two_openings_of_one_category_at_once_open_it_once(monkeypatch, users, prison_case):
    meet_after(monkeypatch, rules, "break_glass_categories")
    opened = all_at_once(
        [lambda: open_break_glass(actor=users["nils"], case=prison_case.pk, category="health", reason=REASON)] * 2
    )

    grants = [outcome for outcome in opened if isinstance(outcome, BreakGlass)]
    refused = [outcome for outcome in opened if isinstance(outcome, InvalidInput)]
    assert len(grants) == 1 and len(refused) == 1, opened
    assert refused[0].errors[0]["field"] == "category"
    assert BreakGlass.objects.filter(case=prison_case, user=users["nils"]).count() == 1
    assert AccessLog.objects.filter(action=AccessAction.BREAK_GLASS, case=prison_case).count() == 1


def test_two_colleagues_opening_one_category_at_once_each_get_their_own(monkeypatch, users, prison_case):
    """An opening is personal: a colleague's at the same moment is not the same emergency
    request twice, and both stand."""
    meet_after(monkeypatch, rules, "break_glass_categories")
    opened = all_at_once(
        [
            lambda name=name: open_break_glass(actor=users[name], case=prison_case.pk, category="health", reason=REASON)
            for name in ("nils", "nora")
        ]
    )
    assert all(isinstance(outcome, BreakGlass) for outcome in opened), [getattr(o, "errors", o) for o in opened]
    assert sorted(BreakGlass.objects.filter(case=prison_case).values_list("user__username", flat=True)) == [
        "nils",
        "nora",
    ]
