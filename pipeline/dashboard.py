"""The manager's funnel dashboard, computed in the database as plain data.

`dashboard_summary` is the one entry point: the page, its CSV export and the API render what it
returns. Every figure is an aggregate (conditional counts and sums, grouped by stage); the
number of queries does not depend on how many deals there are.
"""

import datetime
import statistics
from decimal import Decimal

from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

import access
from coachcrm import versions
from coaches.models import Coach
from coaches.selectors import retention_summary
from pipeline.models import Opportunity, Stage, StageChange
from team.models import User

# Fewer closed deals than this in either group and the win-rate comparison means nothing.
MIN_CLOSED_FOR_RATE = 10
# The article's figure: a deal with a coach wins 80% more often.
BENCHMARK_UPLIFT = 0.8
HELD_BACK_SHOWN = 10
MONEY = DecimalField(max_digits=20, decimal_places=2)


class Median(Aggregate):
    """The median of a numeric expression: `percentile_cont` on PostgreSQL, a registered aggregate on SQLite."""

    name = "Median"
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        clone = self.copy()
        clone.function, clone.template = "crm_median", Aggregate.template
        return clone.as_sql(compiler, connection, **extra)


class SqliteMedian:
    """SQLite has no median; `pipeline.apps` registers this as `crm_median` on every connection."""

    def __init__(self):
        self.values = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        # statistics.median averages the two middle values, as percentile_cont(0.5) does.
        return statistics.median(self.values) if self.values else None


class DaysBetween(Func):
    """Fractional days from the first datetime to the second."""

    arity = 2
    output_field = FloatField()

    def _parts(self, compiler):
        start, start_params = compiler.compile(self.source_expressions[0])
        end, end_params = compiler.compile(self.source_expressions[1])
        return start, end, (*end_params, *start_params)

    def as_sql(self, compiler, connection, **extra):
        start, end, params = self._parts(compiler)
        return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)", params

    def as_sqlite(self, compiler, connection, **extra):
        start, end, params = self._parts(compiler)
        return f"(julianday({end}) - julianday({start}))", params


def quarter_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the calendar quarter containing `day`."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = day.replace(month=first_month, day=1)
    next_start = (start + datetime.timedelta(days=92)).replace(day=1)
    return start, next_start - datetime.timedelta(days=1)


def day_start(day: datetime.date) -> datetime.datetime:
    """Local midnight at the start of the day, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def in_period(field: str, start: datetime.date | None = None, end: datetime.date | None = None) -> Q:
    """The rows whose datetime `field` falls on a local day from `start` to `end` (either open)."""
    # The opportunity list's date filters use it too, so a figure and the list it links to
    # always agree. A datetime range from local midnight to the next one, not `__date`, whose
    # cast to a date keeps PostgreSQL from using the column's index.
    q = Q()
    if start:
        q &= Q(**{f"{field}__gte": day_start(start)})
    if end and end < datetime.date.max:  # the last day there is bounds nothing (and has no next day)
        q &= Q(**{f"{field}__lt": day_start(end + datetime.timedelta(days=1))})
    return q


def _end_bound(end: datetime.date | None) -> datetime.datetime | None:
    """Local midnight after the period's last day (None when the period has no end)."""
    if end and end < datetime.date.max:
        return day_start(end + datetime.timedelta(days=1))
    return None


def stage_entries(*, start: datetime.date | None = None, end: datetime.date | None = None) -> QuerySet[StageChange]:
    """Moves into a stage within the period, annotated with what followed within the period.

    `advanced`: the deal later left that stage forward (a higher open stage, or won);
    `dropped`: it left backwards (back, sent back) or to lost. Conversion and drop-off read these,
    and so does the opportunity list when a funnel figure links to it. Read from the move's own
    visit facts (pipeline.stage_facts: the first later move out forward and backward), so a move
    costs one row, not two subqueries over the deal's other moves.
    """
    bound = _end_bound(end)

    def by_end(field: str) -> Case:
        left = Q(**{f"{field}__lt": bound}) if bound else Q(**{f"{field}__isnull": False})
        return Case(When(left, then=Value(True)), default=Value(False), output_field=BooleanField())

    return StageChange.objects.filter(in_period("at", start, end)).annotate(
        advanced=by_end("left_forward_at"), dropped=by_end("left_back_at")
    )


def stage_exits(*, start: datetime.date | None = None, end: datetime.date | None = None) -> QuerySet[StageChange]:
    """Moves out of a stage within the period, annotated with `days` spent in it (since the move in)."""
    # The move in is the move's visit fact `from_stage_entered_at` (pipeline.stage_facts); a deal
    # imported without its first move counts from its creation. As a subquery, not a join: only
    # those few moves ask their deal (COALESCE stops at the first value), where the join hashed
    # all 100,000 deals for a team's 20,000 moves.
    created_at = Opportunity.objects.filter(pk=OuterRef("opportunity_id")).order_by().values("created_at")[:1]
    entered_at = Coalesce(F("from_stage_entered_at"), Subquery(created_at, output_field=DateTimeField()))
    return StageChange.objects.filter(in_period("at", start, end), from_stage__isnull=False).annotate(
        days=DaysBetween(entered_at, F("at"))
    )


