"""Reads for the departure pages: the manager's team, a departure's handovers, "my handovers"."""

import datetime

from django.conf import settings
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Account
from coaches.models import Coach, Handover, Holder, Interaction
from pipeline.models import Opportunity
from team.models import User


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


DEPARTURE_ORDER = (F("done_at").desc(nulls_first=True), "status", "due_on", "pk")


def departure_handovers(*, rep: User) -> QuerySet[Handover]:
    """The leaving rep's handovers for his departure page: open first, then by due date (`handover_rows` for a page)."""
    return Handover.objects.filter(from_user=rep).order_by(*DEPARTURE_ORDER)


def handover_rows(*, handovers: QuerySet[Handover]) -> QuerySet[Handover]:
    """A page of `departure_handovers` (its slice, not yet read) as rows, in its order: one query.

    Ids first, as the coach list does: the leaver's handovers (510 for the benchmark's leaver)
    were each joined to their coach, account, person and users, and tested for the successor's
    holding and touch, before 25 were kept; the sort now reads the handovers only.
    """
    return _handovers().filter(pk__in=handovers.values("pk")).order_by(*DEPARTURE_ORDER)


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


def successor_candidates(*, user: User) -> QuerySet[User]:
    """Whom the user may hand coaches to: active, staying users of his team (everybody's, for an admin)."""
    users = User.objects.active().filter(status=User.Status.ACTIVE).exclude(role=User.Role.ADMIN)
    if not user.is_admin:
        users = users.team_of(user)
    return users


def departure_at_risk_coaches(*, user: User) -> QuerySet[Coach]:
    """The active coaches the rep holds that nobody else keeps warm and that have no handover from him yet.

    At risk: he is the only holder, or no other active, staying holder logged an interaction in
    COACH_STALE_DAYS. The departure flags exactly these; its preview counts them.
    """
    cutoff = timezone.localdate() - datetime.timedelta(days=settings.COACH_STALE_DAYS)
    kept_warm = Interaction.objects.filter(
        coach=OuterRef("pk"),
        occurred_on__gte=cutoff,
        user__in=Holder.objects.filter(coach=OuterRef("coach")).values("user"),
        user__is_active=True,
        user__status=User.Status.ACTIVE,
    ).exclude(user=user)
    return (
        Coach.objects.active()
        .filter(holders__user=user)
        .exclude(Exists(kept_warm))
        .exclude(
            Exists(
                Handover.objects.filter(coach=OuterRef("pk"), from_user=user).exclude(status=Handover.Status.CANCELLED)
            )
        )
    )


def departure_preview(*, rep: User) -> dict:
    """What starting the rep's departure will do: coaches flagged and handed over, and what moves on the date."""
    return {
        "coaches_held": Coach.objects.active().filter(holders__user=rep).count(),
        "coaches_at_risk": departure_at_risk_coaches(user=rep).count(),
        "accounts": Account.objects.filter(owner=rep).count(),
        "open_deals": Opportunity.objects.open().filter(owner=rep).count(),
    }
