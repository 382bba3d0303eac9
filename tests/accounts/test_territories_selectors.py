"""Territory selectors: what a rule covers, who succeeds a leaver, the conflict report."""

from accounts import selectors
from accounts.models import Account
from coaches import selectors as coach_selectors
from team.models import User
from tests import factories


def conflicts(user):
    return {a.name: (a.split, a.owner_outside, a.rival_holders) for a in coach_selectors.territory_conflicts(user=user)}


# --- coverage and successor -----------------------------------------------------------------


def test_coverage_count_applies_each_condition(north):
    line = factories.ProductLineFactory(name="Cloud")
    key = factories.AccountFactory(region=north, size_tier=Account.SizeTier.KEY)
    key.product_lines.set([line])
    factories.AccountFactory(region=north, size_tier=Account.SizeTier.MID)
    factories.AccountFactory(region=factories.RegionFactory(name="East"), size_tier=Account.SizeTier.KEY)
    assert selectors.territory_coverage_count() == 3
    assert selectors.territory_coverage_count(region=north) == 2
    assert selectors.territory_coverage_count(region=north, size_tier="key") == 1
    assert selectors.territory_coverage_count(product_line=line, industry=key.industry) == 1


def test_coverage_count_is_one_query(north, django_assert_num_queries):
    line = factories.ProductLineFactory()
    with django_assert_num_queries(1):
        selectors.territory_coverage_count(region=north, product_line=line, size_tier="key")


def test_territories_covering_lists_matches_winner_first(north):
    account = factories.AccountFactory(region=north)
    later = factories.TerritoryFactory(name="All")
    factories.TerritoryFactory(region=factories.RegionFactory(name="East"))
    first = factories.TerritoryFactory(name="North", region=north)
    first.order, later.order = 0, 99
    first.save(), later.save()
    assert list(selectors.territories_covering(account=account)) == [first, later]


def test_successor_is_the_next_available_member_after_the_leaver(north):
    a, b, c = factories.RepFactory(), factories.RepFactory(), factories.RepFactory(status=User.Status.LEAVING)
    account = factories.AccountFactory(region=north, owner=b)
    territory = factories.TerritoryFactory(region=north, members=[a, b, c])
    assert selectors.territory_successor_for(account=account, exclude_user=b) == a  # wraps, skips leaving c
    assert selectors.territory_successor_for(account=account, exclude_user=a) == b
    territory.refresh_from_db()
    assert territory.last_assigned is None  # a read: the cursor did not move


def test_successor_falls_through_to_the_next_territory_then_none(north):
    leaver, backup = factories.RepFactory(), factories.RepFactory()
    account = factories.AccountFactory(region=north, owner=leaver)
    factories.TerritoryFactory(region=north, members=[leaver])
    assert selectors.territory_successor_for(account=account, exclude_user=leaver) is None
    factories.TerritoryFactory(members=[backup, leaver])
    assert selectors.territory_successor_for(account=account, exclude_user=leaver) == backup


# --- conflict report ------------------------------------------------------------------------


def test_conflict_several_territories_with_different_members(admin_user, north):
    alice, bob = factories.RepFactory(), factories.RepFactory()
    factories.AccountFactory(name="Split", owner=alice, region=north)
    factories.TerritoryFactory(name="North", region=north, members=[alice])
    factories.TerritoryFactory(name="All", members=[alice, bob])
    rows = list(coach_selectors.territory_conflicts(user=admin_user))
    assert [(r.name, r.split, r.owner_outside, r.rival_holders) for r in rows] == [("Split", True, False, False)]
    assert (rows[0].win_name, rows[0].covering_count) == ("North", 2)


def test_conflict_winner_lacking_a_member_of_another_territory_counts_too(admin_user, north):
    alice, bob = factories.RepFactory(), factories.RepFactory()
    factories.AccountFactory(name="Split", owner=alice, region=north)
    factories.TerritoryFactory(region=north, members=[alice, bob])
    factories.TerritoryFactory(members=[alice])
    assert conflicts(admin_user) == {"Split": (True, False, False)}


def test_no_conflict_when_overlapping_territories_have_the_same_members(admin_user, north):
    alice, bob = factories.RepFactory(), factories.RepFactory()
    factories.AccountFactory(owner=alice, region=north)
    factories.TerritoryFactory(region=north, members=[alice, bob])
    factories.TerritoryFactory(members=[bob, alice])
    factories.TerritoryFactory(members=[bob], active=False)  # inactive territories do not count
    assert conflicts(admin_user) == {}


def test_conflict_owner_outside_every_covering_territory(admin_user, north):
    alice, bob = factories.RepFactory(), factories.RepFactory()
    factories.AccountFactory(name="Outside", owner=bob, region=north)
    factories.AccountFactory(
        name="Uncovered", owner=bob, region=factories.RegionFactory(name="East")
    )  # no territory covers it: no conflict
    factories.TerritoryFactory(region=north, members=[alice])
    assert conflicts(admin_user) == {"Outside": (False, True, False)}


def test_conflict_coach_held_by_a_rep_outside_the_winning_territory(admin_user, north):
    alice, bob = factories.RepFactory(), factories.RepFactory()
    account = factories.AccountFactory(name="Held", owner=alice, region=north)
    factories.TerritoryFactory(region=north, members=[alice])
    factories.TerritoryFactory(region=factories.RegionFactory(name="East"), members=[bob])
    coach = factories.CoachFactory(account=account, holder=alice)
    assert conflicts(admin_user) == {}
    factories.HolderFactory(coach=coach, user=bob)
    assert conflicts(admin_user) == {"Held": (False, False, True)}
    coach.status = "ended"
    coach.save()
    assert conflicts(admin_user) == {}


def test_conflicts_are_scoped_to_the_managers_team(north):
    manager, other_manager = factories.ManagerFactory(), factories.ManagerFactory()
    mine = factories.RepFactory(manager=manager)
    theirs = factories.RepFactory(manager=other_manager)
    factories.TerritoryFactory(region=factories.RegionFactory(name="West"), members=[factories.RepFactory()])
    factories.AccountFactory(name="Ours", owner=mine, region=factories.RegionFactory(name="West"))
    factories.AccountFactory(name="Theirs", owner=theirs, region=factories.RegionFactory(name="West"))
    assert set(conflicts(manager)) == {"Ours"}


def test_territory_successors_for_many_accounts_agrees_with_one_at_a_time(db):
    from accounts.selectors import territory_successor_for, territory_successors_for

    north, east = factories.RegionFactory(name="North"), factories.RegionFactory(name="East")
    cloud = factories.ProductLineFactory(name="Cloud")
    leaving, ann, ben, cat = (factories.RepFactory() for _ in range(4))
    factories.TerritoryFactory(region=north, product_line=cloud, members=[leaving, cat])
    factories.TerritoryFactory(region=north, members=[leaving, ann, ben])
    factories.TerritoryFactory(region=east, members=[leaving])
    accounts = [
        factories.AccountFactory(region=north),
        factories.AccountFactory(region=north),
        factories.AccountFactory(region=east),
        factories.AccountFactory(region=factories.RegionFactory(name="West")),
    ]
    accounts[0].product_lines.add(cloud)
    bulk = territory_successors_for(accounts=accounts, exclude_user=leaving)
    assert bulk == {a.pk: territory_successor_for(account=a, exclude_user=leaving) for a in accounts}
    assert bulk[accounts[0].pk] == cat
    assert bulk[accounts[2].pk] is None and bulk[accounts[3].pk] is None