def _through(relation: str, q: Q, kept: frozenset = frozenset()) -> Q:
    """The filter `q` on a related model, each of its lookups prefixed with `relation__`.

    Except the lookups on the fields in `kept`, which the model keeps a copy of itself.
    """
    through = Q()
    through.connector, through.negated = q.connector, q.negated
    for child in q.children:
        if isinstance(child, Q):
            through.children.append(_through(relation, child, kept))
        elif child[0].split("__")[0] in kept:
            through.children.append(child)
        else:
            through.children.append((f"{relation}__{child[0]}", child[1]))
    return through


def moves_scope(deal_scope: Q) -> Q:
    """The dashboard's deal scope as a filter on their stage changes.

    The owner on the move's own copy (`StageChange.owner`, the deal's owner kept by the services):
    a team's moves in a period are ranges of the (owner, at) index, where the deal's own owner
    made PostgreSQL find the team's deals, then probe each one's moves (5,000 loops for a
    manager). The other filters (region, product line) on the move's deal.
    """
    return _through("opportunity", deal_scope, kept=frozenset({"owner"}))


def _ratio(part, whole) -> float | None:
    return round(part / whole, 4) if whole else None


def _days(value) -> float | None:
    return round(value, 1) if value is not None else None


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _rate(won: int, lost: int, won_amount) -> dict:
    closed = won + lost
    return {"won": won, "lost": lost, "closed": closed, "rate": _ratio(won, closed), "won_amount": _money(won_amount)}


def dashboard_summary(*, user: User, filters: dict) -> dict:
    """The whole dashboard for the user's scope and filters, as plain data; a fixed 6 queries.

    `filters` (all optional): `start`, `end` (dates; default this quarter), `owner` (a User: one
    rep; ignored for reps, who always see their own deals), `manager` (a User: his team; admins
    only, a manager always sees his own team), `region` (Region), `product_line` (ProductLine).

    Returns::

        {
          "period": {"start": date, "end": date},
          "scope": {"owner_id", "manager_id", "region_id", "product_line_id"},   # ids or None
          "funnel": [  # one row per open stage, in stage order
            {"stage_id", "name", "order", "probability", "requires_coach", "coach_requirement",
             # open deals now in the stage (a snapshot; the period does not apply)
             "count", "amount", "weighted_amount",        # Decimal amounts
             "covered", "coverage",                       # deals whose account has a qualified coach now; share
             "median_age_days",                           # how long the open deals have been there
             # moves within the period (from StageChange rows)
             "entered", "advanced", "dropped",            # deals that entered; of them, left forward / back or lost
             "conversion", "drop_off",                    # advanced / entered, dropped / entered
             "exits", "sent_back", "sent_back_rate",      # deals that left the stage; of them, sent back automatically
             "median_days"},                              # median days in the stage, over the moves out
          ],
          "totals": {"count", "amount", "weighted_amount", "covered", "coverage"},
          "win_rate": {
            "with_coach": {"won", "lost", "closed", "rate", "won_amount"},     # had a qualified coach at close
            "without_coach": {...},                                             # had none
            "uplift": float | None,      # rate_with / rate_without - 1; None unless `enough_data`
            "enough_data": bool,         # both groups have at least `min_closed` closed deals
            "min_closed": 10, "benchmark": 0.8,
          },
          "held_back": {"count", "amount", "oldest": [
             {"id", "name", "account", "owner", "owner_id", "stage", "amount", "since"}]},   # oldest first
          "losses": [{"reason", "stage", "with_coach", "without_coach", "count"}],   # lost in the period,
                     # by loss reason (name, None before reasons) and the stage it was lost from; most first
          "coach_health": {"active", "single_threaded", "stale", "at_risk"},
          "retention": coaches.selectors.retention_summary's data for the scope's departed reps,
                       or None on a rep's own dashboard,
        }

    Ratios are floats between 0 and 1 (None when there is nothing to divide by); days are floats.
    Closed deals count when closed in the period; those with an unknown coach state at close
    (`had_coach_at_close` empty, e.g. imported) are in neither win-rate group.

    Cached under the data versions of the tables it reads (`REPORT_TABLES`, coachcrm.versions):
    a repeated view costs one query until something writes to them.
    """
    return versions.cached(
        "dashboard",
        tables=REPORT_TABLES,
        params={"user": user.pk, "role": user.role, **filters},
        compute=lambda: _dashboard_summary(user=user, filters=filters),
    )


