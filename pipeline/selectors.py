# Reads for the deal pages: the board, the lists, held-back deals, the playbook, the home work list.
import datetime
from decimal import Decimal

from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

import access
from accounts.models import Account
from coaches.models import PlaybookCard
from coaches.selectors import current_styles
from pipeline.models import GateSweep, Opportunity, OpportunityContact, Stage, StageChange
from team.models import User

# Closed deals stay on the board this long, so a fresh win or loss is still in sight.
BOARD_CLOSED_DAYS = 30
# Deals shown per board column; the rest are one "show all" link away (the opportunity list).
BOARD_COLUMN_LIMIT = 20
ZERO = Decimal("0.00")


def opportunity_rows() -> QuerySet[Opportunity]:
    """Deals with what a row or a page shows: account, owner, stage, product line and the coach flag."""
    return Opportunity.objects.select_related("account", "owner", "stage", "product_line").with_coach_flag()


def _rows(user: User) -> QuerySet[Opportunity]:
    return access.opportunities(user, opportunity_rows())


def opportunity_list(*, user: User) -> QuerySet[Opportunity]:
    """Deals for the list page: newest first, each with its account, owner, stage and coach flag."""
    return _rows(user).order_by("-created_at", "-pk")


def opportunity_held_back_list(*, user: User) -> QuerySet[Opportunity]:
    """ "Needs a coach": open deals refused at the gate or sent back, longest waiting first."""
    return _rows(user).held_back().order_by("held_back_since", "pk")


def home_summary(*, user: User) -> dict:
    """What the home page counts for the user."""
    return {
        "account_count": access.accounts(user).count(),
        "contact_count": access.contacts(user).count(),
    }


def gate_sweep_last(*, user: User) -> GateSweep | None:
    """The gate sweep's last run, for managers and admins (None for a rep, or before the first run)."""
    return None if user.is_rep else GateSweep.objects.first()


def work_list(*, user: User) -> QuerySet[Opportunity]:
    """The home page's prioritised list: coached deals first, then furthest stage, then largest amount."""
    rows = _rows(user).open()
    if user.is_rep:
        rows = rows.filter(owner=user)
    return rows.order_by(F("has_coach").desc(), F("stage__order").desc(), F("amount").desc(), "pk")


def board_since() -> datetime.datetime:
    """Closed deals stay on the board from local midnight BOARD_CLOSED_DAYS ago.

    A day boundary, not "now minus 30 days", so that the list's `closed_from` date filter (which
    the "show all" link uses) selects exactly the deals the column counts.
    """
    day = timezone.localdate() - datetime.timedelta(days=BOARD_CLOSED_DAYS)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def board_columns(*, user: User, limit: int = BOARD_COLUMN_LIMIT, pinned: int | None = None) -> list[dict]:
    """One column per stage: its first `limit` deals, its count and total; two queries whatever the data size.

    `pinned` is a deal kept in sight at the top of its column (the one just moved, or refused
    with a message on its card) even if it would rank below the limit.
    """
    if limit < 1:
        raise ValueError("A board column shows at least one deal.")
    since = board_since()
    stages = list(Stage.objects.all())
    # One query for every column: number the deals within their stage in the board's order
    # (coached first, then amount) and keep the first `limit` of each. The column's count and
    # total are window aggregates over the whole stage, computed before that cut, so every row
    # returned carries its column's figures: the same numbers as a GROUP BY stage, without
    # computing the user's visibility a second time (the costly part of the query).
    order = [F("has_coach").desc(), F("amount").desc(), F("pk").asc()]
    if pinned is not None:
        order.insert(0, Case(When(pk=pinned, then=Value(0)), default=Value(1)).asc())
    column = [F("stage_id")]
    deals = (
        _rows(user)
        .filter(Q(status=Opportunity.Status.OPEN) | Q(closed_at__gte=since))
        .annotate(
            position=Window(RowNumber(), partition_by=column, order_by=order),
            column_count=Window(Count("pk"), partition_by=column),
            column_total=Window(Sum("amount"), partition_by=column),
        )
        .filter(position__lte=limit)
        .order_by("stage_id", "position")
    )
    by_stage = {stage.pk: [] for stage in stages}
    for deal in deals:
        by_stage[deal.stage_id].append(deal)
    columns = []
    for index, stage in enumerate(stages):
        open_before = [s for s in stages[:index] if not s.is_closed]
        open_after = [s for s in stages[index + 1 :] if not s.is_closed]
        shown = by_stage[stage.pk]
        count = shown[0].column_count if shown else 0
        columns.append(
            {
                "stage": stage,
                "deals": shown,
                "count": count,
                "total": shown[0].column_total if shown else ZERO,
                "more": count > len(shown),
                # The opportunity list's filters that select this column's deals, for "show all".
                "filters": {"stage": stage.pk, "closed_from": since.date().isoformat()}
                if stage.is_closed
                else {"stage": stage.pk, "status": Opportunity.Status.OPEN.value},
                "previous": open_before[-1] if open_before else None,
                "next": open_after[0] if open_after else None,
            }
        )
    return columns


def board_closing_stages(*, stages: list[Stage]) -> dict:
    """The won and lost stages among the board's (already loaded) stages, for the close buttons."""
    return {
        "won": next((stage for stage in stages if stage.is_won), None),
        "lost": next((stage for stage in stages if stage.is_lost), None),
    }


def opportunity_stage_changes(*, opportunity: Opportunity) -> list[StageChange]:
    """Every stage change of the deal, newest first."""
    return list(opportunity.stage_changes.select_related("from_stage", "to_stage", "by"))


def account_opportunities(*, account: Account, user: User) -> list[Opportunity]:
    """The account's deals the user may see, open ones first."""
    return list(
        access.opportunities(user)
        .filter(account=account)
        .select_related("stage", "owner")
        .order_by("status", "-created_at")
    )


def opportunity_contact_roles(*, opportunity: Opportunity, user: User) -> list[OpportunityContact]:
    """The people on the deal with their roles; a "coach" role only for those who may see that coach."""
    rows = opportunity.contact_roles.select_related("contact")
    if not user.is_admin:
        # Coach identity is for the coach's holders and their managers, not for everyone on the deal.
        visible = access.coaches(user).values("contact_id")
        rows = rows.exclude(Q(role=OpportunityContact.Role.COACH) & ~Q(contact_id__in=visible))
    return list(rows.order_by("role", "contact__last_name", "pk"))


def opportunity_playbook(*, opportunity: Opportunity, user: User) -> list[dict]:
    """For each decision maker: his current style, the matching playbook card, and a mismatch with the owner's style.

    Three queries whatever the number of decision makers (people, their styles, the cards).
    """
    makers = [
        role.contact
        for role in opportunity.contact_roles.filter(role=OpportunityContact.Role.DECISION_MAKER).select_related(
            "contact"
        )
    ]
    if not makers:
        return []
    styles = current_styles(contact_ids=[c.pk for c in makers], user=user)
    cards = {card.style: card for card in PlaybookCard.objects.all()}
    seller = opportunity.owner.selling_style
    entries = []
    for contact in makers:
        report = styles.get(contact.pk)
        style = report.style if report else PlaybookCard.UNKNOWN
        entries.append(
            {
                "contact": contact,
                "report": report,
                "card": cards.get(style),
                # The flag is about the owner, who does the selling; no flag while either style is unknown.
                "mismatch": report is not None and seller != User.SellingStyle.UNKNOWN and seller != style,
            }
        )
    return entries
