# Who may see what: every visibility rule of CoachCRM, and the one way to fetch a record or answer 404.
"""Visibility, in one module.

The rules, in words (tests/test_access.py is the same spec as a matrix):

- An admin sees everything.
- Accounts: a rep sees those he owns, those where he holds a coach and those his active
  territories cover; a manager sees his team's (his own and his reps').
- People (contacts and their positions): whoever sees an account they work or worked at.
- Coaches (and their holders, interactions, style reports and the stances they report): only their holders, a successor
  they are handed over to, and those people's managers. Coach identity is the most sensitive
  thing in the CRM, so it does not follow account visibility.
- Deals and grants: those on an account the user sees, and those of his team (his own, for a rep).
- Handovers: the two reps of the handover and their managers.
- Users: a rep sees himself and his manager; a manager his team.
- Tasks: their owner's, the one who gave them, and the owner's manager. Notes: whoever sees their record.
- An upload (import batch) is its uploader's only.
- Merging two duplicates: an admin, or the manager of both (`may_merge`).
- The login audit (security events): an admin's; anyone else sees only his own.
- Webhook endpoints and their delivery log: admins only.

Anything out of scope is a 404, never a 403: nobody learns that a record exists. Every page,
API endpoint, form and importer asks here; models and services never do (import-linter's
"models do not import access" contract), so a rule is changed in one place.

Usage: `access.accounts(user)` (a queryset), `access.get(user, Coach, pk)` (or 404), and
`access.get(user, Coach.objects.select_related("account"), pk)` to fetch with relations.
"""

from collections.abc import Callable

from django.db import connection
from django.db.models import Model, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from accounts.models import Account, Contact, Employment, TerritoryCoverage
from agenda.models import Note, Task
from coaches.models import (
    Coach,
    CoachMove,
    Handover,
    Holder,
    Interaction,
    StanceReport,
    StyleReport,
    VisibleAccount,
)
from csvio.models import ImportBatch
from pipeline.models import Opportunity, OpportunityContact
from service_catalog.models import Grant
from team.models import SecurityEvent, User
from webhooks.models import Delivery, Webhook

Scope = Callable[..., QuerySet]


def _base(model: type[Model], queryset: QuerySet | None) -> QuerySet:
    return model._default_manager.all() if queryset is None else queryset


# --- People ----------------------------------------------------------------------------------


def team(user: User) -> QuerySet[User]:
    """The people whose work the user answers for: all for an admin, his team for a manager, himself for a rep."""
    if user.is_admin:
        return User.objects.all()
    if user.is_manager:
        return User.objects.team_of(user)
    return User.objects.filter(pk=user.pk)


def reps(user: User, queryset: QuerySet | None = None) -> QuerySet[User]:
    """The reps whose departure the user may manage: his reports (anyone for an admin; nobody for a rep)."""
    queryset = _base(User, queryset)
    if user.is_admin:
        return queryset
    if user.is_manager:
        return queryset.filter(manager=user)
    return queryset.none()


def may_manage_departure(user: User, rep: User) -> bool:
    """Whether the user may start or cancel the rep's departure (`reps`: his manager, or an admin)."""
    return reps(user).filter(pk=rep.pk).exists()


def users(user: User, queryset: QuerySet | None = None) -> QuerySet[User]:
    """Users the user may look up: an admin all, a manager his team, a rep himself and his manager."""
    queryset = _base(User, queryset)
    if user.is_admin:
        return queryset
    if user.is_manager:
        return queryset.filter(Q(pk=user.pk) | Q(manager=user))
    return queryset.filter(Q(pk=user.pk) | Q(pk=user.manager_id))


def security_events(user: User, queryset: QuerySet | None = None) -> QuerySet[SecurityEvent]:
    """The login audit: an admin reads everyone's events, anyone else only his own."""
    queryset = _base(SecurityEvent, queryset)
    if user.is_admin:
        return queryset
    return queryset.filter(user=user)


def webhooks(user: User, queryset: QuerySet | None = None) -> QuerySet[Webhook]:
    """Webhook endpoints: an admin's, nobody else's (their secrets sign what the receivers trust)."""
    queryset = _base(Webhook, queryset)
    return queryset if user.is_admin else queryset.none()


