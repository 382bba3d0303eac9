# Reads for the account, people and territory pages: lists with their counts, history, coverage.
import dataclasses

from django.db.models import Count, Exists, F, IntegerField, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

import access
from accounts.models import (
    Account,
    AccountNotDuplicate,
    Contact,
    ContactNotDuplicate,
    EmailKey,
    Employment,
    Territory,
    account_name_key,
    contact_name_key,
    contact_phone_key,
)
from coachcrm.notes import is_note, note_text
from team.models import User


def account_list(*, user: User) -> QuerySet[Account]:
    """Accounts for the list page, with what each row shows."""
    # A correlated subquery rather than a JOIN + GROUP BY: the page's COUNT(*) then drops
    # it, and only the 25 rows shown pay for it.
    current_people = (
        Employment.objects.current()
        .filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        # Evaluated once: the page's count and its rows both scope by it.
        access.accounts(user, once=True)
        .select_related("region", "industry", "owner")
        .annotate(people_count=Coalesce(Subquery(current_people, output_field=IntegerField()), 0))
        .order_by("name", "pk")
    )


def _current_positions():
    return Prefetch(
        "employments",
        queryset=Employment.objects.current().select_related("account"),
        to_attr="current_positions",
    )


def contact_list(*, user: User) -> QuerySet[Contact]:
    """Contacts for the list page, each with his current position."""
    # The visible accounts evaluated once: the page's count and its rows both scope by them.
    people = access.contacts(user, once=True)
    return people.prefetch_related(_current_positions()).order_by("last_name", "first_name", "pk")


def contact_list_with_timeline(*, user: User) -> QuerySet[Contact]:
    """Contacts as `contact_list`, each with every position he held (API, export)."""
    return contact_list(user=user).prefetch_related(
        Prefetch("employments", queryset=Employment.objects.select_related("account").order_by("-start_date", "-pk"))
    )


def account_people(*, account: Account) -> dict:
    """The account's current and former people, one query."""
    positions = list(account.employments.select_related("contact").order_by("-start_date", "-pk"))
    return {
        "current": [p for p in positions if p.end_date is None],
        "former": [p for p in positions if p.end_date is not None],
    }


def contact_timeline(*, contact: Contact) -> list[Employment]:
    """Every position the person held, newest first."""
    return list(contact.employments.select_related("account", "reports_to").order_by("-start_date", "-pk"))


def position_colleagues(*, employment: Employment | None) -> list[Contact]:
    """The people who work at the position's account now, himself excepted: whom he may report to."""
    if employment is None or not employment.is_current:
        return []
    return list(
        Contact.objects.filter(employments__account_id=employment.account_id, employments__end_date__isnull=True)
        .exclude(pk=employment.contact_id)
        .order_by("last_name", "first_name", "pk")
    )


def _note_changes(record, previous) -> list[tuple[str, dict, dict]]:
    # diff_against compares the fields a person edits; the facts of the system's notes
    # (`*_facts`) are not editable, but "why this owner" or "why held back" changing is history.
    names = [f.name for f in record.tracked_fields if not f.editable and f.name.endswith("_facts")]
    return [
        (name, getattr(previous, name), getattr(record, name))
        for name in names
        if getattr(previous, name) != getattr(record, name)
    ]


def _history_value(field, value, names: dict):
    # A system note's facts read as its sentence, in the reader's language (coachcrm.notes);
    # a choice as its label, a related row by its name, a yes/no as words: never a raw code or id.
    if is_note(value):
        return note_text(value)
    if value is None or value == "":
        return value
    if field.many_to_one:
        return names.get((field.related_model, value), f"#{value}")
    if field.flatchoices and not field.is_relation:
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return value


def _related_names(changed: list) -> dict:
    # One query per related model that appears in the changes (not one per entry): the ids of
    # every old and new value of that model, read together.
    wanted: dict = {}
    for field, old, new in changed:
        if field.many_to_one:
            wanted.setdefault(field.related_model, set()).update(v for v in (old, new) if v not in (None, ""))
    names = {}
    for model, ids in wanted.items():
        for pk, row in model._base_manager.in_bulk(ids).items():
            names[(model, pk)] = str(row)
    return names


def history_entries(*, records, limit: int = 25) -> list[dict]:
    """Who changed what and when, newest first, as field labels, choice labels and related names.

    The records are read once and each is compared with the one before it in Python; related
    names come in one query per related model that changed, however long the history is.
    """
    records = list(records.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    raw = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        changed = []
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous, foreign_keys_are_objs=False)
            meta = record.instance._meta
            pairs = [(c.field, c.old, c.new) for c in delta.changes] + _note_changes(record, previous)
            changed = [(meta.get_field(name), old, new) for name, old, new in pairs]
        raw.append((record, changed))
    names = _related_names([change for _record, changed in raw for change in changed])
    return [
        {
            "record": record,
            "changes": [
                {
                    "field": field.verbose_name,
                    "old": _history_value(field, old, names),
                    "new": _history_value(field, new, names),
                }
                for field, old, new in changed
            ],
        }
        for record, changed in raw
    ]


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


# --- merging duplicates ----------------------------------------------------------------------

MERGE_CANDIDATES = 20


def merge_candidates(*, record: Account | Contact, user: User) -> list:
    """Possible duplicates of the record among those the user sees, for the merge page's choice.

    Accounts: the same first word of the normalised name ("cedar health" and "cedar health clinics").
    People: the same name, e-mail or phone.
    """
    if isinstance(record, Account):
        first_word = record.normalized_name.split(" ")[0]
        queryset = access.accounts(user).filter(normalized_name__startswith=first_word)
    else:
        same = Q(first_name__iexact=record.first_name, last_name__iexact=record.last_name)
        if record.email:
            same |= Q(email__iexact=record.email)
        if record.phone:
            same |= Q(phone=record.phone)
        queryset = access.contacts(user).filter(same)
    return list(queryset.exclude(pk=record.pk).order_by("pk")[:MERGE_CANDIDATES])


