import datetime

from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Account
from coaches.models import Coach
from pipeline.models import Opportunity, OpportunityContact, Stage, StageChange
from team.models import User

# Closed deals stay on the board this long, so a fresh win or loss is still in sight.
BOARD_CLOSED_DAYS = 30


def opportunity_get_for_user(*, user: User, pk: int) -> Opportunity:
    """The opportunity if the user may see it, else 404."""
    return get_object_or_404(
        Opportunity.objects.visible_to(user)
        .select_related("account", "owner", "stage", "product_line")
        .with_coach_flag(),
        pk=pk,
    )


def _rows(user: User) -> QuerySet[Opportunity]:
    return (
        Opportunity.objects.visible_to(user)
        .select_related("account", "owner", "stage", "product_line")
        .with_coach_flag()
    )


def opportunity_list(*, user: User) -> QuerySet[Opportunity]:
    """Deals for the list page: newest first, each with its account, owner, stage and coach flag."""
    return _rows(user).order_by("-created_at", "-pk")


def opportunity_held_back_list(*, user: User) -> QuerySet[Opportunity]:
    """ "Needs a coach": open deals refused at the gate or sent back, longest waiting first."""
    return _rows(user).held_back().order_by("held_back_since", "pk")


def work_list(*, user: User) -> QuerySet[Opportunity]:
    """The home page's prioritised list: coached deals first, then furthest stage, then largest amount."""
    rows = _rows(user).open()
    if user.is_rep:
        rows = rows.filter(owner=user)
    return rows.order_by(F("has_coach").desc(), F("stage__order").desc(), F("amount").desc(), "pk")


def board_columns(*, user: User) -> list[dict]:
    """One column per stage with its deals (closed ones only if recent): two queries in all."""
    since = timezone.now() - datetime.timedelta(days=BOARD_CLOSED_DAYS)
    stages = list(Stage.objects.all())
    deals = _rows(user).filter(Q(status=Opportunity.Status.OPEN) | Q(closed_at__gte=since))
    by_stage = {stage.pk: [] for stage in stages}
    for deal in deals.order_by(F("has_coach").desc(), F("amount").desc(), "pk"):
        by_stage[deal.stage_id].append(deal)
    columns = []
    for index, stage in enumerate(stages):
        open_before = [s for s in stages[:index] if not s.is_closed]
        open_after = [s for s in stages[index + 1 :] if not s.is_closed]
        columns.append(
            {
                "stage": stage,
                "deals": by_stage[stage.pk],
                "total": sum(d.amount for d in by_stage[stage.pk]),
                "previous": open_before[-1] if open_before else None,
                "next": open_after[0] if open_after else None,
            }
        )
    return columns


def board_closing_stages() -> dict:
    """The won and lost stages, for the board's close buttons."""
    return {
        "won": Stage.objects.filter(is_won=True).order_by("order").first(),
        "lost": Stage.objects.filter(is_lost=True).order_by("order").first(),
    }


def opportunity_stage_changes(*, opportunity: Opportunity) -> list[StageChange]:
    """Every stage change of the deal, newest first."""
    return list(opportunity.stage_changes.select_related("from_stage", "to_stage", "by"))


def account_opportunities(*, account: Account, user: User) -> list[Opportunity]:
    """The account's deals the user may see, open ones first."""
    return list(
        Opportunity.objects.visible_to(user)
        .filter(account=account)
        .select_related("stage", "owner")
        .order_by("status", "-created_at")
    )


def opportunity_contact_roles(*, opportunity: Opportunity, user: User) -> list[OpportunityContact]:
    """The people on the deal with their roles; a "coach" role only for those who may see that coach."""
    rows = opportunity.contact_roles.select_related("contact")
    if not user.is_admin:
        # Coach identity is for the coach's holders and their managers, not for everyone on the deal.
        visible = Coach.objects.visible_to(user).values("contact_id")
        rows = rows.exclude(Q(role=OpportunityContact.Role.COACH) & ~Q(contact_id__in=visible))
    return list(rows.order_by("role", "contact__last_name", "pk"))


def opportunity_contact_get_for_user(*, user: User, pk: int) -> OpportunityContact:
    """A person's role on a deal the user may see, else 404."""
    return get_object_or_404(
        OpportunityContact.objects.select_related("opportunity", "contact").filter(
            opportunity__in=Opportunity.objects.visible_to(user)
        ),
        pk=pk,
    )
