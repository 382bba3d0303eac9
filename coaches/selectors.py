import datetime

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

import access
from accounts.models import Account, Contact
from coaches.models import HEALTH_ORDER, Coach, CoachMove, Holder, Interaction, StyleReport
from team import selectors as team_selectors
from team.models import User

# The window of the "Moved coaches" list and of its contacted share.
MOVE_WINDOW_DAYS = 90
# A healthy programme contacts at least this share of the moved coaches' new prospects.
MOVE_CONTACTED_TARGET = 0.5


def account_has_active_coach(account: Account) -> bool:
    """Does the account have an active coach right now (whatever his qualification)?"""
    return Coach.objects.active().filter(account=account).exists()


def account_meets(account: Account, requirement: str, today: datetime.date | None = None) -> bool:
    """The gate's question: does a coach at the account meet the requirement right now?"""
    return Coach.objects.qualifying(requirement, today).filter(account_id=account.pk).exists()


def account_best_coach(
    account: Account, requirement: str, today: datetime.date | None = None
) -> tuple[Coach | None, list[str]]:
    """The account's active coach closest to the requirement and what he lacks (None: no active coach)."""
    coaches = list(Coach.objects.active().filter(account_id=account.pk).select_related("contact"))
    if not coaches:
        return None, []
    missing = {c.pk: c.missing_for(requirement, today) for c in coaches}
    # Fewest things missing first, then the most recently verified.
    coach = min(coaches, key=lambda c: (len(missing[c.pk]), -c.verified_on.toordinal(), c.pk))
    return coach, missing[coach.pk]


def coaches_verification_due(*, user: User, today: datetime.date | None = None) -> list[Coach]:
    """The user's coaches (he holds them) whose verification expires within COACH_VERIFY_WARN_DAYS, soonest first."""
    return list(
        Coach.objects.verification_due(today)
        .filter(holders__user=user)
        .select_related("contact", "account")
        .order_by("verified_since", "pk")
    )


def _holders():
    return Prefetch("holders", queryset=Holder.objects.select_related("user"))


def coach_list(*, user: User) -> QuerySet[Coach]:
    """ "My coaches": the coaches the user may see, worst health first, ended ones last."""
    return (
        access.coaches(user)
        .select_related("account", "contact")
        .with_health()
        .prefetch_related(_holders())
        .order_by(*HEALTH_ORDER, "pk")
    )


def coach_interactions(*, coach: Coach) -> list[Interaction]:
    """The coach's timeline, newest first."""
    return list(coach.interactions.select_related("user"))


def coach_favour_balance(*, coach: Coach) -> dict:
    """Favours given and received: the "one favour for another" the method is built on."""
    counts = coach.interactions.aggregate(
        given=Count("pk", filter=Q(kind=Interaction.Kind.FAVOUR_GIVEN)),
        received=Count("pk", filter=Q(kind=Interaction.Kind.FAVOUR_RECEIVED)),
    )
    return {**counts, "balance": counts["given"] - counts["received"]}


def account_coaches(*, account: Account, user: User) -> list[Coach]:
    """The account's coaches that the user may see (coach identity is for holders and their managers)."""
    return list(
        access.coaches(user)
        .filter(account=account)
        .select_related("contact")
        .with_holder_count()
        .prefetch_related(_holders())
        .order_by("status", "-established_on")
    )


def contact_coach_roles(*, contact: Contact, user: User) -> list[Coach]:
    """Where the contact is or was our coach, as far as the user may see."""
    return list(access.coaches(user).filter(contact=contact).select_related("account").with_holder_count())


def contact_style_reports(*, contact: Contact, user: User) -> list[StyleReport]:
    """The style reports about a person the user may see (coach-sourced), newest first; the current one marked."""
    reports = list(
        access.style_reports(user)
        .filter(contact=contact)
        .select_related("coach__contact", "recorded_by")
        .order_by("-reported_on", "-pk")
    )
    current = next((r for r in reports if r.confidence == StyleReport.Confidence.HIGH), None)
    for report in reports:
        report.is_current = report is current
    return reports


def current_styles(*, contact_ids, user: User) -> dict[int, StyleReport]:
    """Each person's current style: his latest high-confidence report that the user may see."""
    current = {}
    reports = (
        access.style_reports(user)
        .high_confidence()
        .filter(contact_id__in=contact_ids)
        .select_related("coach__contact")
        .order_by("contact_id", "-reported_on", "-pk")
    )
    for report in reports:
        current.setdefault(report.contact_id, report)
    return current


def coach_moves(*, user: User, today: datetime.date | None = None) -> QuerySet[CoachMove]:
    """Moves in the last MOVE_WINDOW_DAYS the user may see; `contacted`: an interaction with the new record."""
    since = (today or timezone.localdate()) - datetime.timedelta(days=MOVE_WINDOW_DAYS)
    return access.coach_moves(user).filter(start_date__gte=since).annotate(contacted=_contacted())


def _contacted() -> Exists:
    return Exists(Interaction.objects.filter(coach_id=OuterRef("new_coach_id")))


def coach_move_list(*, user: User, today: datetime.date | None = None) -> QuerySet[CoachMove]:
    """ "Moved coaches": past buyers first, then the newest moves, each with its prospect's stage and owner."""
    return (
        coach_moves(user=user, today=today)
        .select_related("contact", "from_account", "to_account", "opportunity__stage", "opportunity__owner")
        .order_by(F("contact__past_buyer").desc(), "-start_date", "-pk")
    )


def coach_move_summary(*, user: User, today: datetime.date | None = None) -> dict:
    """How many of the window's moves were contacted, and whether that meets the target share."""
    # The filter repeats the EXISTS instead of naming the annotation: Django wraps this aggregate
    # in a subquery that drops the annotation, and SQLite then reads "contacted" as a string.
    counts = coach_moves(user=user, today=today).aggregate(
        total=Count("pk"), contacted=Count("pk", filter=_contacted())
    )
    share = counts["contacted"] / counts["total"] if counts["total"] else None
    return {**counts, "share": share, "healthy": share is not None and share >= MOVE_CONTACTED_TARGET}


def _can_succeed(user: User | None, leaving: User) -> bool:
    return user is not None and user.pk != leaving.pk and user.is_active and user.status == User.Status.ACTIVE


def successor_propose(*, accounts: list[Account], leaving: User) -> dict[int, User | None]:
    """Who takes over from a leaving rep at each account: territory rules, else the owner, else his manager.

    `accounts` should come with `owner` selected.
    """
    by_territory = team_selectors.territory_successors_for(accounts=accounts, exclude_user=leaving)
    manager = leaving.manager if leaving.manager_id else None
    fallback = manager if _can_succeed(manager, leaving) else None
    successors = {}
    for account in accounts:
        successor = by_territory[account.pk]
        if not _can_succeed(successor, leaving):
            successor = account.owner if _can_succeed(account.owner, leaving) else fallback
        successors[account.pk] = successor
    return successors
