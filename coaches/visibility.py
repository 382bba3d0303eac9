"""The accounts each rep and manager may see, kept as rows (`VisibleAccount`) for `access`.

The rule is `access.account_ids_live`: a rep sees the accounts he owns, those where he holds a
coach and those an active territory of his covers; a manager, those of his team (himself and
his reps). Its three sources live in three apps (an account's owner, a coach's holders, the
territory coverage), so the rows are kept here, where all three are known:

- an account saved (its owner), a holder added or removed, a territory saved (switched on or
  off), a user's manager or role changed:
  the `post_save`/`post_delete` receivers below, so the services, the Django admin, the demo and
  the test factories alike;
- what bypasses those signals calls `visible_refresh` (or sends the account signal that does):
  territory coverage rewritten (`accounts.signals.coverage_changed`, which every change of a
  territory or of an account's routing facts, imports included, sends), a merge
  (`record_merged`), a departure's bulk move of accounts and holders, `seed_scale`;
- `manage.py visible_refresh` rebuilds every row after writes around all of these, and every
  night `visible_repair` mends what drifted (coaches.tasks.visible_repair_task, at 03:40).

tests/coaches/test_visibility.py holds the rows to the rule after a mixed history of writes.
"""

from collections.abc import Iterable

from django.db import connection, transaction

from accounts.models import Account, TerritoryCoverage
from coaches.models import Coach, Holder, VisibleAccount
from team.models import User

CHUNK = 2000


def _viewers() -> dict[int, tuple[str, int | None]]:
    """Every user's role and manager: who sees what a user's sources give (a few hundred rows)."""
    return {pk: (role, manager) for pk, role, manager in User.objects.values_list("pk", "role", "manager_id")}


def _rows(pairs: Iterable[tuple[int, int]], users: dict) -> set[tuple[int, int]]:
    """(viewer, account) for each (source user, account): the user himself, and his manager."""
    rows = set()
    for user_id, account_id in pairs:
        if user_id is None or account_id is None:
            continue
        role, manager_id = users.get(user_id, (None, None))
        if role in (User.Role.REP, User.Role.MANAGER):
            rows.add((user_id, account_id))
        if manager_id is not None and users.get(manager_id, (None,))[0] == User.Role.MANAGER:
            rows.add((manager_id, account_id))
    return rows


def _sources(*, accounts=None, users=None):
    """The (user, account) pairs of the three sources, narrowed to these accounts or these source users."""
    owned = Account.objects.order_by()
    held = Holder.objects.order_by()
    covered = TerritoryCoverage.objects.filter(territory__active=True).order_by()
    if accounts is not None:
        owned, held, covered = (
            owned.filter(pk__in=accounts),
            held.filter(coach__account_id__in=accounts),
            covered.filter(account_id__in=accounts),
        )
    if users is not None:
        owned, held, covered = (
            owned.filter(owner_id__in=users),
            held.filter(user_id__in=users),
            covered.filter(user_id__in=users),
        )
    yield from owned.values_list("owner_id", "pk").iterator(chunk_size=CHUNK)
    yield from held.values_list("user_id", "coach__account_id").iterator(chunk_size=CHUNK)
    yield from covered.values_list("user_id", "account_id").iterator(chunk_size=CHUNK)


@transaction.atomic
def visible_refresh(*, accounts: Iterable[int] | None = None, users: Iterable[int] | None = None) -> int:
    """Rewrite the kept rows of these accounts (for every user), or of these viewers; None: all. The rows written."""
    everyone = _viewers()
    if accounts is not None:
        ids = sorted({pk for pk in accounts if pk is not None})
        if not ids:
            return 0
        written = 0
        # In pieces a database takes as query parameters (an import's or a territory's accounts).
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            VisibleAccount.objects.filter(account_id__in=chunk).delete()
            written += _write(_rows(_sources(accounts=chunk), everyone))
        return written
    if users is not None:
        viewers = {pk for pk in users if pk is not None and pk in everyone}
        if not viewers:
            return 0
        VisibleAccount.objects.filter(user_id__in=viewers).delete()
        # A viewer's sources: himself, and for a manager his reps.
        sources = viewers | {pk for pk, (_role, manager) in everyone.items() if manager in viewers}
        rows = {row for row in _rows(_sources(users=sources), everyone) if row[0] in viewers}
        return _write(rows)
    VisibleAccount.objects.all().delete()
    return _write(_rows(_sources(), everyone))


