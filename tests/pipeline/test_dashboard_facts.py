"""The stage changes' visit facts (pipeline.stage_facts) equal their live computation, and so does the dashboard.

Oracle tests: a mixed history written through the services (creates, moves forward and back,
send-backs, overrides, wins, losses, reopens, owner changes, an account's region change, an
import of back-dated deals, a departure's bulk move of deals, an account merge), across days
and in two time zones. Then every stored fact must equal the correlated-subquery computation
(`stage_facts_live`), every move's owner its deal's, and every dashboard figure the one computed
with the dashboard's funnel queries of before (kept here as `live_stage_entries` and
`live_stage_exits`, scoped through the move's deal instead of its copy of the owner), for
several periods and scopes.
"""

import datetime
import random
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import DateTimeField, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Account
from coaches import services as coach_services
from coaches.models import Coach
from departures import services as departures_services
from pipeline import dashboard, forecast, services
from pipeline.dashboard import DaysBetween, dashboard_summary, in_period
from pipeline.forecast import forecast_deals, forecast_summary
from pipeline.models import Opportunity, StageChange
from pipeline.stage_facts import FACTS, stage_facts_live, stage_facts_refresh
from pipeline.tasks import dashboard_facts_rebuild_task
from tests import factories
from tests.pipeline.test_stage_owner import assert_owners_kept

ZONES = ["Asia/Kolkata", "America/Los_Angeles"]


def live_stage_entries(*, start=None, end=None) -> QuerySet[StageChange]:
    """The dashboard's moves into a stage before the visit facts: two subqueries over the deal's later moves."""
    later = StageChange.objects.filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk")),
        in_period("at", None, end),
        opportunity=OuterRef("opportunity"),
        from_stage=OuterRef("to_stage"),
    )
    forward = Q(to_stage__is_won=True) | Q(to_stage__is_lost=False, to_stage__order__gt=OuterRef("to_stage__order"))
    backward = Q(to_stage__is_lost=True) | Q(to_stage__is_won=False, to_stage__order__lt=OuterRef("to_stage__order"))
    return StageChange.objects.filter(in_period("at", start, end)).annotate(
        advanced=Exists(later.filter(forward)), dropped=Exists(later.filter(backward))
    )