def deliveries(user: User, queryset: QuerySet | None = None) -> QuerySet[Delivery]:
    """The webhook delivery log: whoever sees the endpoint (an admin)."""
    queryset = _base(Delivery, queryset)
    return queryset if user.is_admin else queryset.none()


# --- Accounts and people ----------------------------------------------------------------------


# Past this many visible accounts `once` keeps the subquery: an IN list that long costs more to
# send and plan than the scope costs to compute (and SQLite caps a statement's parameters).
ONCE_MAX_IDS = 10_000
# Up to this many the ids go as a list of constants; more as one array (see `within`).
ID_LIST_MAX = 1_000


def account_ids(user: User, *, once: bool | QuerySet | list[int] = False) -> QuerySet | list[int]:
    """The ids of the accounts a (non-admin) user may see, as one subquery: deals, grants and people scope by it.

    The rule is `account_ids_live`; its answer is kept as rows (`VisibleAccount`, by
    coaches.visibility), so the set is one range of the (user, account) index, which PostgreSQL
    estimates from its statistics wherever the subquery goes.

    `once`: for a rep, evaluate his short set now (one query) and return the ids, which the
    planner estimates one by one against the deals' and people's statistics; a page that asks
    several kinds passes what this returned as `once` to each. A manager's ~5,000 stay the
    subquery (as ids they were planned element by element, ~5 ms a query).
    """
    if not isinstance(once, bool):
        return once
    ids = VisibleAccount.objects.filter(user=user).order_by().values("account_id")
    if once and not user.is_manager:
        evaluated = list(ids.values_list("account_id", flat=True)[: ONCE_MAX_IDS + 1])
        if len(evaluated) <= ONCE_MAX_IDS:
            return evaluated
    return ids


def account_ids_live(user: User) -> QuerySet:
    """The visibility rule itself, computed: what `VisibleAccount` keeps for the user (its oracle tests compare).

    A UNION of three id sets: owned (`owner`), held (the holders' `user`) and covered by an
    active territory (`TerritoryCoverage`), the user's own, or his team's for a manager.
    """

    def by(field: str) -> dict:
        if user.is_manager:
            return {f"{field}__in": User.objects.team_of(user).order_by().values("pk")}
        return {field: user.pk}

    owned = Account.objects.filter(**by("owner")).order_by().values("pk")
    held = Holder.objects.filter(**by("user")).order_by().values("coach__account_id")
    covered = TerritoryCoverage.objects.filter(territory__active=True, **by("user")).order_by().values("account_id")
    return owned.union(held, covered)


def within(field: str, ids: QuerySet | list[int]) -> Q:
    """`field` among `ids` (a subquery or evaluated ids), as a condition for `.filter()`.

    A subquery (a manager's kept rows) stays one. Evaluated ids are a rep's (`account_ids`
    with `once`): a short list (~200) goes as `IN (1, 2, …)`, which PostgreSQL estimates id by
    id from the deals' and owners' statistics, written at once (`ids_in`, coachcrm.lookups)
    rather than prepared id by id. Past ID_LIST_MAX (a rep with a broad territory) one array
    parameter, `= ANY(array)`: thousands of constants in an IN were ~35 ms of planning, and
    `IN (SELECT unnest(array))` was estimated at 200 rows whatever its length. SQLite takes the list.
    """
    if isinstance(ids, list):
        if connection.vendor == "postgresql" and len(ids) > ID_LIST_MAX:
            return Q(**{f"{field}__any_of": ids})  # coachcrm.lookups
        return Q(**{f"{field}__ids_in": ids})  # the same IN (…), written at once
    return Q(**{f"{field}__in": ids})


def accounts(
    user: User, queryset: QuerySet | None = None, *, once: bool | QuerySet | list[int] = False
) -> QuerySet[Account]:
    """Accounts the user may see: an admin all; a rep those he owns, holds a coach at or his territories
    cover; a manager his team's. `once`: the visible set evaluated now (see `account_ids`)."""
    queryset = _base(Account, queryset)
    if user.is_admin:
        return queryset
    return queryset.filter(within("pk", account_ids(user, once=once)))


def may_see_account(user: User, account: Account) -> bool:
    """Whether the account is in the user's scope (e.g. after routing gave it to someone else)."""
    return accounts(user).filter(pk=account.pk).exists()


