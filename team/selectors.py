from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from accounts.models import Account
from accounts.selectors import history_entries
from coaches.models import Coach, Holder
from team.models import Notification, Territory, User, outer_ref


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
        Account.objects.visible_to(user)
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
