from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Account, Contact
from coaches.models import HEALTH_ORDER, Coach, Holder, Interaction
from team import selectors as team_selectors
from team.models import User


def account_has_active_coach(account: Account) -> bool:
    """The gate's question: does the account have an active coach right now?"""
    return Coach.objects.active().filter(account=account).exists()


def coach_get_for_user(*, user: User, pk: int) -> Coach:
    """The coach if the user holds it (or manages a holder, or is an admin), else 404."""
    return get_object_or_404(Coach.objects.visible_to(user).select_related("account", "contact"), pk=pk)


def holder_get_for_user(*, user: User, pk: int) -> Holder:
    """A holder of a coach the user may see, else 404."""
    return get_object_or_404(
        Holder.objects.select_related("coach", "user").filter(coach__in=Coach.objects.visible_to(user)), pk=pk
    )


def _holders():
    return Prefetch("holders", queryset=Holder.objects.select_related("user"))


def coach_list(*, user: User) -> QuerySet[Coach]:
    """ "My coaches": the coaches the user may see, worst health first, ended ones last."""
    return (
        Coach.objects.visible_to(user)
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
        Coach.objects.visible_to(user)
        .filter(account=account)
        .select_related("contact")
        .with_holder_count()
        .prefetch_related(_holders())
        .order_by("status", "-established_on")
    )


def contact_coach_roles(*, contact: Contact, user: User) -> list[Coach]:
    """Where the contact is or was our coach, as far as the user may see."""
    return list(Coach.objects.visible_to(user).filter(contact=contact).select_related("account").with_holder_count())


def _can_succeed(user: User | None, leaving: User) -> bool:
    return user is not None and user.pk != leaving.pk and user.is_active and user.status == User.Status.ACTIVE


def successor_propose(*, accounts: list[Account], leaving: User) -> dict[int, User | None]:
    """Who takes over from a leaving rep at each account: territory rules, else the owner, else his manager.

    `accounts` should come with `owner` selected. The territory step runs only once the
    territories feature (issue 7, first half) provides `team.selectors.territory_successor_for`.
    """
    territory_successor_for = getattr(team_selectors, "territory_successor_for", None)
    manager = leaving.manager if leaving.manager_id else None
    fallback = manager if _can_succeed(manager, leaving) else None
    successors = {}
    for account in accounts:
        successor = territory_successor_for(account=account, exclude_user=leaving) if territory_successor_for else None
        if not _can_succeed(successor, leaving):
            successor = account.owner if _can_succeed(account.owner, leaving) else fallback
        successors[account.pk] = successor
    return successors
