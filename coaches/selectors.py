# Reads about coaches: lists by health, a person's styles, moves, territory conflicts, retention.
import datetime

from django.db.models import (
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

import access
from accounts import selectors as account_selectors
from accounts.models import Account, Contact, Territory, outer_ref
from coaches.models import (
    HEALTH_ORDER,
    REAL_COACH,
    Coach,
    CoachMove,
    Handover,
    Holder,
    Interaction,
    StanceReport,
    StyleReport,
    qualification_q,
)
from team.models import User

# The window of the "Moved coaches" list and of its contacted share.
MOVE_WINDOW_DAYS = 90
# A healthy programme contacts at least this share of the moved coaches' new prospects.
MOVE_CONTACTED_TARGET = 0.5


def account_meets(account: Account, requirement: str, today: datetime.date | None = None) -> bool:
    """The gate's question: does a coach at the account meet the requirement right now?"""
    return Coach.objects.qualifying(requirement, today).filter(account_id=account.pk).exists()


def account_best_coach(
    account: Account, requirement: str, today: datetime.date | None = None
) -> tuple[Coach | None, list[str]]:
    """The account's active coach closest to the requirement and what he lacks (None: no active coach)."""
    return best_coach(
        Coach.objects.active().filter(account_id=account.pk).select_related("contact"), requirement, today
    )


def best_coach(coaches, requirement: str, today: datetime.date | None = None) -> tuple[Coach | None, list[str]]:
    """Of these coaches (one account's active ones), the closest to the requirement and what he lacks."""
    coaches = list(coaches)
    if not coaches:
        return None, []
    missing = {c.pk: c.missing_for(requirement, today) for c in coaches}
    # Fewest things missing first, then the most recently verified.
    coach = min(coaches, key=lambda c: (len(missing[c.pk]), -c.verified_on.toordinal(), c.pk))
    return coach, missing[coach.pk]


def accounts_active_coaches(account_ids) -> dict[int, list[Coach]]:
    """The active coaches of these accounts (with their person), by account: one query (a sweep's send-back)."""
    by_account: dict[int, list[Coach]] = {}
    for coach in Coach.objects.active().filter(account_id__in=account_ids).select_related("contact").order_by("pk"):
        by_account.setdefault(coach.account_id, []).append(coach)
    return by_account


def account_had_coach_on(account: Account, day: datetime.date, requirement: str = REAL_COACH) -> bool:
    """Did a coach at the account meet the requirement on that day (deals closed before CoachCRM was used)?

    The gate's test (`qualification_q`) on each coach established by then, as his history records
    him at the end of that day; a coach recorded later with an earlier established date is taken
    as first recorded. Two queries, whatever the number of coaches.
    """
    end = timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))
    records = Coach.history.filter(id=OuterRef("pk"))
    on_day = records.filter(history_date__lt=end).order_by("-history_date", "-history_id").values("history_id")[:1]
    first = records.order_by("history_date", "history_id").values("history_id")[:1]
    coaches = Coach.objects.filter(account_id=account.pk, established_on__lte=day)
    states = coaches.annotate(state=Coalesce(Subquery(on_day), Subquery(first))).values("state")
    if Coach.history.filter(history_id__in=states).filter(qualification_q(requirement, day)).exists():
        return True
    # A coach written without history (a bulk load): his current row stands in.
    return coaches.filter(qualification_q(requirement, day)).exclude(Exists(records)).exists()


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


def coach_list_rows(*, coaches: QuerySet[Coach]) -> QuerySet[Coach]:
    """A page of `coach_list` (its slice, not yet read) as rows, in its order: one query.

    Ids first, as the Today page does: ordered by health, the list sorted every coach in the
    user's scope (an admin's 15,000) with its contact and account joined before keeping 25;
    the sort now reads the coaches only, and the page's rows are joined after it.
    """
    return (
        Coach.objects.filter(pk__in=coaches.values("pk"))
        .select_related("account", "contact")
        .with_health()
        .prefetch_related(_holders())
        .order_by(*HEALTH_ORDER, "pk")
    )


def last_kind(*, coach: Coach, user: User) -> str:
    """The kind a new touch starts with: the user's last one with this coach, else his last at all, else a call."""
    kinds = Interaction.objects.filter(user=user).order_by("-created_at", "-pk").values_list("kind", flat=True)
    return kinds.filter(coach=coach).first() or kinds.first() or Interaction.Kind.CALL


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
        .prefetch_related(_holders())
        .order_by("status", "-established_on")
    )


def contact_coach_roles(*, contact: Contact, user: User) -> list[Coach]:
    """Where the contact is or was our coach, as far as the user may see."""
    return list(access.coaches(user).filter(contact=contact).select_related("account"))


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


def coach_reported_styles(*, coach: Coach) -> list[StyleReport]:
    """The style reports a coach gave, newest first: whoever may see the coach may see them (access.style_reports),
    so a successor taking over the coach inherits what he told us."""
    return list(coach.style_reports.select_related("contact").order_by("-reported_on", "-pk"))


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


