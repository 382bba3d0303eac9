"""The coach-adjusted forecast on hand-built histories whose answers are worked out by hand (the oracle)."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from coaches.selectors import account_had_coach_on
from pipeline import services
from pipeline.forecast import FORECAST_MIN_SAMPLE, FORECAST_PRIOR, forecast_deals, forecast_summary
from pipeline.models import Opportunity
from tests import factories

TODAY = timezone.localdate


@pytest.fixture
def period():
    return {"start": TODAY(), "end": TODAY() + datetime.timedelta(days=60)}


@pytest.fixture
def coached(rep, stages):
    """An account with a real coach: active, verified today, held by two reps."""
    account = factories.AccountFactory(owner=rep)
    coach = factories.CoachFactory(account=account, holder=rep, last_verified_on=TODAY())
    factories.HolderFactory(coach=coach, user=factories.RepFactory())
    return account


@pytest.fixture
def uncoached(rep, stages):
    return factories.AccountFactory(owner=rep)


def history(account, stages, *, won: int, lost: int, coach: bool, stage="Proposal", days_ago=30):
    """Closed deals that went through `stage`, closed `days_ago` with or without a coach."""
    for index in range(won + lost):
        is_won = index < won
        deal = factories.OpportunityFactory(
            account=account,
            stage=stages["Won" if is_won else "Lost"],
            status="won" if is_won else "lost",
            closed_at=timezone.now() - datetime.timedelta(days=days_ago),
            had_coach_at_close=coach,
        )
        factories.StageChangeFactory(opportunity=deal, to_stage=stages[stage])


def rate(summary, stage, with_coach):
    return next(r for r in summary["rates"] if r["stage"] == stage and r["with_coach"] is with_coach)


def open_deal(account, stages, amount, *, stage="Proposal", close_in=10):
    return factories.OpportunityFactory(
        account=account,
        stage=stages[stage],
        amount=amount,
        expected_close=TODAY() + datetime.timedelta(days=close_in) if close_in is not None else None,
    )


def test_forecast_adjusts_with_history_and_falls_back_below_the_minimum(rep, stages, coached, uncoached, period):
    history(coached, stages, won=6, lost=2, coach=True)  # 8 closed: (6 + 10 * 0.6) / 18 = 66.67 %
    history(uncoached, stages, won=1, lost=2, coach=False)  # 3 closed: below the minimum, 60 % stands
    history(coached, stages, won=0, lost=9, coach=True, days_ago=400)  # outside the 12 months
    open_deal(coached, stages, 10000)
    open_deal(uncoached, stages, 20000)
    open_deal(uncoached, stages, 99999, close_in=90)  # after the period
    open_deal(uncoached, stages, 5000, close_in=None)  # no expected close: in neither forecast
    summary = forecast_summary(user=rep, filters=period)
    with_coach, without = rate(summary, "Proposal", True), rate(summary, "Proposal", False)
    assert (with_coach["closed"], with_coach["won"], with_coach["basis"]) == (8, 6, "history")
    assert with_coach["probability"] == Decimal("66.67")
    assert (without["closed"], without["basis"], without["probability"]) == (3, "stage", Decimal("60.00"))
    assert summary["totals"]["stage_weighted"] == Decimal("18000.00")
    assert summary["totals"]["adjusted"] == Decimal("18667.00")
    assert summary["totals"]["difference"] == Decimal("667.00")
    assert summary["undated"] == {"count": 1, "amount": Decimal("5000.00")}


def test_forecast_minimum_sample_is_inclusive(rep, stages, uncoached, period):
    history(uncoached, stages, won=FORECAST_MIN_SAMPLE, lost=0, coach=False, stage="Negotiation")
    summary = forecast_summary(user=rep, filters=period)
    negotiation = rate(summary, "Negotiation", False)
    expected = (Decimal(FORECAST_MIN_SAMPLE) + FORECAST_PRIOR * Decimal("0.8")) / (FORECAST_MIN_SAMPLE + FORECAST_PRIOR)
    assert negotiation["basis"] == "history"
    assert negotiation["probability"] == (expected * 100).quantize(Decimal("0.01"))


def test_forecast_below_the_minimum_uses_the_stage_probability(rep, stages, uncoached, period):
    history(uncoached, stages, won=FORECAST_MIN_SAMPLE - 1, lost=0, coach=False)
    open_deal(uncoached, stages, 1000)
    summary = forecast_summary(user=rep, filters=period)
    assert rate(summary, "Proposal", False)["basis"] == "stage"
    assert summary["totals"]["adjusted"] == summary["totals"]["stage_weighted"] == Decimal("600.00")


def test_forecast_at_risk_counts_gated_deals_without_a_real_coach(rep, stages, coached, uncoached, period):
    open_deal(coached, stages, 10000)  # a real coach: not at risk
    open_deal(uncoached, stages, 20000)  # gated, no coach: at risk
    open_deal(uncoached, stages, 7000, stage="Lead")  # not gated: not at risk
    single = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=single, holder=rep, last_verified_on=TODAY())  # single-threaded
    open_deal(single, stages, 3000)
    summary = forecast_summary(user=rep, filters=period)
    assert summary["at_risk"]["count"] == 2
    assert summary["at_risk"]["amount"] == Decimal("23000.00")


def test_forecast_totals_equal_the_sum_over_the_drill_down(rep, stages, coached, uncoached, period):
    history(coached, stages, won=5, lost=3, coach=True)
    for index in range(7):
        open_deal(
            coached if index % 2 else uncoached, stages, 1000 + 137 * index, stage=["Proposal", "Lead"][index % 2]
        )
    summary = forecast_summary(user=rep, filters=period)
    deals = list(forecast_deals(user=rep, filters=period))
    assert sum(d.adjusted_weighted for d in deals) == summary["totals"]["adjusted"]
    assert sum(d.stage_weighted for d in deals) == summary["totals"]["stage_weighted"]
    risky = [d for d in deals if d.at_risk]
    assert sum(d.amount for d in risky) == summary["at_risk"]["amount"]
    assert sum(m["adjusted"] for m in summary["months"]) == summary["totals"]["adjusted"]


def test_forecast_scope_excludes_another_reps_deals(rep, other_rep, stages, period):
    open_deal(factories.AccountFactory(owner=other_rep), stages, 50000)
    assert forecast_summary(user=rep, filters=period)["totals"]["count"] == 0


@pytest.mark.parametrize("size", [10, 1000])
def test_forecast_query_count_does_not_grow_with_deals(rep, stages, coached, period, size, django_assert_num_queries):
    # Guards against a query per deal or per stage: every figure is one aggregate.
    history(coached, stages, won=3, lost=3, coach=True)
    product_line = factories.ProductLineFactory()
    Opportunity.objects.bulk_create(
        Opportunity(
            account=coached,
            name=f"Bulk {index}",
            product_line=product_line,
            amount=1000,
            stage=stages["Proposal"],
            owner=rep,
            expected_close=TODAY() + datetime.timedelta(days=index % 50),
        )
        for index in range(size)
    )
    with django_assert_num_queries(5):
        summary = forecast_summary(user=rep, filters=period)
    assert summary["totals"]["count"] == size


def test_forecast_on_the_dashboard_page_and_api(rep_client, rep, stages, uncoached):
    open_deal(uncoached, stages, 20000, close_in=1)
    page = rep_client.get(reverse("pipeline:dashboard"))
    assert page.status_code == 200
    assert 'data-testid="forecast"' in page.content.decode()
    api = rep_client.get("/api/v1/dashboard/").json()
    assert {"totals", "at_risk", "months", "rates", "method"} <= set(api["forecast"])
    assert api["forecast"]["rates"][0]["basis"] in ("stage", "history")


def test_forecast_drill_down_page_lists_the_at_risk_deals(rep_client, rep, stages, coached, uncoached):
    safe = open_deal(coached, stages, 10000, close_in=1)
    risky = open_deal(uncoached, stages, 20000, close_in=1)
    body = rep_client.get(reverse("pipeline:forecast-deals") + "?at_risk=1").content.decode()
    assert risky.name in body and safe.name not in body


def test_forecast_drill_down_bad_filter_is_400(rep_client):
    assert rep_client.get(reverse("pipeline:forecast-deals") + "?start=nonsense").status_code == 400


# --- "a coach" is the gate's qualified coach, not any active one ---------------------------------


def informant(account, **fields):
    """An active coach who fails the gate's qualified test: an informant, none of the three criteria."""
    fields = {"strength": "informant", "credible": False, "trusts_us": False, "wants_us_to_win": False, **fields}
    return factories.CoachFactory(account=account, **fields)