def live_stage_exits(*, start=None, end=None) -> QuerySet[StageChange]:
    """The dashboard's moves out of a stage before the visit facts: a subquery for the move in."""
    entered = (
        StageChange.objects.filter(
            Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk")),
            opportunity=OuterRef("opportunity"),
            to_stage=OuterRef("from_stage"),
        )
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    entered_at = Coalesce(Subquery(entered, output_field=DateTimeField()), F("opportunity__created_at"))
    return StageChange.objects.filter(in_period("at", start, end), from_stage__isnull=False).annotate(
        days=DaysBetween(entered_at, F("at"))
    )


def assert_facts_are_live():
    moves = list(stage_facts_live())
    assert moves
    for move in moves:
        stored = tuple(getattr(move, fact) for fact in FACTS)
        live = tuple(getattr(move, f"live_{fact}") for fact in FACTS)
        assert stored == live, (move.pk, move.kind, stored, live)


def history(manager, stages, loss_reason, seed: int) -> dict:
    """Deals written through the services over ~100 days, a few hours from local midnights."""
    rnd = random.Random(seed)
    reps = [factories.RepFactory(manager=manager) for _ in range(3)]
    regions = [factories.RegionFactory(name=name) for name in ("North", "East")]
    admin = factories.AdminFactory()
    lines = [factories.ProductLineFactory(name=name) for name in ("Cloud", "Services")]
    opened = [stages[name] for name in ("Lead", "Qualified", "Coach confirmed", "Proposal", "Negotiation")]
    moment = timezone.make_aware(datetime.datetime(2026, 3, 25, 23, 0))
    accounts, coaches = [], {}
    for index in range(12):
        owner = reps[index % 3]
        account = factories.AccountFactory(owner=owner, region=regions[index % 2])
        accounts.append(account)
        if index % 3:
            coaches[account.pk] = factories.CoachFactory(account=account, holder=owner)
    deals = []

    def tick():
        nonlocal moment
        moment += datetime.timedelta(hours=rnd.choice([1, 2, 5, 22, 26, 49]), minutes=rnd.randint(0, 59))
        return time_machine.travel(moment, tick=False)

    for step in range(160):
        with tick():
            action = rnd.random()
            open_deals = [d for d in deals if d.status == Opportunity.Status.OPEN]
            closed_deals = [d for d in deals if d.status != Opportunity.Status.OPEN]
            if action < 0.2 or not open_deals:
                account = rnd.choice(accounts)
                deals.append(
                    services.opportunity_create(
                        by=account.owner,
                        account=account,
                        name=f"Deal {step}",
                        product_line=lines[step % 2],
                        amount=Decimal(1000 * (step + 1)),
                        expected_close=timezone.localdate() + datetime.timedelta(days=rnd.randint(0, 90)),
                    )
                )
            elif action < 0.72:
                deal = rnd.choice(open_deals)
                position = opened.index(deal.stage)
                choices = [s for s in opened if s != deal.stage and abs(opened.index(s) - position) <= 2]
                if rnd.random() < 0.2:
                    choices = [stages["Won"] if rnd.random() < 0.5 else stages["Lost"]]
                target = rnd.choice(choices)
                try:
                    services.opportunity_move(
                        opportunity=deal,
                        stage=target,
                        by=deal.owner,
                        loss_reason=loss_reason if target.is_lost else None,
                    )
                except Exception:  # the gate refused (no coach): an override by the manager instead
                    deal.refresh_from_db()
                    if not target.is_closed and deal.is_open:
                        services.opportunity_override(opportunity=deal, stage=target, by=manager, reason="Known.")
            elif action < 0.8 and closed_deals:
                deal = rnd.choice(closed_deals)
                services.opportunity_reopen(opportunity=deal, stage=rnd.choice(opened[:2]), by=manager, reason="Back.")
            elif action < 0.87 and coaches:
                # An account loses its coach: its gated deals are sent back.
                coach = coaches.pop(rnd.choice(sorted(coaches)))
                account = coach.account
                coach_services.coach_set_status(coach=coach, status="ended", by=manager, reason="Left.")
                services.account_send_back(account_id=account.pk)
            elif action < 0.93 and open_deals:
                deal = rnd.choice(open_deals)
                services.opportunity_update(opportunity=deal, by=manager, owner=rnd.choice(reps))
            elif action >= 0.93:
                account = rnd.choice(accounts)
                account_services.account_update(
                    account=account, by=admin, region=regions[1] if account.region_id == regions[0].pk else regions[0]
                )
            for deal in deals:
                deal.refresh_from_db()
    # Deals imported with back-dated moves (opened and closed on past days).
    with time_machine.travel(moment, tick=False):
        for index, stage in enumerate((stages["Won"], stages["Lost"], stages["Proposal"])):
            services.opportunity_import(
                by=manager,
                account=accounts[index + 1],
                name=f"Imported {index}",
                product_line=lines[0],
                amount=Decimal(5000),
                stage=stage,
                owner=reps[index],
                expected_close=None,
                source="",
                created_on=datetime.date(2026, 4, 2 + index),
                closed_on=datetime.date(2026, 5, 1 + index) if stage.is_closed else None,
            )
        # A rep of another team departs: his open deals (and their moves) go to successors in this
        # team, through the departures' bulk move; his closed ones stay his, outside the team.
        leaver = factories.RepFactory(manager=factories.ManagerFactory())
        for index in range(3):
            services.opportunity_update(opportunity=deals[index], by=admin, owner=leaver)
        leaver.status, leaver.departure_date = "leaving", timezone.localdate()
        leaver.save()
        assert departures_services.user_depart(user_id=leaver.pk)["opportunities"]
        # Two accounts of one rep merged: their deals move, their owners stay.
        account_services.account_merge(account=accounts[3], into=accounts[0], by=admin)
    return {"reps": reps, "regions": regions, "lines": lines, "admin": admin, "now": moment}


PERIODS = [
    {"start": datetime.date(2026, 1, 1), "end": datetime.date(2026, 12, 31)},
    {"start": datetime.date(2026, 4, 1), "end": datetime.date(2026, 4, 30)},
    {"start": datetime.date(2026, 4, 10), "end": datetime.date(2026, 4, 10)},
    {"start": datetime.date(2026, 5, 3), "end": datetime.date(2026, 6, 15)},
    {"start": datetime.date(2000, 1, 1), "end": datetime.date.max},
]


@pytest.mark.parametrize("zone", ZONES)
def test_visit_facts_and_every_dashboard_figure_equal_the_live_computation(
    zone, manager, stages, loss_reason, monkeypatch
):
    with timezone.override(zone):
        made = history(manager, stages, loss_reason, seed=21)
        kinds = set(StageChange.objects.values_list("kind", flat=True))
        assert kinds >= {"advance", "back", "sent_back", "override", "reopen"}, kinds
        assert_facts_are_live()
        assert_owners_kept()
        scopes = [
            (manager, {}),
            (manager, {"owner": made["reps"][0]}),
            (manager, {"region": made["regions"][1]}),
            (manager, {"product_line": made["lines"][0]}),
            (made["admin"], {}),
            (made["reps"][1], {}),
        ]
        figures = ("entered", "advanced", "dropped", "exits", "sent_back")
        counted = set()
        with time_machine.travel(made["now"], tick=False):
            for user, scope in scopes:
                for period in PERIODS:
                    filters = {**scope, **period}
                    summary = dashboard_summary(user=user, filters=filters)
                    with monkeypatch.context() as patched:
                        patched.setattr(dashboard, "stage_entries", live_stage_entries)
                        patched.setattr(dashboard, "stage_exits", live_stage_exits)
                        # The scope on the move's deal, without the move's copy of its owner.
                        patched.setattr(
                            dashboard, "moves_scope", lambda scope: dashboard._through("opportunity", scope)
                        )
                        live = dashboard_summary(user=user, filters=filters)
                    assert summary == live, (user, filters)
                    for stage in summary["funnel"]:
                        counted |= {key for key in figures if stage[key]}
        # The history gave every funnel figure something to count.
        assert counted == set(figures)


def test_the_rebuild_restores_facts_written_around_the_services(manager, stages, loss_reason):
    history(manager, stages, loss_reason, seed=5)
    total = StageChange.objects.count()
    StageChange.objects.update(from_stage_entered_at=None, left_forward_at=None, left_back_at=timezone.now())

    assert stage_facts_refresh() == total
    assert_facts_are_live()
    assert stage_facts_refresh() == 0  # a second run changes nothing
    StageChange.objects.update(left_back_at=None)
    assert dashboard_facts_rebuild_task.delay().get() > 0
    assert_facts_are_live()
    StageChange.objects.update(left_forward_at=None)
    call_command("dashboard_facts_rebuild", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert_facts_are_live()


def test_the_nightly_rebuild_is_scheduled_for_beat_and_run_scheduled(settings):
    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "pipeline.tasks.dashboard_facts_rebuild_task" in entries


def test_a_stage_reorder_rebuilds_the_facts(admin_user, stages, django_capture_on_commit_callbacks):
    account = factories.AccountFactory()
    deal = factories.OpportunityFactory(account=account, stage=stages["Qualified"])
    factories.StageChangeFactory(opportunity=deal, to_stage=stages["Lead"])
    factories.StageChangeFactory(opportunity=deal, from_stage=stages["Lead"], to_stage=stages["Qualified"])
    entry = StageChange.objects.get(to_stage=stages["Lead"])
    assert entry.left_forward_at is not None and entry.left_back_at is None
    with django_capture_on_commit_callbacks(execute=True):
        # Lead after Qualified: the move Lead → Qualified now went backwards.
        services.stage_update(stage=stages["Lead"], by=admin_user, order=25)
    entry.refresh_from_db()
    assert entry.left_forward_at is None and entry.left_back_at is not None
    assert_facts_are_live()


def test_a_move_keeps_the_facts_in_its_transaction(rep, stages):
    account = factories.AccountFactory(owner=rep)
    coach = factories.CoachFactory(account=account, holder=rep)
    assert coach.pk
    deal = services.opportunity_create(
        by=rep, account=account, name="Deal", amount=Decimal(100), product_line=factories.ProductLineFactory()
    )
    services.opportunity_move(opportunity=deal, stage=stages["Qualified"], by=rep)
    services.opportunity_move(opportunity=deal, stage=stages["Lead"], by=rep)
    first, second, third = StageChange.objects.filter(opportunity=deal).order_by("at", "pk")
    assert (first.left_forward_at, first.left_back_at) == (second.at, None)
    assert (second.from_stage_entered_at, second.left_back_at) == (first.at, third.at)
    assert third.from_stage_entered_at == second.at


def rounded(figures: dict) -> dict:
    """The amounts of `figures` to the cent, as the forecast gives them."""
    money = {"amount", "stage_weighted", "adjusted"}
    return {k: Decimal(v).quantize(Decimal("0.01")) if k in money else v for k, v in figures.items()}


def test_the_forecast_equals_its_deals_summed_in_python(manager, stages, loss_reason, monkeypatch):
    """Each deal's coach-adjusted probability is its (stage, coach) rate, and every total and month their sum."""
    monkeypatch.setattr(forecast, "FORECAST_MIN_SAMPLE", 1)  # the history's few closed deals set rates
    with timezone.override(ZONES[0]):
        made = history(manager, stages, loss_reason, seed=21)
        # The history ended most coaches: half the accounts get one now, and their closed deals
        # count as closed with one (inputs for the rates, written around the services).
        for account in Account.objects.order_by("pk")[::2]:
            factories.CoachFactory(account=account)
        coached = Coach.objects.filter(status="active").values("account_id")
        Opportunity.objects.exclude(status="open").filter(account__in=coached).update(had_coach_at_close=True)
        scopes = [(manager, {}), (made["admin"], {}), (made["reps"][1], {}), (manager, {"region": made["regions"][1]})]
        cent = Decimal("0.01")
        checked, bases, risky, coached_deals = 0, set(), 0, 0
        with time_machine.travel(made["now"], tick=False):
            for user, scope in scopes:
                for period in PERIODS:
                    filters = {**scope, **period}
                    summary = forecast_summary(user=user, filters=filters)
                    rates = {(r["stage_id"], r["with_coach"]): r["probability"] for r in summary["rates"]}
                    bases |= {(r["with_coach"], r["basis"]) for r in summary["rates"]}
                    deals = list(forecast_deals(user=user, filters=filters).select_related("stage"))
                    months, totals = {}, {"count": 0, "amount": 0, "stage_weighted": 0, "adjusted": 0}
                    risk = {"count": 0, "amount": 0, "stage_weighted": 0, "adjusted": 0}
                    for deal in deals:
                        adjusted = rates.get((deal.stage_id, deal.has_coach), deal.stage.probability)
                        assert deal.adjusted_probability == adjusted, (deal.pk, deal.has_coach)
                        coached_deals += deal.has_coach
                        row = {
                            "count": 1,
                            "amount": deal.amount,
                            "stage_weighted": deal.amount * deal.stage.probability * cent,
                            "adjusted": deal.amount * adjusted * cent,
                        }
                        month = months.setdefault(deal.expected_close.replace(day=1), dict.fromkeys(row, 0))
                        for key, value in row.items():
                            totals[key] += value
                            month[key] += value
                            if deal.at_risk:
                                risk[key] += value
                    assert {k: summary["totals"][k] for k in totals} == rounded(totals), (user, filters)
                    assert summary["at_risk"] == rounded(risk), (user, filters)
                    assert [{k: m[k] for k in ("month", *totals)} for m in summary["months"]] == [
                        {"month": month, **rounded(figures)} for month, figures in sorted(months.items())
                    ]
                    checked += len(deals)
                    risky += risk["count"]
        assert checked and risky and coached_deals
        assert bases >= {(True, "history"), (False, "history")}, bases
