# Reads for the catalog, the ledger, the allowance and the approvals.
import datetime
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.utils import timezone

import access
from accounts.models import Account, Contact
from coachcrm.pagination import PAGE_SIZE
from service_catalog.models import (
    NEARING_CAP_SHARE,
    Authority,
    Grant,
    LedgerGroup,
    LedgerYear,
    ServiceItem,
    limits_exceeded,
    month_bounds,
)
from team.models import User

ZERO = Decimal("0.00")


def _money_sum(field: str = "amount", **kwargs):
    return Coalesce(Sum(field, **kwargs), Value(ZERO), output_field=DecimalField(max_digits=14, decimal_places=2))


def authority_for(*, user: User) -> Authority | None:
    """The user's limits: his own row if an admin set one, else his role's (None: no row, nothing pre-approved)."""
    rows = Authority.objects.filter(Q(user=user) | Q(user__isnull=True, role=user.role))
    return rows.order_by(F("user").asc(nulls_last=True)).first()


def authority_usage(
    *, user: User, on: datetime.date, account: Account | None = None, recipient: Contact | None = None
) -> dict[str, Decimal]:
    """What already counts against each limit (approved grants only), in one query."""
    month_start, month_end = month_bounds(on)
    sums = {
        "per_month": _money_sum(filter=Q(authorised_by=user, created_at__gte=month_start, created_at__lt=month_end))
    }
    if account is not None:
        sums["per_account_year"] = _money_sum(filter=Q(account=account))
    if recipient is not None:
        sums["per_recipient_year"] = _money_sum(filter=Q(recipient=recipient))
    return Grant.objects.approved().in_year(on.year).aggregate(**sums)


def authority_excess(
    *, user: User, amount: Decimal, account: Account, recipient: Contact, on: datetime.date
) -> list[dict]:
    """Every limit of the user's authority that `amount` would exceed, with by how much (empty: it fits).

    Facts only (names and amounts, no wording): `limits_exceeded` labels them for the reader.
    """
    authority = authority_for(user=user)
    limits = authority.limits() if authority else dict.fromkeys(Authority.LIMIT_FIELDS, ZERO)
    usage = authority_usage(user=user, on=on, account=account, recipient=recipient)
    excess = []
    for name, limit in limits.items():
        if limit is None:
            continue
        total = amount + usage.get(name, ZERO)
        if total > limit:
            excess.append(
                {
                    "authority": str(user),
                    "limit": name,
                    "limit_value": str(limit),
                    "total": str(total),
                    "over": str(total - limit),
                }
            )
    return excess


def authority_remaining(*, user: User, on: datetime.date | None = None) -> dict:
    """The user's limits and what is left of his monthly one, for the "what I may give" page."""
    on = on or timezone.localdate()
    authority = authority_for(user=user)
    limits = authority.limits() if authority else dict.fromkeys(Authority.LIMIT_FIELDS, ZERO)
    used = authority_usage(user=user, on=on)["per_month"]
    month_limit = limits["per_month"]
    return {
        "limits": limits,
        "month_used": used,
        "month_remaining": None if month_limit is None else max(month_limit - used, ZERO),
        "month": on,
    }


def service_item_list(*, active_only: bool = False) -> QuerySet[ServiceItem]:
    """Catalog items with how often each was granted (an item ever granted cannot be deleted)."""
    items = ServiceItem.objects.active() if active_only else ServiceItem.objects.all()
    return items.annotate(grant_count=Count("grants")).order_by("category", "name", "pk")


def grant_rows() -> QuerySet[Grant]:
    """Grants with everything the grant page shows."""
    return Grant.objects.select_related(
        "item", "account", "recipient", "opportunity", "rep", "approver", "decided_by", "authorised_by"
    )


def grant_list(*, user: User) -> QuerySet[Grant]:
    """Ledger rows the user may see, newest first."""
    return (
        # Evaluated once: the page's totals (which count its rows) and the page both scope by it.
        access.grants(user, once=True)
        .select_related("item", "account", "recipient", "rep", "decided_by")
        .order_by("-created_at", "-pk")
    )