def visible_repair() -> tuple[int, int]:
    """The kept rows compared with the rule and only the difference mended: (rows added, rows removed).

    The nightly job (coaches.tasks.visible_repair_task), for writes made around the services: a
    run with nothing to mend writes nothing. On PostgreSQL the table is locked against other
    writers (reads go on) while the sources are read and the difference written, so a refresh
    running meanwhile waits and then recomputes its accounts from what this left.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {VisibleAccount._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        wanted = _rows(_sources(), _viewers())
        kept = {
            (user_id, account_id): pk
            for pk, user_id, account_id in VisibleAccount.objects.values_list("pk", "user_id", "account_id").iterator(
                chunk_size=CHUNK
            )
        }
        extra = [pk for row, pk in kept.items() if row not in wanted]
        for start in range(0, len(extra), CHUNK):
            VisibleAccount.objects.filter(pk__in=extra[start : start + CHUNK]).delete()
        return _write(wanted - kept.keys()), len(extra)


def _write(rows: set[tuple[int, int]]) -> int:
    # ignore_conflicts: two refreshes of one account racing write the same rows.
    VisibleAccount.objects.bulk_create(
        [VisibleAccount(user_id=user_id, account_id=account_id) for user_id, account_id in rows],
        batch_size=CHUNK,
        ignore_conflicts=True,
    )
    return len(rows)


# --- Receivers (connected in CoachesConfig.ready) ------------------------------------------------


def account_loaded(sender, instance: Account, **kwargs) -> None:
    instance._visibility_owner_was = instance.__dict__.get("owner_id")


def account_saved(sender, instance: Account, created=False, raw=False, **kwargs) -> None:
    if not raw and (created or instance.owner_id != getattr(instance, "_visibility_owner_was", None)):
        visible_refresh(accounts=[instance.pk])
    instance._visibility_owner_was = instance.owner_id


def holder_changed(sender, instance: Holder, raw=False, **kwargs) -> None:
    if raw:
        return
    # On a cascade the holders go before their coach, so the coach is still there to ask.
    account_id = Coach.objects.filter(pk=instance.coach_id).values_list("account_id", flat=True).first()
    if account_id is not None:
        visible_refresh(accounts=[account_id])


def user_loaded(sender, instance: User, **kwargs) -> None:
    # From the loaded fields only: a deferred one (`.only()`) must not cost a query per user.
    instance._visibility_was = (instance.__dict__.get("role"), instance.__dict__.get("manager_id"))


def user_saved(sender, instance: User, created=False, raw=False, update_fields=None, **kwargs) -> None:
    if raw or (update_fields is not None and not {"role", "manager"} & set(update_fields)):
        return  # a login's `last_login`, a status: nothing anyone sees changes
    was_role, was_manager = getattr(instance, "_visibility_was", (None, None))
    if created or (instance.role, instance.manager_id) != (was_role, was_manager):
        visible_refresh(users=[instance.pk, was_manager, instance.manager_id])
    instance._visibility_was = (instance.role, instance.manager_id)


def territory_saved(sender, instance, raw=False, **kwargs) -> None:
    """A territory switched on or off (its coverage rows stay; only active ones widen visibility)."""
    if not raw:
        visible_refresh(
            accounts=set(TerritoryCoverage.objects.filter(territory=instance).values_list("account_id", flat=True))
        )


def coverage_changed(sender, *, accounts=None, **kwargs) -> None:
    visible_refresh(accounts=accounts)  # None: every account


def account_merged(sender, *, survivor, **kwargs) -> None:
    if sender is Account:
        visible_refresh(accounts=[survivor.pk])
