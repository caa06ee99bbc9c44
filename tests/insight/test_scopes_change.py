"""A leader whose agencies change keeps what they read before: the figures of a scope must
read the same whichever group of scopes it is read with, or the two ways of hiding the same
finished month, put together, give a small count away (the cells one hides, the other shows).

The data of ``test_scopes``: the NAV office's cases are among the housing office's, and
subtracting the one's figures from the other's, each suppressed alone, tells a few cases
without NAV (``test_the_subtraction_works_on_each_scope_suppressed_alone``).
"""

from django.contrib.auth import get_user_model

from permissions.models import Membership, Role
from tests.insight.test_scopes import closed_table, leader_of, pinned, small_differences, two_scopes

__all__ = ["two_scopes"]


def known(*readings: list[list[str]]) -> list[list[str]]:
    """Each cell as the readings together tell it: the number where any reading shows it."""
    first = readings[0]
    return [
        [next((r[row][col] for r in readings if r[row][col].isdigit()), text) for col, text in enumerate(cells)]
        for row, cells in enumerate(first)
    ]


def assert_safe(nav: list[list[str]], housing: list[list[str]]) -> None:
    assert small_differences(nav, housing) == []
    assert pinned(nav, housing) == {}


def test_a_leader_who_gains_an_agency_reads_its_scope_as_before(client, two_scopes, agencies):
    """A leader of NAV saves the table, then becomes leader of the housing office too: NAV's
    finished months read as before, and what they showed before, with both tables now, gives
    no case without NAV away."""
    nav_scope, housing_scope = two_scopes
    leader = leader_of(agencies, "nav")
    client.force_login(leader)
    before = closed_table(client, nav_scope)
    Membership.objects.create(user=leader, agency=agencies["housing"], role=Role.LEADER)
    client.force_login(get_user_model().objects.get(pk=leader.pk))
    after, housing = closed_table(client, nav_scope), closed_table(client, housing_scope)
    assert after == before
    assert_safe(known(before, after), housing)


def test_a_leader_who_loses_an_agency_reads_its_scope_as_before(client, two_scopes, agencies):
    """A leader of both saves both tables, then leads NAV only: NAV reads as before (not as
    NAV suppressed alone, whose cells beside the housing office's saved table told the cases
    without NAV)."""
    nav_scope, housing_scope = two_scopes
    leader = leader_of(agencies, "nav", "housing")
    client.force_login(leader)
    before, housing = closed_table(client, nav_scope), closed_table(client, housing_scope)
    Membership.objects.filter(user=leader, agency=agencies["housing"]).delete()
    client.force_login(get_user_model().objects.get(pk=leader.pk))
    after = closed_table(client, nav_scope)
    assert after == before
    assert_safe(known(before, after), housing)


def test_two_leaders_of_one_scope_read_it_the_same(client, two_scopes, agencies):
    """A leader of NAV and a leader of NAV and the housing office read NAV's figures alike,
    so that a leader moving from one to the other (or the two comparing) learns nothing more."""
    nav_scope, _housing_scope = two_scopes
    both = leader_of(agencies, "nav", "housing")
    one = leader_of(agencies, "nav")
    client.force_login(one)
    alone = closed_table(client, nav_scope)
    client.force_login(both)
    assert closed_table(client, nav_scope) == alone


def test_a_group_no_longer_read_is_pruned_once_the_groups_read_now_hold_it(client, two_scopes, agencies):
    """A leader of both reads them, then leads NAV only. The ledger of the group with both
    (every scope some leader reads, and the municipality's) is kept while no group read now
    holds the housing office's figures; once a leader of the housing office reads it, that group
    is read again and the ledger of the group without it, which it has taken in, is deleted;
    the figures read the same afterwards."""
    from django.core.cache import cache

    from insight.figures import prune_decided_ledgers
    from insight.models import WHOLE_MUNICIPALITY, DecidedLedger

    nav_scope, housing_scope = two_scopes
    with_both = ",".join(map(str, sorted({WHOLE_MUNICIPALITY, *two_scopes})))
    without_housing = ",".join(map(str, sorted({WHOLE_MUNICIPALITY, nav_scope})))
    leader = leader_of(agencies, "nav", "housing")
    client.force_login(leader)
    nav, housing = closed_table(client, nav_scope), closed_table(client, housing_scope)
    assert prune_decided_ledgers() == 0  # read now
    Membership.objects.filter(user=leader, agency=agencies["housing"]).delete()
    client.force_login(get_user_model().objects.get(pk=leader.pk))
    assert closed_table(client, nav_scope) == nav
    assert prune_decided_ledgers() == 0  # the housing office's figures: no group read now has them
    assert DecidedLedger.objects.filter(scopes=with_both).exists()
    client.force_login(leader_of(agencies, "housing"))
    cache.clear()  # the group's figures computed again (as at its next change), not the cached ones
    assert closed_table(client, housing_scope) == housing
    families = DecidedLedger.objects.filter(scopes=without_housing).count()
    assert families > 0
    assert prune_decided_ledgers() == families
    assert not DecidedLedger.objects.filter(scopes=without_housing).exists()
    client.force_login(get_user_model().objects.get(pk=leader.pk))
    assert closed_table(client, nav_scope) == nav