def grant_totals(*, grants: QuerySet[Grant], **more) -> dict:
    """Approved and pending totals of a (filtered) ledger, and any `more` aggregates, in one query."""
    return grants.order_by().aggregate(
        approved=_money_sum(filter=Q(status=Grant.Status.APPROVED)),
        approved_count=Count("pk", filter=Q(status=Grant.Status.APPROVED)),
        pending=_money_sum(filter=Q(status=Grant.Status.PENDING)),
        pending_count=Count("pk", filter=Q(status=Grant.Status.PENDING)),
        **more,
    )


def approval_list(*, user: User) -> QuerySet[Grant]:
    """Pending grants the user may decide, oldest first."""
    return (
        Grant.objects.awaiting(user).select_related("item", "account", "recipient", "rep").order_by("created_at", "pk")
    )


def _full_name(prefix: str):
    return Trim(Concat(F(f"{prefix}__first_name"), Value(" "), F(f"{prefix}__last_name")))


LEDGER_GROUPS = {
    # group: (grant field, the row's name as an expression grouped along with it)
    "account": ("account", F("account__name")),
    "recipient": ("recipient", _full_name("recipient")),
    # A rep without a name on file shows his user name.
    "rep": ("rep", Coalesce(NullIf(_full_name("rep"), Value("")), F("rep__username"))),
}


def recipient_cap() -> Decimal | None:
    """The yearly cap per person that reps work under; recipients near it are flagged."""
    row = Authority.objects.filter(user__isnull=True, role=User.Role.REP).first()
    return row.per_recipient_year if row else None


def ledger_grants(*, user: User, year: int) -> QuerySet[Grant]:
    """What a ledger adds up: the year's approved and pending grants the user may see.

    Their scope as arrays (`access.grants(arrays=True)`): read through the grants' account and rep
    indexes instead of testing all of them against two hashed sets (a rep's page 31-36 -> 17-23 ms).
    """
    grants = access.grants(user, arrays=True).in_year(year)
    return grants.filter(status__in=[Grant.Status.APPROVED, Grant.Status.PENDING]).order_by()


def ledger_summary(*, user: User, group: str, year: int) -> QuerySet[dict]:
    """Approved and pending totals for the year per account, recipient or rep, largest first.

    A queryset of rows (group_id, name, approved, pending, count, nearing_cap), grouped and
    flagged in the database, so that a page of it is one LIMIT query (`ledger_totals` counts them).
    For a user who sees every grant they are the kept `LedgerGroup` rows (service_catalog.ledger_sums),
    read off their index in this order; for anyone else the year's visible grants, grouped here.
    """
    field, name = LEDGER_GROUPS[group]
    cap = recipient_cap() if group == "recipient" else None
    nearing = (
        Case(When(approved__gte=cap * NEARING_CAP_SHARE, then=Value(True)), default=Value(False))
        if cap is not None
        else Value(False)
    )
    if access.sees_all_grants(user):
        rows = (
            LedgerGroup.objects.filter(year=year, **{f"{field}__isnull": False})
            .values("approved", "pending", group_id=F(field), name=name)
            .annotate(count=F("approved_count") + F("pending_count"))
        )
    else:
        rows = (
            ledger_grants(user=user, year=year)
            .values(group_id=F(field), name=name)
            .annotate(
                approved=_money_sum(filter=Q(status=Grant.Status.APPROVED)),
                pending=_money_sum(filter=Q(status=Grant.Status.PENDING)),
                count=Count("pk"),
            )
        )
    return (
        rows.annotate(nearing_cap=ExpressionWrapper(nearing, output_field=BooleanField()))
        # The group's id last: a total order, so that no row falls between two pages.
        .order_by("-approved", "name", "group_id")
    )


class _OverAllGroups(Func):
    """`FUNCTION(<a group's aggregate>) OVER ()`: over every group of a grouped query, before its LIMIT."""

    template = "%(function)s(%(expressions)s) OVER ()"