def current_stances(*, contact_ids, user: User) -> dict[int, StanceReport]:
    """Each person's current stance toward us: his latest report that the user may see (one query)."""
    current = {}
    reports = (
        access.stance_reports(user)
        .filter(contact_id__in=contact_ids)
        .select_related("coach__contact", "recorded_by")
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
    by_territory = account_selectors.territory_successors_for(accounts=accounts, exclude_user=leaving)
    manager = leaving.manager if leaving.manager_id else None
    fallback = manager if _can_succeed(manager, leaving) else None
    successors = {}
    for account in accounts:
        successor = by_territory[account.pk]
        if not _can_succeed(successor, leaving):
            successor = account.owner if _can_succeed(account.owner, leaving) else fallback
        successors[account.pk] = successor
    return successors


Membership = Territory.members.through


def territory_conflicts(*, user: User) -> QuerySet[Account]:
    """Accounts in the user's scope that break the division of labour, each with what is wrong.

    `split`: several covering territories with different members (the first one wins);
    `owner_outside`: covered, but the owner is a member of no covering territory;
    `rival_holders`: a rep outside the winning territory holds an active coach there.
    Everything is a correlated subquery, so the page costs one query however many rows.
    """
    covering = Territory.objects.covering_ref
    win_members = Membership.objects.filter(territory_id=outer_ref("win_id", 2)).values("user_id")
    # A member of some covering territory who is not in the winning one ...
    extra_member = Membership.objects.filter(territory_id__in=covering(depth=2).values("pk")).exclude(
        user_id__in=win_members
    )
    # ... or a covering territory that lacks a member of the winning one.
    lacking_territory = covering(depth=1).filter(
        Exists(
            Membership.objects.filter(territory_id=outer_ref("win_id", 2)).exclude(
                user_id__in=Membership.objects.filter(territory_id=outer_ref("pk", 2)).values("user_id")
            )
        )
    )
    rival_holder = Holder.objects.filter(
        coach__account=OuterRef("pk"), coach__status=Coach.Status.ACTIVE, user__role=User.Role.REP
    ).exclude(user_id__in=Membership.objects.filter(territory_id=outer_ref("win_id", 2)).values("user_id"))
    covering_count = covering(depth=1).order_by().values("active").annotate(n=Count("pk")).values("n")
    return (
        access.accounts(user)
        .annotate(
            win_id=Subquery(covering(depth=1).values("pk")[:1]),
            win_name=Subquery(covering(depth=1).values("name")[:1]),
            covering_count=Coalesce(Subquery(covering_count, output_field=IntegerField()), 0),
        )
        .filter(win_id__isnull=False)
        .annotate(
            split=Exists(extra_member) | Exists(lacking_territory),
            owner_outside=~Exists(covering(depth=1).filter(members=OuterRef("owner_id"))),
            rival_holders=Exists(rival_holder),
        )
        .filter(Q(split=True) | Q(owner_outside=True) | Q(rival_holders=True))
        .select_related("owner", "region", "industry")
        .order_by("name", "pk")
    )


# --- retention of departed reps' coaches (departure page, dashboard) ------------------------

RETENTION_DAYS = 90
RETENTION_BENCHMARK = 0.8


def retention_summary(*, users_qs: QuerySet[User], today: datetime.date | None = None) -> dict:
    """Retention of departed reps' coaches, per departure and overall, computed in the database.

    A departed rep's coaches are those he handed over (not cancelled); one is kept when it is
    still active and its new holder logged an interaction after the handover opened and within
    90 days of the departure. A departure is `final` once those 90 days have passed.
    Returns plain data: {"departures": [...], "overall": {...}, "benchmark": 0.8}.
    """
    today = today or timezone.localdate()
    deadline = ExpressionWrapper(
        F("from_user__departure_date") + datetime.timedelta(days=RETENTION_DAYS), output_field=DateField()
    )
    handovers = (
        Handover.objects.exclude(status=Handover.Status.CANCELLED)
        .filter(from_user__in=users_qs.filter(status=User.Status.DEPARTED).values("pk"))
        .annotate(deadline=deadline)
        .annotate(
            kept=Exists(
                Interaction.objects.filter(
                    coach=OuterRef("coach_id"),
                    user=OuterRef("to_user_id"),
                    created_at__gte=OuterRef("created_at"),
                    occurred_on__lte=OuterRef("deadline"),
                )
            )
        )
    )
    kept = Q(kept=True, coach__status=Coach.Status.ACTIVE)
    rows = list(
        handovers.values("from_user", "from_user__first_name", "from_user__last_name", "from_user__username")
        .annotate(departure_date=F("from_user__departure_date"), total=Count("pk"), kept_count=Count("pk", filter=kept))
        .order_by("-departure_date", "from_user")
    )

    def share(kept_count, total):
        return kept_count / total if total else None

    departures = [
        {
            "user_id": row["from_user"],
            "name": f"{row['from_user__first_name']} {row['from_user__last_name']}".strip()
            or row["from_user__username"],
            "departure_date": row["departure_date"],
            "coaches": row["total"],
            "kept": row["kept_count"],
            "rate": share(row["kept_count"], row["total"]),
            "final": today >= row["departure_date"] + datetime.timedelta(days=RETENTION_DAYS),
        }
        for row in rows
    ]
    total = sum(d["coaches"] for d in departures)
    kept_total = sum(d["kept"] for d in departures)
    return {
        "departures": departures,
        "overall": {"coaches": total, "kept": kept_total, "rate": share(kept_total, total)},
        "benchmark": RETENTION_BENCHMARK,
    }
