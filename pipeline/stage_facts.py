"""The visit facts of stage changes: what the dashboard's funnel asks of a deal's other moves.

For each move, `StageChange.from_stage_entered_at` (when the deal had entered the stage it
leaves: its latest earlier move into it) and, for the stage it enters, `left_forward_at` and
`left_back_at` (its first later move out of that stage forward — a higher open stage or won —
and backward — a lower open stage or lost). "Earlier" and "later" order moves by (`at`, pk),
as the dashboard always did. The dashboard then reads a move in a period as one row: it
entered and advanced by the period's end when `left_forward_at` is before that end; its days
in the stage are `at - from_stage_entered_at` (or since the deal's creation).

`stage_facts_refresh` is the one computation: the services that write moves call it for the
deal in the same transaction, and `manage.py dashboard_facts_rebuild` (nightly, and after a
stage's order or outcome changed) for every deal. Both recompute a deal's facts from all its
moves, so they are exact whatever order the moves were written in (an import's back-dated
ones too). `stage_facts_live` is the slow computation they replace, kept as the oracle.

`StageChange.owner` is the deal's owner now, so that the dashboard reads a team's moves in a
period off the (owner, at) index. A move is written with it (the services), and
`stage_owners_refresh` copies it again after every owner change: `opportunity_update` (the
page, the API, the admin, an import's update), the departures' bulk move of a leaver's deals,
and the nightly rebuild for all deals (after writes that bypassed the services).
"""

from collections.abc import Iterable

from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from pipeline.models import Opportunity, Stage, StageChange

FACTS = ("from_stage_entered_at", "left_forward_at", "left_back_at")
BATCH = 2000


def _deal_facts(moves: list[tuple], stages: dict) -> dict[int, tuple]:
    """The facts of one deal's moves, given as (pk, from_stage_id, to_stage_id, at) in (at, pk) order."""
    facts: dict[int, list] = {}
    entries: dict[int, list[int]] = {}  # stage id -> the pks of the moves into it so far
    last_entry: dict[int, object] = {}  # stage id -> when the deal last entered it
    for pk, from_id, to_id, at in moves:
        facts[pk] = [last_entry.get(from_id) if from_id is not None else None, None, None]
        if from_id is not None:
            left, going = stages[from_id], stages[to_id]
            forward = going.is_won or (not going.is_lost and going.order > left.order)
            backward = going.is_lost or (not going.is_won and going.order < left.order)
            for entry in entries.get(from_id, ()):
                if forward and facts[entry][1] is None:
                    facts[entry][1] = at
                if backward and facts[entry][2] is None:
                    facts[entry][2] = at
        entries.setdefault(to_id, []).append(pk)
        last_entry[to_id] = at
    return {pk: tuple(values) for pk, values in facts.items()}


def stage_facts_refresh(opportunity_ids: Iterable[int] | None = None, *, stage_model=Stage, change_model=None) -> int:
    """Recompute the visit facts of these deals' moves (every deal's when None); returns the moves changed.

    Two queries per batch of deals (their moves, one bulk update of those that changed).
    `stage_model` and `change_model` let the migration pass its historical models.
    """
    change_model = change_model or StageChange
    stages = {stage.pk: stage for stage in stage_model.objects.all()}
    if opportunity_ids is None:
        ids = list(change_model.objects.order_by("opportunity_id").values_list("opportunity_id", flat=True).distinct())
    else:
        ids = sorted(set(opportunity_ids))
    changed = 0
    for index in range(0, len(ids), BATCH):
        rows = (
            change_model.objects.filter(opportunity_id__in=ids[index : index + BATCH])
            .order_by("opportunity_id", "at", "pk")
            .values_list("opportunity_id", "pk", "from_stage_id", "to_stage_id", "at", *FACTS)
        )
        by_deal: dict[int, list[tuple]] = {}
        current: dict[int, tuple] = {}
        for deal, pk, from_id, to_id, at, *stored in rows:
            by_deal.setdefault(deal, []).append((pk, from_id, to_id, at))
            current[pk] = tuple(stored)
        updates = []
        for moves in by_deal.values():
            for pk, values in _deal_facts(moves, stages).items():
                if values != current[pk]:
                    updates.append(change_model(pk=pk, **dict(zip(FACTS, values, strict=True))))
        _save(change_model, updates)
        changed += len(updates)
    return changed


def _save(change_model, updates: list) -> None:
    """Write the facts of these moves: one UPDATE from arrays on PostgreSQL, bulk_update elsewhere."""
    if not updates:
        return
    if connection.vendor != "postgresql":
        change_model.objects.bulk_update(updates, FACTS, batch_size=500)
        return
    # bulk_update's CASE WHEN per row made rebuilding 500,000 moves take many minutes.
    table = connection.ops.quote_name(change_model._meta.db_table)
    columns = [(fact, [getattr(move, fact) for move in updates]) for fact in FACTS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET "  # noqa: S608 (the table and column names are the model's)
            + ", ".join(f"{fact} = v.{fact}" for fact, _ in columns)
            + " FROM unnest(%s::bigint[], "
            + ", ".join("%s::timestamptz[]" for _ in columns)
            + ") AS v(id, "
            + ", ".join(fact for fact, _ in columns)
            + ") WHERE s.id = v.id",
            [[move.pk for move in updates], *(values for _, values in columns)],
        )


def stage_owners_refresh(opportunity_ids: Iterable[int] | None = None) -> int:
    """Give these deals' moves (every deal's when None) their deal's owner where it differs; the moves changed.

    One UPDATE: an owner change of one deal, a departure's chunk of deals, or the whole table.
    """
    moves = (
        StageChange.objects.all()
        if opportunity_ids is None
        else StageChange.objects.filter(opportunity_id__in=sorted(set(opportunity_ids)))
    )
    owner = Opportunity.objects.filter(pk=OuterRef("opportunity_id")).order_by().values("owner_id")[:1]
    return moves.exclude(owner_id=F("opportunity__owner_id")).update(owner_id=Subquery(owner))


def stage_facts_live(moves: QuerySet[StageChange] | None = None) -> QuerySet[StageChange]:
    """The facts computed from the other moves at query time (the oracle; a correlated subquery per move)."""
    moves = StageChange.objects.all() if moves is None else moves
    later = StageChange.objects.filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk")),
        opportunity=OuterRef("opportunity"),
        from_stage=OuterRef("to_stage"),
    ).order_by("at", "pk")
    forward = Q(to_stage__is_won=True) | Q(to_stage__is_lost=False, to_stage__order__gt=OuterRef("to_stage__order"))
    backward = Q(to_stage__is_lost=True) | Q(to_stage__is_won=False, to_stage__order__lt=OuterRef("to_stage__order"))
    entered = StageChange.objects.filter(
        Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk")),
        opportunity=OuterRef("opportunity"),
        to_stage=OuterRef("from_stage"),
    ).order_by("-at", "-pk")
    return moves.annotate(
        live_from_stage_entered_at=Subquery(entered.values("at")[:1]),
        live_left_forward_at=Subquery(later.filter(forward).values("at")[:1]),
        live_left_back_at=Subquery(later.filter(backward).values("at")[:1]),
    )
