"""The dashboard's figures on constructed data whose answers are worked out by hand."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from pipeline.dashboard import dashboard_summary, quarter_of
from tests import factories

START, END = datetime.date(2026, 4, 1), datetime.date(2026, 6, 30)
PERIOD = {"start": START, "end": END}


def at(day: int, month: int = 5, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(2026, month, day, hour))


@pytest.fixture
def account(rep):
    return factories.AccountFactory(owner=rep)


def closed_deals(account, stages, *, won: int, lost: int, coach: bool | None, when=None):
    for index in range(won + lost):
        is_won = index < won
        factories.OpportunityFactory(
            account=account,
            stage=stages["Won" if is_won else "Lost"],
            status="won" if is_won else "lost",
            closed_at=when or at(10),
            had_coach_at_close=coach,
            amount=1000,
        )


def row(summary, name):
    return next(r for r in summary["funnel"] if r["name"] == name)


def test_win_rate_with_and_without_a_coach_and_the_uplift(manager, account, stages):
    closed_deals(account, stages, won=12, lost=8, coach=True)
    closed_deals(account, stages, won=6, lost=14, coach=False)
    # Closed outside the period, or with the coach state unknown: in neither group.
    closed_deals(account, stages, won=5, lost=0, coach=True, when=at(1, month=7))
    closed_deals(account, stages, won=0, lost=5, coach=False, when=at(31, month=3, hour=12))
    closed_deals(account, stages, won=3, lost=0, coach=None)

    win = dashboard_summary(user=manager, filters=PERIOD)["win_rate"]

    assert win["with_coach"] == {"won": 12, "lost": 8, "closed": 20, "rate": 0.6, "won_amount": Decimal("12000.00")}
    assert (win["without_coach"]["won"], win["without_coach"]["closed"], win["without_coach"]["rate"]) == (6, 20, 0.3)
    assert win["enough_data"] is True
    assert win["uplift"] == 1.0
    assert win["benchmark"] == 0.8


def test_win_rate_under_ten_closed_in_a_group_gives_no_uplift(manager, account, stages):
    closed_deals(account, stages, won=9, lost=0, coach=True)
    closed_deals(account, stages, won=2, lost=18, coach=False)
    win = dashboard_summary(user=manager, filters=PERIOD)["win_rate"]
    assert win["with_coach"]["closed"] == 9 and win["with_coach"]["rate"] == 1.0
    assert win["enough_data"] is False and win["uplift"] is None


def test_win_rate_with_ten_in_each_group_is_enough(manager, account, stages):
    closed_deals(account, stages, won=5, lost=5, coach=True)
    closed_deals(account, stages, won=2, lost=8, coach=False)
    win = dashboard_summary(user=manager, filters=PERIOD)["win_rate"]
    assert win["enough_data"] is True and win["uplift"] == 1.5


def test_empty_period_gives_zeros_and_no_ratios(manager, stages):
    summary = dashboard_summary(user=manager, filters=PERIOD)
    assert [r["name"] for r in summary["funnel"]] == ["Lead", "Qualified", "Coach confirmed", "Proposal", "Negotiation"]
    for r in summary["funnel"]:
        assert (r["count"], r["amount"], r["entered"], r["exits"]) == (0, Decimal("0.00"), 0, 0)
        assert r["coverage"] is None and r["conversion"] is None and r["median_days"] is None
    assert summary["totals"]["coverage"] is None
    assert summary["win_rate"]["with_coach"]["rate"] is None and summary["win_rate"]["uplift"] is None
    assert summary["held_back"] == {"count": 0, "amount": Decimal("0.00"), "oldest": []}
    assert summary["coach_health"] == {"active": 0, "single_threaded": 0, "stale": 0, "at_risk": 0}


def test_funnel_counts_amounts_weighted_and_coach_coverage(manager, rep, stages):
    coached = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=coached)
    bare = factories.AccountFactory(owner=rep)
    factories.OpportunityFactory(account=coached, stage=stages["Proposal"], amount=10000)
    factories.OpportunityFactory(account=coached, stage=stages["Proposal"], amount=30000)
    factories.OpportunityFactory(account=bare, stage=stages["Qualified"], amount=5000)
    factories.OpportunityFactory(account=coached, stage=stages["Qualified"], amount=15000)
    # A lapsed coach is no coverage; closed deals are not in the funnel.
    lapsed = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=lapsed, status="lapsed")
    factories.OpportunityFactory(account=lapsed, stage=stages["Qualified"], amount=1000)
    factories.OpportunityFactory(account=coached, stage=stages["Won"], status="won", closed_at=at(5))

    summary = dashboard_summary(user=manager, filters=PERIOD)

    proposal, qualified = row(summary, "Proposal"), row(summary, "Qualified")
    assert (proposal["count"], proposal["amount"], proposal["weighted_amount"]) == (
        2,
        Decimal("40000.00"),
        Decimal("24000.00"),
    )
    assert (proposal["covered"], proposal["coverage"]) == (2, 1.0)
    assert (qualified["count"], qualified["amount"], qualified["weighted_amount"]) == (
        3,
        Decimal("21000.00"),
        Decimal("4200.00"),
    )
    assert (qualified["covered"], qualified["coverage"]) == (1, 0.3333)
    # A stage with no deals.
    assert row(summary, "Negotiation")["count"] == 0 and row(summary, "Negotiation")["coverage"] is None
    assert summary["totals"] == {
        "count": 5,
        "amount": Decimal("61000.00"),
        "weighted_amount": Decimal("28200.00"),
        "covered": 3,
        "coverage": 0.6,
    }


def test_held_back_count_amount_and_oldest_first_with_owner(manager, rep, account, stages):
    now = timezone.now()
    newer = factories.OpportunityFactory(
        account=account, stage=stages["Qualified"], amount=2000, held_back=True, held_back_since=now
    )
    older = factories.OpportunityFactory(
        account=account,
        stage=stages["Qualified"],
        amount=3000,
        held_back=True,
        held_back_since=now - datetime.timedelta(days=9),
    )
    factories.OpportunityFactory(account=account, stage=stages["Qualified"], amount=99999)
    held = dashboard_summary(user=manager, filters=PERIOD)["held_back"]
    assert (held["count"], held["amount"]) == (2, Decimal("5000.00"))
    assert [d["id"] for d in held["oldest"]] == [older.pk, newer.pk]
    assert held["oldest"][0]["owner"] == str(rep) and held["oldest"][0]["owner_id"] == rep.pk


def _move(deal, from_stage, to_stage, when, kind="advance"):
    return factories.StageChangeFactory(opportunity=deal, from_stage=from_stage, to_stage=to_stage, at=when, kind=kind)


def test_conversion_and_drop_off_come_from_stage_changes_in_the_period(manager, account, stages):
    lead, qualified, gate, lost = stages["Lead"], stages["Qualified"], stages["Coach confirmed"], stages["Lost"]
    deals = [factories.OpportunityFactory(account=account, stage=qualified) for _ in range(6)]
    for deal in deals[:5]:
        _move(deal, lead, qualified, at(2))
    _move(deals[0], qualified, gate, at(9))  # advanced
    _move(deals[1], qualified, stages["Won"], at(9))  # won counts as moving on
    _move(deals[2], qualified, lost, at(9))  # dropped: lost
    _move(deals[3], qualified, lead, at(9), kind="back")  # dropped: went back
    # deals[4] is still in Qualified: neither.
    _move(deals[5], lead, qualified, at(20, month=3))  # entered before the period: not counted
    _move(deals[5], qualified, gate, at(3))
    # Moving on after the period ends does not count as converting in it.
    late = factories.OpportunityFactory(account=account, stage=gate)
    _move(late, lead, qualified, at(28, month=6))
    _move(late, qualified, gate, at(2, month=7))

    q = row(dashboard_summary(user=manager, filters=PERIOD), "Qualified")

    assert (q["entered"], q["advanced"], q["dropped"]) == (6, 2, 2)
    assert (q["conversion"], q["drop_off"]) == (0.3333, 0.3333)


def test_time_in_stage_median_and_sent_back(manager, account, stages):
    lead, qualified, gate = stages["Lead"], stages["Qualified"], stages["Coach confirmed"]
    for days in (2, 4, 10):
        deal = factories.OpportunityFactory(account=account, stage=qualified)
        _move(deal, None, lead, at(1))
        _move(deal, lead, qualified, at(1 + days))
    # Qualified: stays of 3 and 6 days (even count: the mean of the two), one ended by a send-back.
    for days, kind in ((3, "advance"), (6, "sent_back")):
        deal = factories.OpportunityFactory(account=account, stage=lead)
        _move(deal, None, qualified, at(10))
        _move(deal, qualified, gate if kind == "advance" else lead, at(10 + days), kind=kind)
    # Open deals in Negotiation for 4 and 8 days now.
    for days in (4, 8):
        factories.OpportunityFactory(
            account=account,
            stage=stages["Negotiation"],
            stage_entered_at=timezone.now() - datetime.timedelta(days=days),
        )

    summary = dashboard_summary(user=manager, filters=PERIOD)

    assert row(summary, "Lead")["median_days"] == 4.0 and row(summary, "Lead")["exits"] == 3
    q = row(summary, "Qualified")
    assert (q["median_days"], q["exits"], q["sent_back"], q["sent_back_rate"]) == (4.5, 2, 1, 0.5)
    assert row(summary, "Negotiation")["median_age_days"] == 6.0
    assert row(summary, "Proposal")["median_days"] is None


def test_a_rep_sees_only_his_own_deals_whatever_he_asks(rep, other_rep, stages):
    mine = factories.AccountFactory(owner=rep)
    factories.OpportunityFactory(account=mine, stage=stages["Lead"])
    factories.OpportunityFactory(account=factories.AccountFactory(owner=other_rep), stage=stages["Lead"])
    summary = dashboard_summary(user=rep, filters={"owner": other_rep, "manager": other_rep.manager})
    assert summary["totals"]["count"] == 1
    assert summary["scope"]["owner_id"] == rep.pk


def test_a_manager_sees_his_team_and_an_admin_picks_a_manager(manager, rep, other_rep, admin_user, stages):
    factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), stage=stages["Lead"])
    factories.OpportunityFactory(account=factories.AccountFactory(owner=manager), stage=stages["Lead"])
    factories.OpportunityFactory(account=factories.AccountFactory(owner=other_rep), stage=stages["Lead"])
    assert dashboard_summary(user=manager, filters={})["totals"]["count"] == 2
    assert dashboard_summary(user=manager, filters={"owner": rep})["totals"]["count"] == 1
    # A manager cannot widen his scope to another team.
    assert dashboard_summary(user=manager, filters={"manager": other_rep.manager})["totals"]["count"] == 2
    assert dashboard_summary(user=admin_user, filters={})["totals"]["count"] == 3
    assert dashboard_summary(user=admin_user, filters={"manager": other_rep.manager})["totals"]["count"] == 1


def test_region_and_product_line_filters(manager, rep, stages):
    north, east = factories.RegionFactory(name="North"), factories.RegionFactory(name="East")
    cloud, support = factories.ProductLineFactory(name="Cloud"), factories.ProductLineFactory(name="Support")
    for region, line in ((north, cloud), (north, support), (east, cloud)):
        account = factories.AccountFactory(owner=rep, region=region)
        factories.OpportunityFactory(account=account, product_line=line, stage=stages["Lead"])
        factories.CoachFactory(account=account)
    by_region = dashboard_summary(user=manager, filters={"region": north})
    assert by_region["totals"]["count"] == 2 and by_region["coach_health"]["active"] == 2
    by_line = dashboard_summary(user=manager, filters={"product_line": cloud})
    # Coaches have no product line: coach health ignores that filter.
    assert by_line["totals"]["count"] == 2 and by_line["coach_health"]["active"] == 3


def test_coach_health_counts_the_teams_coaches(manager, rep, other_rep):
    today = timezone.localdate()
    account = factories.AccountFactory(owner=rep)
    healthy = factories.CoachFactory(account=account, last_interaction_on=today)
    factories.HolderFactory(coach=healthy, user=manager)
    factories.CoachFactory(account=factories.AccountFactory(owner=rep), last_interaction_on=today, at_risk=True)
    factories.CoachFactory(
        account=factories.AccountFactory(owner=rep), established_on=today - datetime.timedelta(days=200)
    )
    factories.CoachFactory(account=factories.AccountFactory(owner=rep), status="lapsed")
    factories.CoachFactory(account=factories.AccountFactory(owner=other_rep))
    health = dashboard_summary(user=manager, filters={})["coach_health"]
    # Active 3; single-threaded: the at-risk and the stale one; stale: never touched for 200 days.
    assert health == {"active": 3, "single_threaded": 2, "stale": 1, "at_risk": 1}


def test_default_period_is_this_quarter(manager, stages):
    summary = dashboard_summary(user=manager, filters={})
    assert (summary["period"]["start"], summary["period"]["end"]) == quarter_of(timezone.localdate())


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2026, 1, 1), (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))),
        (datetime.date(2026, 5, 31), (datetime.date(2026, 4, 1), datetime.date(2026, 6, 30))),
        (datetime.date(2026, 12, 31), (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))),
    ],
)
def test_quarter_of(day, expected):
    assert quarter_of(day) == expected
