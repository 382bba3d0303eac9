import datetime

import pytest
from django.utils import timezone

from accounts.models import Account
from coaches.models import Coach, Handover
from team import selectors
from team.models import User
from team.selectors import retention_summary
from tests import factories


def conflicts(user):
    return {a.name: (a.split, a.owner_outside, a.rival_holders) for a in selectors.territory_conflicts(user=user)}


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
    rows = list(selectors.territory_conflicts(user=admin_user))
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


"""The retention KPI on constructed data."""


TODAY = timezone.localdate()


def departed(name: str, days_ago: int) -> User:
    return factories.RepFactory(
        username=name,
        first_name=name.title(),
        last_name="",
        status=User.Status.DEPARTED,
        is_active=False,
        departure_date=TODAY - datetime.timedelta(days=days_ago),
    )


def handed_over(rep: User, *, touched_after_days: int | None, coach_status=Coach.Status.ACTIVE, status="open"):
    """A handover opened before the departure; the successor touched the coach N days after the departure."""
    coach = factories.CoachFactory(holder=rep, status=coach_status)
    handover = factories.HandoverFactory(coach=coach, from_user=rep, status=status)
    Handover.objects.filter(pk=handover.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    if touched_after_days is not None:
        factories.InteractionFactory(
            coach=coach,
            user=handover.to_user,
            occurred_on=rep.departure_date + datetime.timedelta(days=touched_after_days),
        )
    return handover


def test_retention_per_departure_and_overall_beside_the_benchmark(db):
    ann = departed("ann", 120)
    handed_over(ann, touched_after_days=10)  # kept
    handed_over(ann, touched_after_days=90)  # kept: on the 90th day
    handed_over(ann, touched_after_days=91)  # too late
    handed_over(ann, touched_after_days=None)  # never touched
    handed_over(ann, touched_after_days=5, coach_status=Coach.Status.LAPSED)  # touched, but lost since
    handed_over(ann, touched_after_days=5, status="cancelled")  # not counted at all
    ben = departed("ben", 30)
    handed_over(ben, touched_after_days=1)
    factories.RepFactory()  # never departed: not in the figures

    summary = retention_summary(users_qs=User.objects.all())

    assert summary["benchmark"] == 0.8
    by_name = {row["name"]: row for row in summary["departures"]}
    assert set(by_name) == {"Ann", "Ben"}
    assert (by_name["Ann"]["coaches"], by_name["Ann"]["kept"], by_name["Ann"]["rate"]) == (5, 2, 0.4)
    assert by_name["Ann"]["final"] and not by_name["Ben"]["final"]
    assert (by_name["Ben"]["coaches"], by_name["Ben"]["kept"], by_name["Ben"]["rate"]) == (1, 1, 1.0)
    assert summary["overall"] == {"coaches": 6, "kept": 3, "rate": 0.5}


def test_retention_counts_only_interactions_by_the_new_holder_after_the_handover_opened(db):
    ann = departed("ann", 120)
    handover = handed_over(ann, touched_after_days=None)
    factories.InteractionFactory(coach=handover.coach, user=ann, occurred_on=ann.departure_date)  # the old holder
    assert retention_summary(users_qs=User.objects.all())["overall"]["kept"] == 0


def test_retention_is_scoped_to_the_given_users_and_empty_without_departures(db):
    ann = departed("ann", 120)
    handed_over(ann, touched_after_days=1)
    assert retention_summary(users_qs=User.objects.exclude(pk=ann.pk)) == {
        "departures": [],
        "overall": {"coaches": 0, "kept": 0, "rate": None},
        "benchmark": 0.8,
    }


@pytest.mark.parametrize("departures", [1, 10])
def test_retention_query_count_does_not_grow_with_departures(db, departures, django_assert_num_queries):
    for index in range(departures):
        handed_over(departed(f"rep{index}", 100), touched_after_days=1)
    # One grouped query: a per-departure query would add one per rep.
    with django_assert_num_queries(1):
        summary = retention_summary(users_qs=User.objects.all())
    assert len(summary["departures"]) == departures


def test_territory_successors_for_many_accounts_agrees_with_one_at_a_time(db):
    from team.selectors import territory_successor_for, territory_successors_for

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