# The whole ledger's totals as each row of a page brings them (`ledger_page`): name, window aggregate.
_PAGE_TOTALS = {
    "all_approved": (
        "SUM",
        _money_sum(filter=Q(status=Grant.Status.APPROVED)),
        DecimalField(max_digits=14, decimal_places=2),
    ),
    "all_approved_count": ("SUM", Count("pk", filter=Q(status=Grant.Status.APPROVED)), IntegerField()),
    "all_pending": (
        "SUM",
        _money_sum(filter=Q(status=Grant.Status.PENDING)),
        DecimalField(max_digits=14, decimal_places=2),
    ),
    "all_pending_count": ("SUM", Count("pk", filter=Q(status=Grant.Status.PENDING)), IntegerField()),
    # Every group counts one (its COUNT is at least 1).
    "all_groups": ("COUNT", Count("pk"), IntegerField()),
}


def ledger_page(
    *, user: User, group: str, year: int, summary: QuerySet[dict], offset: int, limit: int = PAGE_SIZE
) -> tuple[list[dict], dict | None]:
    """Rows `offset` to `offset + limit` of `summary` (`ledger_summary`'s) and the whole ledger's `ledger_totals`.

    For a user who sees every grant: the kept totals, then the page of kept rows. For anyone else
    in one query: each row brings the totals of all groups along (window aggregates, computed
    before the LIMIT), so that the year's visible grants and the visible set are read once, not
    once for the totals and again for the page. The totals are None when that page is empty (an
    empty ledger, or past its last page): `ledger_totals` then.
    """
    if access.sees_all_grants(user):
        return list(summary[offset : offset + limit]), ledger_totals(user=user, group=group, year=year)
    windows = {
        name: _OverAllGroups(aggregate, function=function, output_field=output)
        for name, (function, aggregate, output) in _PAGE_TOTALS.items()
    }
    rows = list(summary.annotate(**windows)[offset : offset + limit])
    if not rows:
        return rows, None
    totals = {name.removeprefix("all_"): rows[0][name] for name in _PAGE_TOTALS}
    for row in rows:
        for name in _PAGE_TOTALS:
            del row[name]
    return rows, totals


# The kept totals' number of groups of each kind (LedgerYear).
LEDGER_YEAR_GROUPS = {"account": "accounts", "recipient": "recipients", "rep": "reps"}


def ledger_totals(*, user: User, group: str, year: int) -> dict:
    """The whole ledger's approved and pending totals and number of groups (not just the page), in one query."""
    field, _name = LEDGER_GROUPS[group]
    if access.sees_all_grants(user):
        # The year's kept totals (no row: no grant counted that year).
        kept = LedgerYear.objects.filter(year=year).values().first() or {}
        return {
            "approved": kept.get("approved", ZERO),
            "approved_count": kept.get("approved_count", 0),
            "pending": kept.get("pending", ZERO),
            "pending_count": kept.get("pending_count", 0),
            "groups": kept.get(LEDGER_YEAR_GROUPS[group], 0),
        }
    # The groups are counted here, with the totals, so that paging them needs no COUNT of its own:
    # each query is one more pass over the grants the user may see, the costly part of them all.
    return grant_totals(grants=ledger_grants(user=user, year=year), groups=Count(field, distinct=True))


def grant_approver(*, by: User) -> User | None:
    """Who decides a grant over the user's authority: his manager while he can log in, else (None) the admins."""
    return by.manager if by.manager_id and by.manager.can_log_in else None


def grant_preview(*, by: User, item: ServiceItem, quantity: int, account, recipient) -> dict:
    """Before a grant is asked: its amount, the limits of the user's authority it would exceed, and who would decide."""
    amount = item.unit_cost * quantity
    excess = authority_excess(user=by, amount=amount, account=account, recipient=recipient, on=timezone.localdate())
    return {
        "amount": amount,
        "exceeded": limits_exceeded(excess),
        "approver": grant_approver(by=by) if excess else None,
        "needs_admin": bool(excess) and grant_approver(by=by) is None,
    }
