"""Territories: the rules that route new accounts to their members, and the coverage they give."""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists
from django.utils.translation import gettext as _

from accounts import signals
from accounts.models import Account, Territory, TerritoryCoverage
from coachcrm.inputs import single_line_check
from coachcrm.notes import note_facts
from team.models import User


def _require_admin(by: User) -> None:
    if not by.is_admin:
        raise ValidationError(_("Only an admin can edit territories."))


def _territory_fields(*, name: str, members, territory: Territory | None = None) -> dict:
    single_line_check(name=name)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    if Territory.objects.exclude(pk=territory.pk if territory else None).filter(name__iexact=name).exists():
        raise ValidationError({"name": _("There is already a territory called %(name)s.") % {"name": name}})
    members = list(members)
    # Only new members are checked: a member who has since left stays until removed, and
    # routing skips him, so renaming the territory does not fail over him.
    current = set(territory.members.values_list("pk", flat=True)) if territory else set()
    unavailable = [str(m) for m in members if m.pk not in current and not (m.is_rep and m.can_log_in)]
    if unavailable:
        raise ValidationError(
            {"members": _("Only active sales reps can be members: %(names)s.") % {"names": ", ".join(unavailable)}}
        )
    return {"name": name, "members": members}


@transaction.atomic
def territory_create(
    *,
    by: User,
    name: str,
    members=(),
    region=None,
    product_line=None,
    size_tier: str = "",
    industry=None,
) -> Territory:
    """Add a territory at the end of the precedence order."""
    _require_admin(by)
    fields = _territory_fields(name=name, members=members)
    # Lock the last territory so that two admins adding at once do not pick the same order.
    last = Territory.objects.select_for_update().order_by("-order").first()
    territory = Territory.objects.create(
        name=fields["name"],
        order=(last.order + 1) if last else 1,
        region=region,
        product_line=product_line,
        size_tier=size_tier,
        industry=industry,
    )
    territory.members.set(fields["members"])
    coverage_refresh(territories=[territory.pk])
    return territory


@transaction.atomic
def territory_update(*, territory: Territory, by: User, **fields) -> Territory:
    """Change a territory's name, members or rule; accounts already routed keep their owners."""
    _require_admin(by)
    territory = Territory.objects.select_for_update().get(pk=territory.pk)
    checked = _territory_fields(
        name=fields.pop("name", territory.name),
        members=fields.pop("members", territory.members.all()),
        territory=territory,
    )
    territory.name = checked["name"]
    for field in ("region", "product_line", "size_tier", "industry", "active"):
        if field in fields:
            setattr(territory, field, fields.pop(field))
    if fields:
        raise ValidationError(_("Unknown territory fields: %(names)s.") % {"names": ", ".join(sorted(fields))})
    territory.save()
    territory.members.set(checked["members"])
    coverage_refresh(territories=[territory.pk])
    return territory


@transaction.atomic
def territory_deactivate(*, territory: Territory, by: User) -> Territory:
    """Stop a territory routing accounts and widening visibility; it stays, with its history."""
    _require_admin(by)
    territory = Territory.objects.select_for_update().get(pk=territory.pk)
    if not territory.active:
        raise ValidationError(_("%(name)s is already inactive.") % {"name": territory})
    territory.active = False
    territory.save(update_fields=["active"])
    coverage_refresh(territories=[territory.pk])
    return territory


COVERAGE_CHUNK = 5000


@transaction.atomic
def coverage_refresh(*, territories=None, accounts=None) -> int:
    """Rewrite which accounts the active territories' rules cover, member by member; the rows written.

    Every service that changes a territory's rule, members or activity, or an account's region,
    industry, size or product lines, calls it for what it changed (`None`: every territory /
    account). The rule itself is `territory_rule`, through `Territory.objects.covering_ref`.
    """
    if isinstance(accounts, list | tuple | set) and len(accounts) > COVERAGE_CHUNK:
        # An import's ids, in pieces a database takes as query parameters (SQLite: 32,766).
        ids = list(accounts)
        return sum(
            coverage_refresh(territories=territories, accounts=ids[start : start + COVERAGE_CHUNK])
            for start in range(0, len(ids), COVERAGE_CHUNK)
        )
    stale = TerritoryCoverage.objects.all()
    scope = Account.objects.all()
    chosen = Territory.objects.active()
    if territories is not None:
        stale, chosen = stale.filter(territory__in=territories), chosen.filter(pk__in=territories)
    if accounts is not None:
        stale, scope = stale.filter(account__in=accounts), scope.filter(pk__in=accounts)
    # Whose coverage may change: these accounts, or those the territories covered or will cover.
    changed = None if territories is None and accounts is None else set(accounts or ())
    if territories is not None and accounts is None:
        changed |= set(stale.values_list("account_id", flat=True))
    stale.delete()
    members = defaultdict(list)
    for territory_id, user_id in Territory.members.through.objects.filter(territory__in=chosen).values_list(
        "territory_id", "user_id"
    ):
        members[territory_id].append(user_id)
    rows = [
        TerritoryCoverage(user_id=user_id, territory_id=territory_id, account_id=account_id)
        for territory_id, users in members.items()
        for account_id in scope.filter(Exists(Territory.objects.covering_ref().filter(pk=territory_id))).values_list(
            "pk", flat=True
        )
        for user_id in users
    ]
    # ignore_conflicts: two refreshes of one account racing write the same rows.
    TerritoryCoverage.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    if changed is not None:
        changed |= {row.account_id for row in rows}
    signals.coverage_changed.send(sender=TerritoryCoverage, accounts=changed)
    return len(rows)