def contacts(
    user: User, queryset: QuerySet | None = None, *, once: bool | QuerySet | list[int] = False
) -> QuerySet[Contact]:
    """People who hold or held a position at an account the user may see (`once`: see `account_ids`)."""
    queryset = _base(Contact, queryset)
    if user.is_admin:
        return queryset
    positions = Employment.objects.filter(within("account_id", account_ids(user, once=once)))
    return queryset.filter(pk__in=positions.values("contact_id"))


def employments(user: User, queryset: QuerySet | None = None) -> QuerySet[Employment]:
    """Positions of the people the user may see (their whole career, not only at his accounts)."""
    queryset = _base(Employment, queryset)
    if user.is_admin:
        return queryset
    return queryset.filter(contact__in=contacts(user))


def mergeable(user: User, model: type[Account] | type[Contact]) -> QuerySet:
    """The records of a kind the user may merge with one another (and so review as possible duplicates).

    An admin all; a manager the accounts his team owns (his own or his reps') and the people he
    sees (they work or worked at his team's accounts); a rep none: a merge deletes a record.
    """
    if user.is_admin:
        return model._default_manager.all()
    if not user.is_manager:
        return model._default_manager.none()
    if model is Account:
        return Account.objects.filter(owner__in=User.objects.team_of(user))
    return contacts(user)


def may_merge(user: User, first: Account | Contact, second: Account | Contact) -> bool:
    """Who may merge two duplicates: an admin; a manager when both are his team's (`mergeable`)."""
    if user.is_admin:
        return True
    if not user.is_manager:
        return False
    ids = {first.pk, second.pk}
    return mergeable(user, type(first)).filter(pk__in=ids).count() == len(ids)


# --- Coaches ---------------------------------------------------------------------------------


def coaches(user: User, queryset: QuerySet | None = None) -> QuerySet[Coach]:
    """Coaches the user may see: his own as a holder or successor, his team's as a manager, all as an admin."""
    queryset = _base(Coach, queryset)
    if user.is_admin:
        return queryset
    holders = Holder.objects.filter(user=user)
    # A successor sees the coaches handed over to him, so he can take them over.
    handed = Handover.objects.open().filter(to_user=user)
    if user.is_manager:
        # His team as an array (coachcrm.lookups), as `account_ids` does: as `user = me OR
        # user.manager = me` every holder was joined to his user and filtered (a scan of all
        # 24,000 at the benchmark's full size, twice a coach list: its count and its page).
        team = User.objects.team_of(user).order_by().values("pk")
        holders = Holder.objects.filter(user__any_of=team)
        handed = Handover.objects.open().filter(to_user__any_of=team)
    # One UNION of the two id sets: PostgreSQL estimates it (an OR of two IN terms it took for
    # ten times the rows, and joined every contact and account before sorting).
    coach_ids = holders.order_by().values("coach_id").union(handed.order_by().values("coach_id"))
    if user.is_manager:
        # As an array: as `IN (…)` PostgreSQL hashed his team's ~1,100 ids and scanned all 15,000
        # coaches against them; an array it estimates short, and looks each coach up by its key.
        return queryset.filter(pk__any_of=coach_ids)
    return queryset.filter(pk__in=coach_ids)


def holders(user: User, queryset: QuerySet | None = None) -> QuerySet[Holder]:
    """Holders of the coaches the user may see."""
    queryset = _base(Holder, queryset)
    return queryset if user.is_admin else queryset.filter(coach__in=coaches(user))


def interactions(user: User, queryset: QuerySet | None = None) -> QuerySet[Interaction]:
    """Touches with the coaches the user may see."""
    queryset = _base(Interaction, queryset)
    return queryset if user.is_admin else queryset.filter(coach__in=coaches(user))


def style_reports(user: User, queryset: QuerySet | None = None) -> QuerySet[StyleReport]:
    """Coach-sourced: seen by whoever may see the reporting coach."""
    queryset = _base(StyleReport, queryset)
    return queryset if user.is_admin else queryset.filter(coach__in=coaches(user))


