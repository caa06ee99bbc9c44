"""Two leaders of different agencies compare their pages: the NAV office's leader and the
housing office's, with no leader reading both. The NAV office's cases are among the housing
office's, so the housing office's figure less NAV's counts the cases without NAV.

Every scope some leader reads, and the municipality's, is one group decided together
(``figures.read_together``): whoever reads which, the figures shown to leaders are views of
one ledger per family (README "Several scopes, one reader"). Until 2026-12-06 the groups
joined only the scopes one leader reads together, and this test was a strict xfail.
"""

from tests.insight.test_scopes import closed_table, leader_of, pinned, small_differences, two_scopes

__all__ = ["two_scopes"]


def test_two_leaders_of_different_agencies_comparing_pages_learn_no_small_count(client, two_scopes, agencies):
    nav_scope, housing_scope = two_scopes
    client.force_login(leader_of(agencies, "nav"))
    nav = closed_table(client, nav_scope)
    client.force_login(leader_of(agencies, "housing"))
    housing = closed_table(client, housing_scope)
    assert small_differences(nav, housing) == []
    assert pinned(nav, housing) == {}


def test_two_leaders_who_exist_before_either_reads_learn_no_small_count(client, two_scopes, agencies):
    """Both leaders there from the start: the housing office's leader reads first."""
    nav_scope, housing_scope = two_scopes
    nav_leader, housing_leader = leader_of(agencies, "nav"), leader_of(agencies, "housing")
    client.force_login(housing_leader)
    housing = closed_table(client, housing_scope)
    client.force_login(nav_leader)
    nav = closed_table(client, nav_scope)
    assert small_differences(nav, housing) == []
    assert pinned(nav, housing) == {}
