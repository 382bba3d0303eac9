# The ledger's kept sums (LedgerGroup, LedgerYear): recomputed from the grants by every writer of a grant.
"""The ledger's sums per year and account, recipient or rep, and per year.

Every write that creates a grant or changes what the ledger counts of it (its status; a merge
moves its account or recipient) calls `ledger_sums_refresh` in its own transaction, for the
groups it touched: their rows are recomputed from the grants (not adjusted by a delta, so a row
is never further from the truth than one write), and the touched years' totals from their rows.
`ledger_sums_rebuild` (`manage.py ledger_rebuild`) recomputes everything, after bulk inserts
(seed_scale) or a change of TIME_ZONE (a grant's year is its year in the organisation's zone, as
`year_bounds` has it).

A year's totals row is locked first (SELECT … FOR UPDATE), so that two writers of one year
recompute one after the other, each seeing the other's committed grants.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from service_catalog.models import LEDGER_KINDS, Grant, LedgerGroup, LedgerYear

COUNTED = [Grant.Status.APPROVED, Grant.Status.PENDING]
ZERO = Decimal("0.00")


def _money(field: str, **kwargs):
    return Coalesce(Sum(field, **kwargs), Value(ZERO), output_field=DecimalField(max_digits=14, decimal_places=2))


def _grant_sums() -> dict:
    approved, pending = Q(status=Grant.Status.APPROVED), Q(status=Grant.Status.PENDING)
    return {
        "approved": _money("amount", filter=approved),
        "approved_count": Count("pk", filter=approved),
        "pending": _money("amount", filter=pending),
        "pending_count": Count("pk", filter=pending),
    }


def ledger_groups_live(kind: str) -> QuerySet[dict]:
    """The live computation of `LedgerGroup` rows of a kind: (year, <kind>, sums) from the grants."""
    return (
        Grant.objects.filter(status__in=COUNTED)
        .annotate(year=ExtractYear("created_at"))
        .values("year", kind)
        .annotate(**_grant_sums())
        .order_by()
    )


def _lock_years(years: Iterable[int]) -> None:
    for year in sorted(set(years)):
        LedgerYear.objects.get_or_create(year=year)
    # Every row (not `.exists()`: its LIMIT 1 would lock only the first), in one order for all writers.
    list(LedgerYear.objects.select_for_update().filter(year__in=set(years)).order_by("year").values_list("year"))


def _years_refresh(years: Iterable[int]) -> None:
    for year in sorted(set(years)):
        has = {kind: Q(**{f"{kind}__isnull": False}) for kind in LEDGER_KINDS}
        totals = LedgerGroup.objects.filter(year=year).aggregate(
            approved=_money("approved", filter=has["account"]),
            approved_count=Coalesce(Sum("approved_count", filter=has["account"]), 0),
            pending=_money("pending", filter=has["account"]),
            pending_count=Coalesce(Sum("pending_count", filter=has["account"]), 0),
            accounts=Count("pk", filter=has["account"]),
            recipients=Count("pk", filter=has["recipient"]),
            reps=Count("pk", filter=has["rep"]),
        )
        if totals["accounts"]:
            LedgerYear.objects.filter(year=year).update(**totals)
        else:
            LedgerYear.objects.filter(year=year).delete()


@transaction.atomic
def ledger_sums_refresh(
    *,
    accounts: Iterable[int] = (),
    recipients: Iterable[int] = (),
    reps: Iterable[int] = (),
    years: Iterable[int] | None = None,
) -> None:
    """Recompute these accounts', recipients' and reps' rows (ids) in `years` (None: all), and the years' totals."""
    groups = {"account": set(accounts), "recipient": set(recipients), "rep": set(reps)}
    groups = {kind: ids for kind, ids in groups.items() if ids}
    if not groups:
        return
    if years is not None:
        years = set(years)
    else:
        # Every year the groups have a row or a grant in (a merge's survivor holds the duplicate's grants now).
        years = set()
        for kind, ids in groups.items():
            years |= set(LedgerGroup.objects.filter(**{f"{kind}__in": ids}).values_list("year", flat=True))
            grants = Grant.objects.filter(status__in=COUNTED, **{f"{kind}__in": ids})
            years |= set(grants.annotate(year=ExtractYear("created_at")).values_list("year", flat=True).distinct())
    if not years:
        return
    _lock_years(years)
    for kind, ids in groups.items():
        LedgerGroup.objects.filter(year__in=years, **{f"{kind}__in": ids}).delete()
        rows = ledger_groups_live(kind).filter(**{f"{kind}__in": ids}).filter(year__in=years)
        LedgerGroup.objects.bulk_create(_group(kind, row) for row in rows)
    _years_refresh(years)


def ledger_sums_grant(grant: Grant) -> None:
    """After a grant was created or its status changed: its account's, recipient's and rep's rows, in its year."""
    # Its year in the current time zone, as ExtractYear and `year_bounds` have it.
    year = timezone.localtime(grant.created_at).year
    ledger_sums_refresh(accounts=[grant.account_id], recipients=[grant.recipient_id], reps=[grant.rep_id], years=[year])


def _group(kind: str, row: dict) -> LedgerGroup:
    return LedgerGroup(
        year=row["year"],
        approved=row["approved"],
        approved_count=row["approved_count"],
        pending=row["pending"],
        pending_count=row["pending_count"],
        **{f"{kind}_id": row[kind]},
    )


@transaction.atomic
def ledger_sums_rebuild() -> dict:
    """Recompute every row from the grants; {kind: rows} and the years."""
    years = set(
        Grant.objects.filter(status__in=COUNTED)
        .annotate(year=ExtractYear("created_at"))
        .values_list("year", flat=True)
        .distinct()
    )
    years |= set(LedgerYear.objects.values_list("year", flat=True))
    _lock_years(years)
    LedgerGroup.objects.all().delete()
    counts = {}
    for kind in LEDGER_KINDS:
        created = LedgerGroup.objects.bulk_create(
            (_group(kind, row) for row in ledger_groups_live(kind)), batch_size=5000
        )
        counts[kind] = len(created)
    _years_refresh(years)
    return {**counts, "years": sorted(years)}