def stance_reports(user: User, queryset: QuerySet | None = None) -> QuerySet[StanceReport]:
    """Coach-sourced: seen by whoever may see that coach; a rep's own (no coach): by whoever sees the person."""
    queryset = _base(StanceReport, queryset)
    if user.is_admin:
        return queryset
    return queryset.filter(Q(coach__in=coaches(user)) | Q(coach__isnull=True, contact__in=contacts(user).values("pk")))


def coach_moves(user: User, queryset: QuerySet | None = None) -> QuerySet[CoachMove]:
    """Moves of coaches the user may see, or whose new prospect he may see."""
    queryset = _base(CoachMove, queryset)
    if user.is_admin:
        return queryset
    return queryset.filter(Q(old_coach__in=coaches(user)) | Q(opportunity__in=opportunities(user)))


def handovers(user: User, queryset: QuerySet | None = None) -> QuerySet[Handover]:
    """Handovers the user may see: his own (either side), his reps' as a manager, all as an admin."""
    queryset = _base(Handover, queryset)
    if user.is_admin:
        return queryset
    mine = Q(from_user=user) | Q(to_user=user)
    if user.is_manager:
        mine |= Q(from_user__manager=user) | Q(to_user__manager=user)
    return queryset.filter(mine)


# --- Deals and grants ------------------------------------------------------------------------


def opportunities(
    user: User, queryset: QuerySet | None = None, *, once: bool | QuerySet | list[int] = False
) -> QuerySet[Opportunity]:
    """Deals the user may see: on accounts he may see, or owned by him (his team, for a manager).

    `once`: the visible accounts evaluated now (see `account_ids`)."""
    queryset = _base(Opportunity, queryset)
    if user.is_admin:
        return queryset
    return queryset.filter(opportunity_q(user, once=once))


def opportunity_q(user: User, *, relation: str = "", once: bool = False, arrays: bool = False) -> Q:
    """`opportunities`' rule as a condition, on the deals reached by `relation` ("" for the deals themselves).

    Its sets are subqueries (`Subquery`), so that it can also be the condition of a
    `FilteredRelation`: a join that keeps the rows it finds no visible deal for (the board's
    stages, each joined to the deals the user may see). Always true for an admin (an empty Q).

    `arrays`: each set as one array evaluated once (`= ANY(ARRAY(…))`, coachcrm.lookups), so
    that PostgreSQL reads the deals through their account and owner indexes (a BitmapOr)
    instead of testing every deal against two hashed sets; for a query that reads all of the
    user's deals (the board: a rep's 461 of 100,000 in 8-16 ms instead of 20-40), not for a
    list that stops after a page in its own order.
    """
    if user.is_admin:
        return Q()
    accounts = account_ids(user, once=once)
    if not isinstance(accounts, list):
        accounts = Subquery(accounts)
    if user.is_manager:
        team_ids = Subquery(team(user).order_by().values("pk"))
        owned = Q(**{f"{relation}owner__{'any_of' if arrays else 'in'}": team_ids})
    else:
        # A rep's team is himself: his id as a constant. As `owner IN (SELECT …)` the OR was a
        # hashed SubPlan, which no index answers: PostgreSQL scanned all 100,000 deals for the
        # rep's 842 (his list's count, 18 ms); as `owner = id` it is a BitmapOr of the account
        # and owner indexes, and his page is planned from estimates of his own deals.
        owned = Q(**{f"{relation}owner": user.pk})
    if arrays:
        return Q(**{f"{relation}account__any_of": accounts}) | owned
    return within(f"{relation}account", accounts) | owned


def opportunity_contacts(user: User, queryset: QuerySet | None = None) -> QuerySet[OpportunityContact]:
    """People's roles on the deals the user may see."""
    queryset = _base(OpportunityContact, queryset)
    return queryset if user.is_admin else queryset.filter(opportunity__in=opportunities(user))


def grants(
    user: User, queryset: QuerySet | None = None, *, once: bool = False, arrays: bool = False
) -> QuerySet[Grant]:
    """Grants the user may see: an admin all; others their own, their team's and their accounts'.

    `once`: the visible accounts evaluated now (see `account_ids`). `arrays`: both sets as arrays
    evaluated once in the query (as `opportunity_q`'s), so that PostgreSQL reads the grants through
    their account and rep indexes, for a query that reads all of them (the ledger), not a list."""
    queryset = _base(Grant, queryset)
    if user.is_admin:
        return queryset
    if arrays:
        team_ids = Subquery(team(user).order_by().values("pk"))
        return queryset.filter(Q(account__any_of=Subquery(account_ids(user))) | Q(rep__any_of=team_ids))
    return queryset.filter(within("account", account_ids(user, once=once)) | Q(rep__in=team(user)))


