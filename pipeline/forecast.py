"""The coach-adjusted forecast: each open deal's stage probability, and the one the team's own history shows.

Method (also in docs/method.md, "Measuring the method"). For every open stage and for deals with and
without a real coach (REAL_COACH: the gate's `qualification_q`, not merely an active coach), the win
rate over the last FORECAST_WINDOW_DAYS: of the deals in the scope that were ever in that stage and
closed in the window, the share won, split by `had_coach_at_close`. An open deal takes the rate of
its stage and of its account's coach state now, shrunk toward the stage probability as if
FORECAST_PRIOR more deals had closed at exactly that probability:
``(won + PRIOR * p_stage) / (closed + PRIOR)``. Below FORECAST_MIN_SAMPLE closed deals the rate
is not used and the stage probability stands (`basis` "stage", said under the figures).

`forecast_deals` is the drill-down (each deal with both probabilities); `forecast_summary`
aggregates that same queryset in the database, so a total always equals the sum of its list.
"""

import datetime
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

import access
from coachcrm import versions
from coaches.models import REAL_COACH, Coach, CoachRequirement
from pipeline.dashboard import REPORT_TABLES, quarter_of
from pipeline.models import Opportunity, Stage, StageChange
from team.models import User

FORECAST_WINDOW_DAYS = 365
# Fewer closed deals than this for a stage and coach state, and its win rate is not used.
FORECAST_MIN_SAMPLE = 5
# The shrinkage: the history counts as if this many more deals had closed at the stage probability.
FORECAST_PRIOR = 10
MONEY = DecimalField(max_digits=20, decimal_places=2)
PERCENT = DecimalField(max_digits=7, decimal_places=2)
CENT = Decimal("0.01")


def forecast_rates(*, deal_scope: Q, today: datetime.date | None = None) -> list[dict]:
    """Per open stage and coach state: the closed deals of the window, the won ones, and the probability used.

    Two queries (the stages, one grouped count of stage entries).
    """
    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=FORECAST_WINDOW_DAYS)
    stages = list(Stage.objects.open())
    closed = Opportunity.objects.filter(
        deal_scope,
        status__in=[Opportunity.Status.WON, Opportunity.Status.LOST],
        closed_at__date__gt=since,
        closed_at__date__lte=today,
        had_coach_at_close__isnull=False,
    )
    counts = {
        (row["to_stage"], row["opportunity__had_coach_at_close"]): row
        for row in StageChange.objects.filter(opportunity__in=closed.values("pk"), to_stage__in=[s.pk for s in stages])
        .values("to_stage", "opportunity__had_coach_at_close")
        .annotate(
            closed=Count("opportunity", distinct=True),
            won=Count("opportunity", distinct=True, filter=Q(opportunity__status=Opportunity.Status.WON)),
        )
        .order_by()
    }
    rates = []
    for stage in stages:
        for coached in (True, False):
            row = counts.get((stage.pk, coached), {})
            n, won = row.get("closed", 0), row.get("won", 0)
            enough = n >= FORECAST_MIN_SAMPLE
            prior = Decimal(stage.probability) / 100
            probability = (Decimal(won) + FORECAST_PRIOR * prior) / (n + FORECAST_PRIOR) if enough else prior
            rates.append(
                {
                    "stage_id": stage.pk,
                    "stage": stage.label,
                    "order": stage.order,
                    "requires_coach": stage.requires_coach,
                    "with_coach": coached,
                    "closed": n,
                    "won": won,
                    "win_rate": round(won / n, 4) if n else None,
                    "stage_probability": stage.probability,
                    # In percent with two decimals, the figure every deal of the group is weighted by.
                    "probability": (probability * 100).quantize(CENT),
                    "basis": "history" if enough else "stage",
                }
            )
    return rates


def _healthy_coaches():
    """Real coaches (the gate's REAL_COACH test) that are verified, not at risk and held by two or more reps."""
    # Each test on the coach itself (EXISTS on its pk), not `pk__in` a set: PostgreSQL built the
    # sets over the organisation's 15,000 coaches and their holders, once per figure that reads
    # `at_risk` (four), ~230 ms each at full size, to answer for the period's few hundred deals.
    return (
        Coach.objects.qualifying(REAL_COACH)
        .filter(at_risk=False)
        .exclude(Exists(Coach.objects.unverified().filter(pk=OuterRef("pk"))))
        # Held by two or more: the kept count (an active coach with at most one is single-threaded).
        .filter(holder_count__gt=1)
    )


def _scope(*, user: User, filters: dict) -> tuple[Q, datetime.date, datetime.date]:
    default_start, default_end = quarter_of(timezone.localdate())
    deal_scope, _coaches = access.dashboard(user, filters)
    return deal_scope, filters.get("start") or default_start, filters.get("end") or default_end


