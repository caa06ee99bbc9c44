"""A kept ledger as agencies keep joining and leaving a leader's groups: each change folds the
ledgers of the groups it overlaps into the new group's (``privacy.fold``). Folding a group's
ledger that had itself taken in this one copied every cell again, so each join and leave
doubled what was kept, for the same figures read."""

from django.contrib.auth import get_user_model
from django.core.cache import cache

from insight.models import DecidedLedger
from permissions.models import Membership, Role
from tests.insight.test_scopes import closed_table, leader_of, two_scopes

__all__ = ["two_scopes"]


def read(client, leader, scope: int) -> list[list[str]]:
    """A reading computed afresh, as another process (or the same an hour later) would."""
    cache.clear()
    client.force_login(get_user_model().objects.get(pk=leader.pk))
    return closed_table(client, scope)


def kept_cells() -> int:
    return sum(len(ledger["values"]) for ledger in DecidedLedger.objects.values_list("ledger", flat=True) if ledger)


def test_joins_and_leaves_keep_the_ledgers_bounded(client, two_scopes, agencies):
    nav_scope, housing_scope = two_scopes
    leader = leader_of(agencies, "nav")
    first = read(client, leader, nav_scope)
    sizes = []
    for _cycle in range(6):
        Membership.objects.create(user=leader, agency=agencies["housing"], role=Role.LEADER)
        read(client, leader, nav_scope), read(client, leader, housing_scope)
        Membership.objects.filter(user=leader, agency=agencies["housing"]).delete()
        assert read(client, leader, nav_scope) == first
        sizes.append(kept_cells())
    # The same finished months read again and again: what is kept stops growing.
    assert sizes[-1] == sizes[1], sizes
