"""The demo pipeline: about 60 deals across all stages, some held back, some won or lost."""

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import Account, ProductLine
from coaches.models import Coach
from pipeline.models import Opportunity, Stage, StageChange

PROJECTS = ["rollout", "expansion"]
GATE_REASON = "Coach confirmed needs an active coach at the account, and there is none."


def seed(*, users: dict, today: datetime.date) -> int:
    """Create the demo deals (one per account, product line and project); existing ones are left as they are."""
    stages = list(Stage.objects.order_by("order"))
    open_ungated = [s for s in stages if not s.is_closed and not s.requires_coach]
    gated = [s for s in stages if s.requires_coach]
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
            held_back_reason=GATE_REASON if held_back else "",
            held_back_since=now - datetime.timedelta(days=index % 9) if held_back else None,
            closed_at=now - datetime.timedelta(days=index % 25) if closed else None,
            had_coach_at_close=has_coach if closed else None,
            stage_entered_at=now - age / 2,
            created_at=now - age,
        )
        StageChange.objects.create(
            opportunity=deal, from_stage=None, to_stage=stages[0], by=deal.owner, kind="advance", at=now - age
        )
        if stage != stages[0]:
            StageChange.objects.create(
                opportunity=deal,
                from_stage=stages[0],
                to_stage=stage,
                by=deal.owner,
                kind="override" if (closed and stage.is_won and not has_coach) else "advance",
                reason="Sponsor known at board level." if (stage.is_won and not has_coach) else "",
                at=now - age / 2,
            )
        created += 1
    return created