def forecast_deals(*, user: User, filters: dict, rates: list[dict] | None = None) -> QuerySet[Opportunity]:
    """The open deals the forecast counts (expected to close in the period), each with both probabilities.

    Annotated: `has_coach`, `stage_probability` and `adjusted_probability` (percent),
    `stage_weighted` and `adjusted_weighted` (amounts), and `at_risk`: a gated deal whose account
    has no real coach (every active one unverified, at risk or single-threaded, or none at all).
    """
    deal_scope, start, end = _scope(user=user, filters=filters)
    if rates is None:
        rates = forecast_rates(deal_scope=deal_scope)

    # The coach test once, then the stage: a CASE of (stage, coach) pairs evaluated the coach's
    # EXISTS for each pair it tried (ten per deal, each a hash of all 15,000 coaches).
    def by_stage(with_coach: bool) -> Case:
        whens = [
            When(stage_id=rate["stage_id"], then=Value(rate["probability"]))
            for rate in rates
            if rate["with_coach"] is with_coach
        ]
        return Case(*whens, default=F("stage__probability"), output_field=PERCENT)

    adjusted = Case(When(has_coach=True, then=by_stage(True)), default=by_stage(False), output_field=PERCENT)
    # Times 0.01 rather than / 100: SQLite keeps whole-number amounts as integers and would divide as such.
    hundredth = Value(Decimal("0.01"))
    return (
        Opportunity.objects.filter(deal_scope)
        .open()
        .filter(expected_close__gte=start, expected_close__lte=end)
        .with_coach_flag()
        .annotate(
            stage_probability=F("stage__probability"),
            adjusted_probability=adjusted,
            at_risk=ExpressionWrapper(
                ~Q(stage__coach_requirement=CoachRequirement.NONE)
                & ~Exists(_healthy_coaches().filter(account=OuterRef("account_id"))),
                output_field=Opportunity._meta.get_field("held_back"),
            ),
        )
        .annotate(
            stage_weighted=ExpressionWrapper(F("amount") * F("stage_probability") * hundredth, output_field=MONEY),
            adjusted_weighted=ExpressionWrapper(
                F("amount") * F("adjusted_probability") * hundredth, output_field=MONEY
            ),
        )
    )


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def forecast_totals(*, deals: QuerySet[Opportunity]) -> dict:
    """The count, amount and both weighted amounts of `forecast_deals` rows (a drill-down's header), one query."""
    row = deals.order_by().aggregate(
        n=Count("pk"), total=Sum("amount"), stage_sum=Sum("stage_weighted"), adjusted_sum=Sum("adjusted_weighted")
    )
    return {
        "count": row["n"],
        "amount": _money(row["total"]),
        "stage_weighted": _money(row["stage_sum"]),
        "adjusted": _money(row["adjusted_sum"]),
    }


def forecast_summary(*, user: User, filters: dict) -> dict:
    """Both forecasts for the dashboard's scope and period, the amount at risk for lack of a coach, and the inputs.

    A fixed 5 queries (stages, rates, totals, months, undated deals). Returns::

        {"period": {"start", "end"},
         "totals": {"count", "amount", "stage_weighted", "adjusted", "difference"},
         "at_risk": {"count", "amount", "stage_weighted", "adjusted"},
         "months": [{"month": date (first day), "count", "amount", "stage_weighted", "adjusted"}],
         "undated": {"count", "amount"},        # open deals without an expected close: in neither forecast
         "rates": forecast_rates(...),          # the method's inputs, per stage and coach state
         "method": {"window_days", "min_sample", "prior"}}

    Cached as the dashboard is, under the data versions of the same tables (coachcrm.versions).
    """
    return versions.cached(
        "forecast",
        tables=REPORT_TABLES,
        params={"user": user.pk, "role": user.role, **filters},
        compute=lambda: _forecast_summary(user=user, filters=filters),
    )


def _forecast_summary(*, user: User, filters: dict) -> dict:
    deal_scope, start, end = _scope(user=user, filters=filters)
    rates = forecast_rates(deal_scope=deal_scope)
    deals = forecast_deals(user=user, filters=filters, rates=rates)
    # Not named after the fields ("amount", "stage_weighted"): an aggregate may not shadow what it sums.
    sums = {
        "n": Count("pk"),
        "total": Sum("amount"),
        "stage_sum": Sum("stage_weighted"),
        "adjusted_sum": Sum("adjusted_weighted"),
    }
    risky = Q(at_risk=True)
    totals = deals.order_by().aggregate(
        **sums,
        risk_count=Count("pk", filter=risky),
        risk_amount=Sum("amount", filter=risky),
        risk_stage=Sum("stage_weighted", filter=risky),
        risk_adjusted=Sum("adjusted_weighted", filter=risky),
    )
    months = [
        {
            "month": row["month"].date() if isinstance(row["month"], datetime.datetime) else row["month"],
            "count": row["n"],
            "amount": _money(row["total"]),
            "stage_weighted": _money(row["stage_sum"]),
            "adjusted": _money(row["adjusted_sum"]),
        }
        for row in deals.annotate(month=TruncMonth("expected_close")).values("month").annotate(**sums).order_by("month")
    ]
    undated = (
        Opportunity.objects.filter(deal_scope)
        .open()
        .filter(expected_close__isnull=True)
        .aggregate(count=Count("pk"), amount=Sum("amount"))
    )
    stage_total, adjusted_total = _money(totals["stage_sum"]), _money(totals["adjusted_sum"])
    return {
        "period": {"start": start, "end": end},
        "totals": {
            "count": totals["n"],
            "amount": _money(totals["total"]),
            "stage_weighted": stage_total,
            "adjusted": adjusted_total,
            "difference": adjusted_total - stage_total,
        },
        "at_risk": {
            "count": totals["risk_count"],
            "amount": _money(totals["risk_amount"]),
            "stage_weighted": _money(totals["risk_stage"]),
            "adjusted": _money(totals["risk_adjusted"]),
        },
        "months": months,
        "undated": {"count": undated["count"], "amount": _money(undated["amount"])},
        "rates": rates,
        "method": {"window_days": FORECAST_WINDOW_DAYS, "min_sample": FORECAST_MIN_SAMPLE, "prior": FORECAST_PRIOR},
    }
