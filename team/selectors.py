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
from django.shortcuts import get_object_or_404
from django.utils import timezone

import access
from accounts.models import Account
from accounts.selectors import history_entries
from coaches.models import Coach, Handover, Holder, Interaction
from team.models import Notification, Territory, User, outer_ref

RETENTION_DAYS = 90
RETENTION_BENCHMARK = 0.8


def home_summary(*, user: User) -> dict:
    """What the home page counts for the user."""
    return {
        "account_count": access.accounts(user).count(),
        "contact_count": access.contacts(user).count(),
    }


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's notices, newest first."""
    return Notification.objects.filter(user=user)


# --- territories ----------------------------------------------------------------------------

Membership = Territory.members.through


def _members():
    return Prefetch("members", queryset=User.objects.order_by("first_name", "last_name", "username"))


def territory_list() -> QuerySet[Territory]:
    """Every territory in precedence order, with its rule's lookups and its members."""
    return (
        Territory.objects.in_precedence()
        .select_related("region", "product_line", "industry")
        .prefetch_related(_members())
    )


def territory_history(*, territory: Territory) -> list[dict]:
    """The territory's change history, members shown by name rather than as raw link rows."""
    entries = history_entries(records=territory.history.all())
    member_changes = [
        c for e in entries for c in e["changes"] if c["field"] == Territory._meta.get_field("members").verbose_name
    ]
    ids = {row["user"] for c in member_changes for side in ("old", "new") for row in (c[side] or [])}
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}
    for change in member_changes:
        for side in ("old", "new"):
            change[side] = ", ".join(sorted(names.get(row["user"], "?") for row in change[side] or []))
    return entries


def territory_coverage_count(*, region=None, product_line=None, size_tier: str = "", industry=None) -> int:
    """How many accounts a rule covers (empty conditions mean "any"), in one COUNT query."""
    accounts = Account.objects.all()
    if region is not None:
        accounts = accounts.filter(region=region)
    if industry is not None:
        accounts = accounts.filter(industry=industry)
    if size_tier:
        accounts = accounts.filter(size_tier=size_tier)
    if product_line is not None:
        # An account holds a product line once, so this join cannot count an account twice.
        accounts = accounts.filter(product_lines=product_line)
    return accounts.count()


def territories_covering(*, account: Account) -> QuerySet[Territory]:
    """The active territories whose rule matches the account, the winning one first."""
    return Territory.objects.covering(account).prefetch_related(_members())


def territory_successor_for(*, account: Account, exclude_user: User) -> User | None:
    """Who should take over an account from `exclude_user` by the territory rules (None: no rule says).

    The first covering territory with another available member gives the member after
    `exclude_user` (by id, wrapping). A read: the round-robin cursor does not move.
    """
    for territory in Territory.objects.covering(account):
        successor = territory.next_member(after_id=exclude_user.pk, exclude=exclude_user)
        if successor is not None:
            return successor
    return None


def territory_successors_for(*, accounts, exclude_user: User) -> dict[int, User | None]:
    """`territory_successor_for` for many accounts at once (departures): two queries however many."""
    territories = list(
        Territory.objects.active()
        .in_precedence()
        .prefetch_related(
            Prefetch("members", queryset=User.objects.available().order_by("pk"), to_attr="available_members")
        )
    )
    lines: dict[int, set[int]] = {}
    through = Account.product_lines.through.objects.filter(account_id__in=[a.pk for a in accounts])
    for account_id, line_id in through.values_list("account_id", "productline_id"):
        lines.setdefault(account_id, set()).add(line_id)
    successors = {}
    for account in accounts:
        successors[account.pk] = None
        for territory in territories:
            if not territory.matches(
                region_id=account.region_id,
                industry_id=account.industry_id,
                size_tier=account.size_tier,
                product_line_ids=lines.get(account.pk, set()),
            ):
                continue
            successor = territory.next_member(
                after_id=exclude_user.pk, exclude=exclude_user, members=territory.available_members
            )
            if successor is not None:
                successors[account.pk] = successor
                break
    return successors


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


def rep_get_for_user(*, user: User, pk: int) -> User:
    """A rep the user manages (any user for an admin), else 404."""
    if user.is_admin:
        users = User.objects.all()
    elif user.is_manager:
        users = User.objects.filter(manager=user)
    else:
        users = User.objects.none()
    return get_object_or_404(users.select_related("manager"), pk=pk)


def _count(queryset, field: str) -> Coalesce:
    subquery = queryset.order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(subquery, output_field=IntegerField()), 0)


def team_list(*, user: User) -> QuerySet[User]:
    """The reps a manager manages (all users with a manager, for an admin), with their coach and handover counts."""
    users = User.objects.filter(manager__isnull=False) if user.is_admin else User.objects.filter(manager=user)
    return users.select_related("manager").annotate(
        coach_count=_count(Coach.objects.active().filter(holders__user=OuterRef("pk")), "holders__user"),
        at_risk_count=_count(Coach.objects.at_risk().filter(holders__user=OuterRef("pk")), "holders__user"),
        open_handovers=_count(Handover.objects.open().filter(from_user=OuterRef("pk")), "from_user"),
    )


def _handovers() -> QuerySet[Handover]:
    return Handover.objects.select_related("coach__account", "coach__contact", "from_user", "to_user").annotate(
        successor_holds=Exists(Coach.objects.filter(pk=OuterRef("coach_id"), holders__user=OuterRef("to_user_id"))),
        successor_touched=Exists(
            Interaction.objects.filter(
                coach=OuterRef("coach_id"), user=OuterRef("to_user_id"), created_at__gte=OuterRef("created_at")
            )
        ),
    )


def departure_handovers(*, rep: User) -> QuerySet[Handover]:
    """The leaving rep's handovers for his departure page: open first, then by due date."""
    return _handovers().filter(from_user=rep).order_by(F("done_at").desc(nulls_first=True), "status", "due_on", "pk")


def departure_progress(*, rep: User) -> dict:
    """How far the rep's handovers are: counts by status, and overdue ones."""
    return Handover.objects.filter(from_user=rep).aggregate(
        total=Count("pk", filter=~Q(status=Handover.Status.CANCELLED)),
        done=Count("pk", filter=Q(status=Handover.Status.DONE)),
        open=Count("pk", filter=Q(status=Handover.Status.OPEN)),
        overdue=Count("pk", filter=Q(status=Handover.Status.OPEN, due_on__lt=timezone.localdate())),
    )


def handover_list(*, user: User) -> QuerySet[Handover]:
    """ "My handovers": what the user takes over, open first and soonest due."""
    return _handovers().filter(to_user=user).order_by("status", "due_on", "pk")


def handover_get_for_user(*, user: User, pk: int) -> Handover:
    """A handover the user may see (his own, his reps', any for an admin), else 404."""
    return get_object_or_404(access.handovers(user).select_related("from_user", "coach"), pk=pk)


def successor_candidates(*, user: User) -> QuerySet[User]:
    """Whom the user may hand coaches to: active, staying users of his team (everybody's, for an admin)."""
    users = User.objects.active().filter(status=User.Status.ACTIVE).exclude(role=User.Role.ADMIN)
    if not user.is_admin:
        users = users.team_of(user)
    return users


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
