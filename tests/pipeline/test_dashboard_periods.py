"""The dashboard's period test as a datetime range gives the figures the `__date` casts gave.

Oracle tests: a generated history of moves and closes around local midnights, in a time zone
far from UTC, summarised with the period filter of before (`field__date__gte/lte`, kept here as
the reference) and with the one the dashboard uses now; every figure must be the same.
"""

import datetime
import random

import pytest
from django.db.models import Q
from django.utils import timezone

from pipeline import dashboard
from pipeline.dashboard import dashboard_summary
from pipeline.filters import OpportunityFilter
from pipeline.models import Opportunity
from tests import factories

ZONES = ["Asia/Kolkata", "America/Los_Angeles"]


def date_cast_period(field, start=None, end=None) -> Q:
    """The period filter before this change: the local date of the column, compared as a date."""
    q = Q()
    if start:
        q &= Q(**{f"{field}__date__gte": start})
    if end:
        q &= Q(**{f"{field}__date__lte": end})
    return q


def history(manager, stages, seed: int) -> None:
    """Deals moving through the stages and closing, at times within two hours of a local midnight."""
    rnd = random.Random(seed)
    reps = [factories.RepFactory(manager=manager) for _ in range(3)]
    opened = [stages[name] for name in ("Lead", "Qualified", "Coach confirmed", "Proposal", "Negotiation")]
    base = timezone.make_aware(datetime.datetime(2026, 3, 25))
    for index in range(40):
        owner = rnd.choice(reps)
        account = factories.AccountFactory(owner=owner)
        if rnd.random() < 0.5:
            factories.CoachFactory(account=account, holder=owner)
        when = base + datetime.timedelta(days=rnd.randint(0, 100), minutes=rnd.randint(-120, 120))
        path = opened[: rnd.randint(1, len(opened))]
        outcome = rnd.choice(["open", "won", "lost"])
        deal = factories.OpportunityFactory(
            account=account, owner=owner, stage=path[-1], amount=1000 * (index + 1), created_at=when
        )
        previous = None
        for stage in path:
            factories.StageChangeFactory(opportunity=deal, from_stage=previous, to_stage=stage, at=when)
            previous, when = stage, when + datetime.timedelta(days=rnd.randint(0, 20), minutes=rnd.randint(-90, 90))
        if rnd.random() < 0.3 and len(path) > 1:  # a step back, then on again
            factories.StageChangeFactory(opportunity=deal, from_stage=path[-1], to_stage=path[-2], kind="back", at=when)
            when += datetime.timedelta(hours=rnd.randint(1, 30))
            factories.StageChangeFactory(opportunity=deal, from_stage=path[-2], to_stage=path[-1], at=when)
        if outcome != "open":
            closing = stages["Won" if outcome == "won" else "Lost"]
            factories.StageChangeFactory(opportunity=deal, from_stage=path[-1], to_stage=closing, at=when)
            Opportunity.objects.filter(pk=deal.pk).update(
                stage=closing, status=outcome, closed_at=when, had_coach_at_close=rnd.choice([True, False, None])
            )


PERIODS = [
    {},
    {"start": datetime.date(2026, 4, 1), "end": datetime.date(2026, 6, 30)},
    {"start": datetime.date(2026, 4, 10), "end": datetime.date(2026, 4, 10)},
    {"start": datetime.date(2026, 5, 3)},
    {"end": datetime.date(2026, 5, 3)},
]


@pytest.mark.parametrize("zone", ZONES)
def test_dashboard_figures_equal_those_of_the_date_cast_on_a_generated_history(zone, manager, stages, monkeypatch):
    with timezone.override(zone):
        history(manager, stages, seed=21)
        for period in PERIODS:
            # Fix the default quarter too: today's, computed once.
            filters = {"start": datetime.date(2026, 1, 1), "end": datetime.date(2026, 12, 31), **period}
            now = dashboard_summary(user=manager, filters=filters)
            with monkeypatch.context() as patched:
                patched.setattr(dashboard, "in_period", date_cast_period)
                before = dashboard_summary(user=manager, filters=filters)
            # Median ages are measured from "now", which moved between the two calls.
            for summary in (now, before):
                for stage in summary["funnel"]:
                    stage.pop("median_age_days")
            assert now == before, period
            if not period:  # the whole year: the history must give every kind of figure something to count
                assert now["totals"]["count"] and now["win_rate"]["with_coach"]["closed"] and now["losses"]
                assert all(stage["entered"] for stage in now["funnel"]) and any(s["exits"] for s in now["funnel"])


@pytest.mark.parametrize("zone", ZONES)
def test_list_closed_date_filters_select_what_the_date_cast_selected(zone, manager, stages):
    with timezone.override(zone):
        history(manager, stages, seed=7)
        found = []
        for data in (
            {"closed_from": "2026-04-10"},
            {"closed_to": "2026-05-03"},
            {"closed_from": "2026-04-10", "closed_to": "2026-04-12"},
        ):
            listed = OpportunityFilter(data, queryset=Opportunity.objects.all(), user=manager).qs
            start, end = data.get("closed_from"), data.get("closed_to")
            reference = Opportunity.objects.filter(
                date_cast_period(
                    "closed_at", start and datetime.date.fromisoformat(start), end and datetime.date.fromisoformat(end)
                )
            )
            assert set(listed.values_list("pk", flat=True)) == set(reference.values_list("pk", flat=True)), data
            found.append(reference.count())
        assert found[0] and found[1], "the open-ended ranges must select something"


def test_the_last_date_there_is_bounds_nothing(manager, stages):
    deal = factories.OpportunityFactory(stage=stages["Won"], status="won", closed_at=timezone.now())
    listed = OpportunityFilter({"closed_to": "9999-12-31"}, queryset=Opportunity.objects.all(), user=manager).qs
    assert list(listed) == [deal]