def sees_all_grants(user: User) -> bool:
    """Whether `grants` is every grant for the user (an admin): his ledger reads the sums kept per group."""
    return user.is_admin


def tasks(user: User, queryset: QuerySet | None = None) -> QuerySet[Task]:
    """Tasks the user may see: his own, those he gave someone, his team's as a manager, all as an admin."""
    queryset = _base(Task, queryset)
    if user.is_admin:
        return queryset
    return queryset.filter(Q(owner__in=team(user)) | Q(created_by=user))


def notes(user: User, queryset: QuerySet | None = None) -> QuerySet[Note]:
    """Notes on the accounts, people and deals the user may see."""
    queryset = _base(Note, queryset)
    if user.is_admin:
        return queryset
    return queryset.filter(
        Q(account__in=account_ids(user)) | Q(contact__in=contacts(user)) | Q(opportunity__in=opportunities(user))
    )


def import_batches(user: User, queryset: QuerySet | None = None) -> QuerySet[ImportBatch]:
    """An upload is its uploader's own: nobody else sees or confirms another's file, admins included."""
    return _base(ImportBatch, queryset).filter(user=user)


# --- Reports ---------------------------------------------------------------------------------


def dashboard(user: User, filters: dict) -> tuple[Q, Q]:
    """The deals and the coaches the dashboard counts, as filters on Opportunity and on Coach.

    A rep's dashboard is his own deals and coaches; a manager's is his team's (narrowed to one
    owner if he asks); an admin's is everybody's, narrowed to a manager's team or an owner.
    """
    deals, coach_filter = Q(), Q()
    if user.is_rep:
        owner, manager = user, None
    else:
        owner = filters.get("owner")
        manager = filters.get("manager") if user.is_admin else user
    if owner is not None:
        deals &= Q(owner=owner)
        coach_filter &= Q(pk__in=Holder.objects.filter(user=owner).values("coach_id"))
    if manager is not None:
        members = User.objects.team_of(manager)
        # As an array of the team's ids (coachcrm.lookups): the deal owner index answers.
        deals &= Q(owner__any_of=members.order_by().values("pk"))
        coach_filter &= Q(pk__in=Holder.objects.filter(user__in=members).values("coach_id"))
    if region := filters.get("region"):
        deals &= Q(account__region=region)
        coach_filter &= Q(account__region=region)
    if product_line := filters.get("product_line"):
        # Coaches belong to an account, not to a product line: coach health ignores this filter.
        deals &= Q(product_line=product_line)
    return deals, coach_filter


# --- The one fetch ---------------------------------------------------------------------------

SCOPES: dict[type[Model], Scope] = {
    Account: accounts,
    Contact: contacts,
    Employment: employments,
    Coach: coaches,
    Holder: holders,
    Interaction: interactions,
    StyleReport: style_reports,
    StanceReport: stance_reports,
    CoachMove: coach_moves,
    Handover: handovers,
    Opportunity: opportunities,
    OpportunityContact: opportunity_contacts,
    Grant: grants,
    User: users,
    SecurityEvent: security_events,
    ImportBatch: import_batches,
    Task: tasks,
    Note: notes,
    Webhook: webhooks,
    Delivery: deliveries,
}


def scope(user: User, model_or_queryset: type[Model] | QuerySet) -> QuerySet:
    """The records of a model (or a queryset of it) that the user may see."""
    if isinstance(model_or_queryset, QuerySet):
        return SCOPES[model_or_queryset.model](user, model_or_queryset)
    return SCOPES[model_or_queryset](user)


def rep(user: User, pk) -> User:
    """A rep whose departure the user may manage (`reps`), else 404."""
    return get_object_or_404(reps(user, User.objects.select_related("manager")), pk=pk)


def get(user: User, model_or_queryset: type[Model] | QuerySet, pk) -> Model:
    """The record if the user may see it, else 404 (never a hint that it exists)."""
    return get_object_or_404(scope(user, model_or_queryset), pk=pk)