@transaction.atomic
def territory_move(*, territory: Territory, by: User, up: bool) -> Territory:
    """Swap a territory's precedence with its neighbour above (up) or below."""
    _require_admin(by)
    # Lock every territory: a swap touches two rows and must not interleave with another move.
    territories = list(Territory.objects.select_for_update().order_by("order"))
    index = next(i for i, t in enumerate(territories) if t.pk == territory.pk)
    other_index = index - 1 if up else index + 1
    if not 0 <= other_index < len(territories):
        # Two whole sentences: "first"/"last" spliced into one would not translate.
        message = _("%(name)s is already the first.") if up else _("%(name)s is already the last.")
        raise ValidationError(message % {"name": territories[index]})
    this, other = territories[index], territories[other_index]
    # `order` is unique: park one row on a free number so the swap never collides mid-way.
    this_order, other_order = this.order, other.order
    this.order = territories[-1].order + 1
    this.save(update_fields=["order"])
    other.order = this_order
    other.save(update_fields=["order"])
    this.order = other_order
    this.save(update_fields=["order"])
    return this


@transaction.atomic
def territory_route(*, account, by: User, product_line_ids=None) -> tuple[User, Territory | None, dict]:
    """Who gets a new account: round-robin in the first matching territory with an available member, else `by`.

    Returns the owner, the territory and the facts of why (`Account.assignment_facts`).
    """
    return _route(territories=Territory.objects.covering(account, product_line_ids), by=by)


def territory_router(*, by: User):
    """`territory_route` for many new accounts (imports): the covering territories are read once per kind of account.

    Each territory is locked and its members read once, and the round-robin cursor moves in
    memory: call `route.flush()` after the last account to store it (one update per territory,
    where one per account cost 200,000 imported accounts a million queries).
    """
    covering: dict = {}
    # territory pk → [the locked row, its available members by id, the cursor, moved?]
    state: dict[int, list] = {}

    def route(*, account, product_line_ids) -> tuple[User, Territory | None, dict]:
        key = (account.region_id, account.industry_id, account.size_tier, tuple(sorted(product_line_ids)))
        if key not in covering:
            covering[key] = list(Territory.objects.covering(account, product_line_ids))
        skipped = []
        for territory in covering[key]:
            if territory.pk not in state:
                locked = Territory.objects.select_for_update().get(pk=territory.pk)
                members = list(locked.members.available().order_by("pk"))
                state[territory.pk] = [locked, members, locked.last_assigned_id, False]
            locked, members, cursor, _moved = state[territory.pk]
            owner = locked.next_member(after_id=cursor, members=members)
            if owner is None:
                skipped.append(locked.name)
                continue
            state[territory.pk][2:] = [owner.pk, True]
            why = note_facts(
                "territory", territory=locked.name, order=locked.order, members=len(members), skipped=skipped
            )
            return owner, locked, why
        return by, None, note_facts("no_territory", by=by, skipped=skipped)

    def flush() -> None:
        for locked, _members, cursor, moved in state.values():
            if moved:
                Territory.objects.filter(pk=locked.pk).update(last_assigned_id=cursor)

    route.flush = flush
    return route


def _route(*, territories, by: User) -> tuple[User, Territory | None, dict]:
    skipped = []
    for territory in territories:
        # Lock the territory row: two accounts created at once must not both read the same
        # cursor and go to the same member (on SQLite the IMMEDIATE transaction serialises).
        locked = Territory.objects.select_for_update().get(pk=territory.pk)
        owner = locked.next_member(after_id=locked.last_assigned_id)
        if owner is None:
            skipped.append(locked.name)
            continue
        Territory.objects.filter(pk=locked.pk).update(last_assigned=owner)
        why = note_facts(
            "territory",
            territory=locked.name,
            order=locked.order,
            members=locked.members.available().count(),
            skipped=skipped,
        )
        return owner, locked, why
    return by, None, note_facts("no_territory", by=by, skipped=skipped)