# Every table the dashboard and the forecast read (tests/pipeline/test_dashboard_cache.py holds
# this list to their queries): watched (PipelineConfig.ready), so a write to any of them makes
# the next view recompute.
REPORT_TABLES = (
    "accounts_account",
    "coaches_coach",
    "coaches_handover",
    "coaches_holder",
    "coaches_interaction",
    "pipeline_lossreason",
    "pipeline_opportunity",
    "pipeline_stage",
    "pipeline_stagechange",
    "team_user",
)


def _dashboard_summary(*, user: User, filters: dict) -> dict:
    default_start, default_end = quarter_of(timezone.localdate())
    start, end = filters.get("start") or default_start, filters.get("end") or default_end
    deal_scope, coach_scope = access.dashboard(user, filters)
    deals = Opportunity.objects.filter(deal_scope)
    now = timezone.now()

    stages = list(Stage.objects.open())

    # One grouped query for today's open deals per stage and the deals closed in the period.
    open_q = Q(status=Opportunity.Status.OPEN)
    closed_q = Q(status__in=[Opportunity.Status.WON, Opportunity.Status.LOST]) & in_period("closed_at", start, end)
    won, lost = Q(status=Opportunity.Status.WON), Q(status=Opportunity.Status.LOST)
    coached, uncoached = Q(had_coach_at_close=True), Q(had_coach_at_close=False)
    # Times 0.01 rather than / 100: SQLite keeps whole-number amounts as integers and would divide as such.
    weighted = ExpressionWrapper(F("amount") * F("stage__probability") * Value(Decimal("0.01")), output_field=MONEY)
    by_stage = {
        row["stage"]: row
        for row in deals.with_coach_flag()
        .filter(open_q | closed_q)
        .values("stage")
        .annotate(
            count=Count("pk", filter=open_q),
            # Not named "amount": F("amount") in `weighted` must mean the field.
            open_amount=Sum("amount", filter=open_q),
            open_weighted=Sum(weighted, filter=open_q),
            covered=Count("pk", filter=open_q & Q(has_coach=True)),
            held_count=Count("pk", filter=open_q & Q(held_back=True)),
            held_amount=Sum("amount", filter=open_q & Q(held_back=True)),
            median_age=Median(
                DaysBetween(F("stage_entered_at"), Value(now, output_field=DateTimeField())), filter=open_q
            ),
            won_with=Count("pk", filter=closed_q & won & coached),
            lost_with=Count("pk", filter=closed_q & lost & coached),
            won_without=Count("pk", filter=closed_q & won & uncoached),
            lost_without=Count("pk", filter=closed_q & lost & uncoached),
            won_with_amount=Sum("amount", filter=closed_q & won & coached),
            won_without_amount=Sum("amount", filter=closed_q & won & uncoached),
        )
        .order_by()
    }

    # The scope on the move itself and its own deal (a join), not `opportunity IN (scoped deals)`:
    # PostgreSQL scanned all 100,000 deals to hash the team's against the ones the moves join.
    in_scope = moves_scope(deal_scope)
    entries = {
        row["to_stage"]: row
        for row in stage_entries(start=start, end=end)
        .filter(in_scope, to_stage__in=[s.pk for s in stages])
        .values("to_stage")
        .annotate(
            entered=Count("opportunity", distinct=True),
            advanced_n=Count("opportunity", distinct=True, filter=Q(advanced=True)),
            dropped_n=Count("opportunity", distinct=True, filter=Q(dropped=True, advanced=False)),
        )
        .order_by()
    }
    exits = {
        row["from_stage"]: row
        for row in stage_exits(start=start, end=end)
        .filter(in_scope, from_stage__in=[s.pk for s in stages])
        .values("from_stage")
        .annotate(
            exits=Count("opportunity", distinct=True),
            sent_back=Count("opportunity", distinct=True, filter=Q(kind=StageChange.Kind.SENT_BACK)),
            median_days=Median("days"),
        )
        .order_by()
    }

    funnel = []
    for stage in stages:
        snap, moved_in, moved_out = by_stage.get(stage.pk, {}), entries.get(stage.pk, {}), exits.get(stage.pk, {})
        count, entered, out = snap.get("count", 0), moved_in.get("entered", 0), moved_out.get("exits", 0)
        funnel.append(
            {
                "stage_id": stage.pk,
                "name": stage.label,
                "order": stage.order,
                "probability": stage.probability,
                "requires_coach": stage.requires_coach,
                "coach_requirement": stage.coach_requirement,
                "count": count,
                "amount": _money(snap.get("open_amount")),
                "weighted_amount": _money(snap.get("open_weighted")),
                "covered": snap.get("covered", 0),
                "coverage": _ratio(snap.get("covered", 0), count),
                "median_age_days": _days(snap.get("median_age")),
                "entered": entered,
                "advanced": moved_in.get("advanced_n", 0),
                "dropped": moved_in.get("dropped_n", 0),
                "conversion": _ratio(moved_in.get("advanced_n", 0), entered),
                "drop_off": _ratio(moved_in.get("dropped_n", 0), entered),
                "exits": out,
                "sent_back": moved_out.get("sent_back", 0),
                "sent_back_rate": _ratio(moved_out.get("sent_back", 0), out),
                "median_days": _days(moved_out.get("median_days")),
            }
        )

    # Summing a handful of per-stage rows, not deals.
    rows = by_stage.values()
    totals = {key: sum(row[key] or 0 for row in rows) for key in ("count", "covered", "held_count")}
    money = {key: _money(sum(row[key] or 0 for row in rows)) for key in ("open_amount", "open_weighted", "held_amount")}
    closed = {key: sum(row[key] for row in rows) for key in ("won_with", "lost_with", "won_without", "lost_without")}
    with_coach = _rate(closed["won_with"], closed["lost_with"], sum(row["won_with_amount"] or 0 for row in rows))
    without_coach = _rate(
        closed["won_without"], closed["lost_without"], sum(row["won_without_amount"] or 0 for row in rows)
    )
    enough = with_coach["closed"] >= MIN_CLOSED_FOR_RATE and without_coach["closed"] >= MIN_CLOSED_FOR_RATE
    uplift = None
    if enough and without_coach["rate"]:
        uplift = round(with_coach["rate"] / without_coach["rate"] - 1, 4)

    # Why deals were lost in the period, by reason and the stage they were lost from, with and
    # without a coach at close: one grouped query (the "from" stage is the lost move's, a subquery).
    lost_from = (
        StageChange.objects.filter(opportunity=OuterRef("pk"), to_stage__is_lost=True)
        .order_by("-at", "-pk")
        .values("from_stage__name")[:1]
    )
    losses = [
        {
            "reason": row["loss_reason__name"],
            "stage": row["lost_from"],
            "with_coach": row["with_coach"],
            "without_coach": row["without_coach"],
            "count": row["count"],
        }
        for row in deals.filter(lost & in_period("closed_at", start, end))
        .annotate(lost_from=Subquery(lost_from))
        .values("loss_reason__name", "lost_from")
        .annotate(
            with_coach=Count("pk", filter=coached), without_coach=Count("pk", filter=uncoached), count=Count("pk")
        )
        .order_by("-count", "loss_reason__name", "lost_from")
    ]

    oldest = (
        deals.held_back()
        .select_related("account", "owner", "stage")
        .order_by("held_back_since", "pk")[:HELD_BACK_SHOWN]
    )

    # Within the scope: counting the holders of every coach in the organisation to keep the
    # team's few thousand was most of this query's time at 15,000 coaches.
    health = Coach.objects.filter(coach_scope).health_counts()

    return {
        "period": {"start": start, "end": end},
        "scope": {
            "owner_id": user.pk if user.is_rep else getattr(filters.get("owner"), "pk", None),
            "manager_id": user.pk if user.is_manager else getattr(filters.get("manager"), "pk", None),
            "region_id": getattr(filters.get("region"), "pk", None),
            "product_line_id": getattr(filters.get("product_line"), "pk", None),
        },
        "funnel": funnel,
        "totals": {
            "count": totals["count"],
            "amount": money["open_amount"],
            "weighted_amount": money["open_weighted"],
            "covered": totals["covered"],
            "coverage": _ratio(totals["covered"], totals["count"]),
        },
        "win_rate": {
            "with_coach": with_coach,
            "without_coach": without_coach,
            "uplift": uplift,
            "enough_data": enough,
            "min_closed": MIN_CLOSED_FOR_RATE,
            "benchmark": BENCHMARK_UPLIFT,
        },
        "held_back": {
            "count": totals["held_count"],
            "amount": money["held_amount"],
            "oldest": [
                {
                    "id": deal.pk,
                    "name": deal.name,
                    "account": deal.account.name,
                    "owner": str(deal.owner),
                    "owner_id": deal.owner_id,
                    "stage": deal.stage.name,
                    "amount": deal.amount,
                    "since": deal.held_back_since,
                }
                for deal in oldest
            ],
        },
        "losses": losses,
        "coach_health": health,
        "retention": _retention(user=user, filters=filters),
    }


def _retention(*, user: User, filters: dict) -> dict | None:
    """Coaches kept after the departures in the scope (a manager's team, an admin's pick); none for a rep."""
    if user.is_rep:
        return None
    manager = filters.get("manager") if user.is_admin else user
    people = User.objects.team_of(manager) if manager is not None else User.objects.all()
    if owner := filters.get("owner"):
        people = people.filter(pk=owner.pk)
    return retention_summary(users_qs=people)
