"""The demo pipeline: about 60 deals across all stages, some held back, some won or lost."""

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import Account, ProductLine
from coachcrm.notes import note_facts
from coaches.models import Coach
from pipeline.models import Opportunity, Stage, StageChange
from pipeline.stage_facts import stage_facts_refresh

PROJECTS = ["rollout", "expansion"]


def seed(*, users: dict, today: datetime.date) -> int:
    """Create the demo deals (one per account, product line and project); existing ones are left as they are."""
    stages = list(Stage.objects.order_by("order"))
    open_ungated = [s for s in stages if not s.is_closed and not s.requires_coach]
    gated = [s for s in stages if s.requires_coach and not s.is_closed]
    first_gate = gated[0] if gated else None
    won = next(s for s in stages if s.is_won)
    lost = next(s for s in stages if s.is_lost)
    coached = set(Coach.objects.active().values_list("account_id", flat=True))
    lines = list(ProductLine.objects.order_by("name"))
    accounts = list(Account.objects.order_by("pk"))
    now = timezone.now()
    created = 0
    for index in range(60):
        account = accounts[index % len(accounts)]
        has_coach = account.pk in coached
        line = lines[index % len(lines)]
        name = f"{line.name} {PROJECTS[index // len(accounts) % len(PROJECTS)]}"
        if Opportunity.objects.filter(account=account, name=name).exists():
            continue
        held_back = False
        if index % 10 == 7:
            stage = won
        elif index % 10 == 9:
            stage = lost
        elif has_coach:
            stage = (gated + open_ungated)[index % (len(gated) + len(open_ungated))]
        else:
            stage = open_ungated[(index // 2) % len(open_ungated)]
            held_back = stage == open_ungated[-1]
        closed = stage.is_closed
        age = datetime.timedelta(days=10 + (index * 7) % 120)
        deal = Opportunity.objects.create(
            account=account,
            name=name,
            product_line=line,
            amount=Decimal(5000 + (index * 3700) % 95000),
            stage=stage,
            owner=account.owner,
            expected_close=today + datetime.timedelta(days=(index * 11) % 150 - 20),
            status="won" if stage.is_won else "lost" if stage.is_lost else "open",
            held_back=held_back,
            # Held back at the first gate, as opportunity_move would have recorded it.
            held_back_facts=note_facts("gate", stage=first_gate.name, account=account)
            if held_back and first_gate
            else {},
            held_back_since=now - datetime.timedelta(days=index % 9) if held_back else None,
            closed_at=now - datetime.timedelta(days=index % 25) if closed else None,
            had_coach_at_close=has_coach if closed else None,
            stage_entered_at=now - age / 2,
            created_at=now - age,
        )
        StageChange.objects.create(
            opportunity=deal,
            from_stage=None,
            to_stage=stages[0],
            by=deal.owner,
            owner=deal.owner,
            kind="advance",
            at=now - age,
        )
        if stage != stages[0]:
            StageChange.objects.create(
                opportunity=deal,
                from_stage=stages[0],
                to_stage=stage,
                by=deal.owner,
                owner=deal.owner,
                kind="override" if (closed and stage.is_won and not has_coach) else "advance",
                reason="Sponsor known at board level." if (stage.is_won and not has_coach) else "",
                at=now - age / 2,
            )
        created += 1
    stage_facts_refresh(Opportunity.objects.values_list("pk", flat=True))  # written around the services
    return created


# (coached, won, lost): closed deals of the last weeks, for the dashboard's win-rate comparison.
CLOSED_HISTORY = [(True, 15, 9), (False, 6, 14)]


def seed_closed_history(*, users: dict, today: datetime.date) -> int:
    """Deals won and lost over the last seven weeks with their stage moves; existing ones are left as they are."""
    stages = {stage.name: stage for stage in Stage.objects.all()}
    path = [stages[name] for name in ("Lead", "Qualified", "Coach confirmed", "Proposal") if name in stages]
    won = Stage.objects.filter(is_won=True).first()
    lost = Stage.objects.filter(is_lost=True).first()
    coached = set(Coach.objects.active().values_list("account_id", flat=True))
    accounts = list(Account.objects.filter(owner__in=[users["alice"], users["bob"]]).order_by("pk"))
    lines = list(ProductLine.objects.order_by("name"))
    now = timezone.now()
    created = 0
    for has_coach, wins, losses in CLOSED_HISTORY:
        pool = [a for a in accounts if (a.pk in coached) == has_coach]
        for index in range(wins + losses):
            account, is_won = pool[index % len(pool)], index < wins
            name = f"{'Coached' if has_coach else 'Uncoached'} deal {index + 1}"
            if not pool or Opportunity.objects.filter(account=account, name=name).exists():
                continue
            closed_at = now - datetime.timedelta(days=2 + (index * 5) % 48, hours=index)
            started = closed_at - datetime.timedelta(days=30 + (index * 7) % 40)
            end = won if is_won else lost
            deal = Opportunity.objects.create(
                account=account,
                name=name,
                product_line=lines[index % len(lines)],
                amount=Decimal(8000 + (index * 4100) % 60000),
                stage=end,
                owner=account.owner,
                status="won" if is_won else "lost",
                closed_at=closed_at,
                had_coach_at_close=has_coach,
                stage_entered_at=closed_at,
                created_at=started,
            )
            # Coached deals walk the whole path; uncoached ones stop before the gate (or were let past it).
            steps = path if has_coach or is_won else path[:2]
            moments = [started + (closed_at - started) * step / len(steps) for step in range(len(steps))]
            previous = None
            for stage, moment in zip(steps, moments, strict=True):
                kind = (
                    "override"
                    if (stage.requires_coach and not has_coach and previous and not previous.requires_coach)
                    else "advance"
                )
                StageChange.objects.create(
                    opportunity=deal,
                    from_stage=previous,
                    to_stage=stage,
                    by=deal.owner,
                    owner=deal.owner,
                    kind=kind,
                    at=moment,
                    reason="Board sponsor known." if kind == "override" else "",
                )
                previous = stage
            StageChange.objects.create(
                opportunity=deal,
                from_stage=previous,
                to_stage=end,
                by=deal.owner,
                owner=deal.owner,
                kind="advance",
                at=closed_at,
            )
            created += 1
    stage_facts_refresh(Opportunity.objects.values_list("pk", flat=True))  # written around the services
    return created
