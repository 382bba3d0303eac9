import datetime

from django.db.models import (
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

import access
from coaches.models import Coach, Handover, Interaction
from team.models import Notification, User

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