def record_merges(*, record: Account | Contact) -> list:
    """The duplicates merged into the record, newest first, with what moved."""
    return list(record.merges.select_related("by"))


# --- possible duplicates ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DuplicateMatch:
    """One way two records may be one: the key both have, and the records that can have one."""

    label: str
    key: object  # a callable returning the key's expression
    model: type
    not_duplicate: type
    has_key: Q = dataclasses.field(
        default_factory=Q
    )  # the condition of the key's partial index: without it PostgreSQL cannot use it


# kind → match → how. The first match of a kind is its default.
DUPLICATE_MATCHES = {
    "account": {
        "name": DuplicateMatch(_("Same name"), account_name_key, Account, AccountNotDuplicate),
    },
    "contact": {
        "email": DuplicateMatch(_("Same e-mail"), EmailKey, Contact, ContactNotDuplicate, ~Q(email="")),
        "phone": DuplicateMatch(_("Same phone"), contact_phone_key, Contact, ContactNotDuplicate, ~Q(phone="")),
        "name": DuplicateMatch(_("Same full name"), contact_name_key, Contact, ContactNotDuplicate),
    },
}


# Duplicated records sent as a list of ids (one array on PostgreSQL; under SQLite's 32,766 parameters).
DUPLICATE_IDS_MAX = 30_000


def duplicate_pairs(*, user: User, kind: str, match: str) -> QuerySet:
    """Possible duplicates the user may merge: each record paired with the oldest one sharing its key.

    The rows are the duplicates, annotated `key` and `first_id` (the lowest id with that key, the
    one to keep); pairs someone said are not duplicates are left out. Among the records the user
    may merge (`access.mergeable`), so a manager never sees a pair he could not merge.
    """
    how = DUPLICATE_MATCHES[kind][match]
    scope = access.mergeable(user, how.model).filter(how.has_key).annotate(key=how.key()).order_by()
    # GROUP BY key HAVING COUNT(*) > 1 over the key's index: the keys that more than one record has.
    shared = scope.values("key").annotate(n=Count("pk")).filter(n__gt=1).values("key")
    # The oldest of each key, over the duplicated rows only: a window on what the GROUP BY kept. (A
    # correlated MIN per row was planned before the IN: one index lookup for each of 100,000 people.)
    first = Window(Min("pk"), partition_by=[F("key")])
    # A dismissed pair: the row said not to be a duplicate of the oldest record of its key. Tested in
    # the WHERE, before the window (a filter cannot refer to it from a subquery), so "the oldest" is
    # spelled out: one with the row's key and no older one. An index probe on `second` for each row,
    # which finds nothing for all but the dismissed.
    older = scope.filter(key=OuterRef("key"), pk__lt=OuterRef("pk"))
    oldest = scope.filter(key=OuterRef(OuterRef("key"))).exclude(Exists(older)).values("pk")
    dismissed = how.not_duplicate.objects.filter(second=OuterRef("pk"), first__in=oldest)
    # By id: PostgreSQL then knows there are at most as many rows as records (joined on the key it
    # expected hundreds of rows per key and walked every record for each key in order). Evaluated
    # now, once: the page's count and its rows would each group every record again (the GROUP BY
    # is most of the time, ~0.5 s over 100,000 people); past DUPLICATE_IDS_MAX it stays a subquery.
    duplicated = scope.filter(key__in=shared).values("pk")
    ids = list(duplicated.values_list("pk", flat=True)[: DUPLICATE_IDS_MAX + 1])
    if len(ids) <= DUPLICATE_IDS_MAX:
        duplicated = ids
    pairs = (
        scope.filter(access.within("pk", duplicated))
        .exclude(Exists(dismissed))
        .annotate(first_id=first)
        .exclude(pk=F("first_id"))
        .order_by("key", "pk")
    )
    return pairs.select_related("owner", "region") if how.model is Account else pairs


@dataclasses.dataclass(frozen=True)
class DuplicatePair:
    match: str
    key: str
    first: Account | Contact  # the one to keep (the oldest)
    second: Account | Contact

    @property
    def records(self) -> tuple:
        return self.first, self.second


def duplicate_pairs_resolve(*, rows, kind: str, match: str) -> list[DuplicatePair]:
    """A page of `duplicate_pairs` with the record each pairs with: one query for all of them."""
    rows = list(rows)
    model = DUPLICATE_MATCHES[kind][match].model
    firsts = _duplicate_records(model).in_bulk({row.first_id for row in rows})
    return [DuplicatePair(match, row.key, firsts[row.first_id], row) for row in rows if row.first_id in firsts]


def _duplicate_records(model) -> QuerySet:
    return model.objects.select_related("owner", "region") if model is Account else model.objects.all()


def duplicates_dismissed(*, user: User, kind: str) -> QuerySet:
    """The pairs said not to be duplicates among the records the user may merge, newest first (to undo)."""
    how = next(iter(DUPLICATE_MATCHES[kind].values()))
    scope = access.mergeable(user, how.model).values("pk")
    related = ["by", "first", "second"] + (["first__owner", "second__owner"] if kind == "account" else [])
    return (
        how.not_duplicate.objects.filter(first__in=scope, second__in=scope)
        .select_related(*related)
        .order_by("-dismissed_at", "-pk")
    )