def test_forecast_at_risk_counts_an_active_but_unqualified_coach_as_none(rep, stages, period):
    account = factories.AccountFactory(owner=rep)
    coach = informant(account, holder=rep, last_verified_on=TODAY())  # verified, two holders, not at risk
    factories.HolderFactory(coach=coach, user=factories.RepFactory())
    open_deal(account, stages, 4000)
    deal = forecast_deals(user=rep, filters=period).get()
    assert (deal.has_coach, deal.at_risk) == (False, True)
    assert forecast_summary(user=rep, filters=period)["at_risk"]["amount"] == Decimal("4000.00")


def _import_won(account, stages, rep, closed_on):
    return services.opportunity_import(
        by=rep,
        account=account,
        name=f"Imported {account.pk}",
        product_line=factories.ProductLineFactory(),
        amount=Decimal(1000),
        stage=stages["Won"],
        closed_on=closed_on,
    )


def test_imported_closed_deal_counts_only_a_coach_qualified_on_its_close_day(rep, stages):
    long_ago = TODAY() - datetime.timedelta(days=200)
    qualified, active_only = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=qualified, established_on=long_ago)
    informant(active_only, established_on=long_ago)
    closed_on = TODAY() - datetime.timedelta(days=100)
    assert _import_won(qualified, stages, rep, closed_on).had_coach_at_close is True
    assert _import_won(active_only, stages, rep, closed_on).had_coach_at_close is False


def test_coach_on_a_day_is_his_state_in_the_history_of_that_day(rep, stages):
    upgraded, downgraded = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=rep)
    with time_machine.travel(timezone.now() - datetime.timedelta(days=50)):
        later_coach = informant(upgraded)
        lost_criteria = factories.CoachFactory(account=downgraded)
    later_coach.strength, later_coach.credible, later_coach.trusts_us, later_coach.wants_us_to_win = (
        "coach",
        True,
        True,
        True,
    )
    later_coach.save()
    lost_criteria.trusts_us = False
    lost_criteria.save()
    then = TODAY() - datetime.timedelta(days=20)
    # Qualified now but not on that day, and the other way round.
    assert account_had_coach_on(upgraded, then) is False
    assert account_had_coach_on(downgraded, then) is True
    assert account_had_coach_on(upgraded, TODAY()) is True
    assert account_had_coach_on(downgraded, TODAY()) is False


def test_forecast_in_the_dashboard_csv_export(rep_client, rep, stages, coached, uncoached, period):
    history(coached, stages, won=6, lost=2, coach=True)
    open_deal(coached, stages, 10000)
    open_deal(uncoached, stages, 20000)
    factories.OpportunityFactory(account=uncoached, stage=stages["Lead"], name="=HYPERLINK(1)", held_back=True)
    response = rep_client.get(
        reverse("pipeline:dashboard-export"), {key: value.isoformat() for key, value in period.items()}
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    summary = forecast_summary(user=rep, filters=period)
    assert ["Expected to close in the period", "2", "30000.00", "18000.00", "18667.00"] in rows
    assert summary["totals"]["adjusted"] == Decimal("18667.00")
    assert ["At risk for lack of a coach", "1", "20000.00", "12000.00", "12000.00"] in rows
    assert ["Difference (coach-adjusted minus stage-weighted)", "", "", "", "667.00"] in rows
    month = (TODAY() + datetime.timedelta(days=10)).strftime("%Y-%m")
    assert [month, "2", "30000.00", "18000.00", "18667.00"] in rows
    assert ["Proposal", "yes", "8", "6", "0.75", "60", "66.67", "history"] in rows
    # A name a spreadsheet would run as a formula is written as text.
    assert any(row and row[0] == "'=HYPERLINK(1)" for row in rows)
