# Reads for the deal pages: the board, the lists, held-back deals, the playbook, the home work list.
import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Case, Count, F, FilteredRelation, Prefetch, Q, QuerySet, Sum, Value, When, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

import access
from accounts.models import Account, Employment
from coaches.models import Holder, PlaybookCard, Stance
from coaches.selectors import current_stances, current_styles
from pipeline.models import GateSweep, Opportunity, OpportunityContact, Stage, StageChange, coach_flag
from team.models import User

# Closed deals stay on the board this long, so a fresh win or loss is still in sight.
BOARD_CLOSED_DAYS = 30
# Deals shown per board column; the rest are one "show all" link away (the opportunity list).
BOARD_COLUMN_LIMIT = 20
ZERO = Decimal("0.00")


# What a deal's row or card shows besides the coach flag.
ROW_RELATIONS = ("account", "owner", "stage", "product_line", "loss_reason")


# What a board card shows (pipeline/templatetags/board.py).
CARD_FIELDS = (
    *("name", "amount", "currency", "stage", "status", "held_back", "had_coach_at_close", "stage_entered_at"),
    *("account__name", "owner__username", "owner__first_name", "owner__last_name"),
)


def opportunity_rows() -> QuerySet[Opportunity]:
    """Deals with what a row or a page shows: account, owner, stage, product line and the coach flag."""
    return Opportunity.objects.select_related(*ROW_RELATIONS).with_coach_flag()


def _rows(user: User, *, once: bool = False) -> QuerySet[Opportunity]:
    return access.opportunities(user, opportunity_rows(), once=once)


def opportunity_list(*, user: User) -> QuerySet[Opportunity]:
    """Deals for the list page: newest first, each with its account, owner, stage and coach flag."""
    # The visible accounts evaluated once: the page's count and its rows both scope by them.
    return _rows(user, once=True).order_by("-created_at", "-pk")


def opportunity_list_rows(*, deals: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """A page of `opportunity_list` (its slice, not yet read) as its rows, in its order: one query.

    Ids first, as the Today page does: as one query, PostgreSQL planned the coach flag for every
    deal the page's order might walk past (the rep's 1,445 estimated) and built it as a hash of
    all 15,000 coaches for the 25 rows shown; now the page's ids are found first and only their
    rows are joined and flagged.
    """
    return opportunity_rows().filter(pk__in=deals.values("pk")).order_by("-created_at", "-pk")


def opportunity_held_back_list(*, user: User) -> QuerySet[Opportunity]:
    """ "Needs a coach": open deals refused at the gate or sent back, longest waiting first."""
    return _rows(user, once=True).held_back().order_by("held_back_since", "pk")


def gate_sweep_last(*, user: User) -> GateSweep | None:
    """The gate sweep's last run, for managers and admins (None for a rep, or before the first run)."""
    return None if user.is_rep else GateSweep.objects.first()


def gate_sweep_last_sending(*, user: User) -> GateSweep | None:
    """The last run that sent deals back (an hourly run that found nothing must not hide it), as gate_sweep_last."""
    return None if user.is_rep else GateSweep.objects.filter(sent_back__gt=0).first()


WORK_LIST_ORDER = (F("has_coach").desc(), F("stage__order").desc(), F("amount").desc(), "pk")


def work_list(*, user: User, once: bool | list[int] = True) -> QuerySet[Opportunity]:
    """The home page's prioritised list: coached deals first, then furthest stage, then largest amount.

    Ids only (`work_list_rows` then reads a page's rows): the order is over every open deal in
    the user's scope (an admin's 50,000), and with the rows' five joins PostgreSQL built each
    of them before sorting; the sort now reads the deal and its stage only,
    and the page's 25 rows are joined after it. `once`: the visible accounts, evaluated (True:
    here, for its count and its page) or as the page evaluated them (`access.account_ids`).
    """
    rows = access.opportunities(user, Opportunity.objects.with_coach_flag(), once=once).open()
    if user.is_rep:
        rows = rows.filter(owner=user)
    return rows.only("pk").order_by(*WORK_LIST_ORDER)


def work_list_rows(*, deals: QuerySet[Opportunity], user: User | None = None) -> QuerySet[Opportunity]:
    """A page of `work_list` (its slice, not yet read) as rows with what a row shows, in its order: one query.

    For a manager or an admin on PostgreSQL the page's ids are read per stage and coach flag
    (`_work_list_page_ids`); a rep's few hundred deals are sorted as they are.
    """
    ids = deals
    if user is not None and not user.is_rep and connection.vendor == "postgresql" and deals.query.high_mark:
        ids = _work_list_page_ids(deals)
    return opportunity_rows().filter(pk__in=ids).order_by(*WORK_LIST_ORDER)


def _work_list_page_ids(deals: QuerySet[Opportunity]) -> RawSQL:
    """The ids of a page of `work_list`, each (coach flag, stage) group walked in amount order and cut at the page.

    Sorted whole, a manager's 13,700 open deals (an admin's 50,000) were read and sorted for every
    page (30-45 ms at the benchmark's full size). The order's first two keys take few values (the
    flag, the stage), so the first `high` rows of all are among the first `high` of each group: one
    walk of `opportunity_work_list` (stage, amount, id) per group, stopping at `high` visible rows,
    then the groups' rows sorted in the work list's order and the page kept (7 and 5 ms for the
    first page; a page deep in the list reads more, ~40 ms at its 41st). The ORM has no LATERAL
    join, hence the SQL around the work list's own query (its visibility and flag unchanged).
    `tests/pipeline/test_work_list.py` compares it with the sorted list.
    """
    low, high = deals.query.low_mark, deals.query.high_mark
    every = deals.all()
    every.query.clear_limits()
    sql, params = every.order_by().values("pk", "stage_id", "amount", "has_coach").query.sql_with_params()
    stage = Stage._meta.db_table
    # The table's name and the ORM's own compiled query, its values as parameters.
    return RawSQL(  # noqa: S611
        f'SELECT w.id FROM "{stage}" s CROSS JOIN (VALUES (true), (false)) AS c(coached) '  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT d.id, d.amount FROM ({sql}) d(id, stage_id, amount, has_coach) "
        "WHERE d.stage_id = s.id AND d.has_coach = c.coached ORDER BY d.amount DESC, d.id LIMIT %s) w "
        'ORDER BY c.coached DESC, s."order" DESC, w.amount DESC, w.id LIMIT %s OFFSET %s',
        (*params, high, high - low, low),
    )


def board_since() -> datetime.datetime:
    """Closed deals stay on the board from local midnight BOARD_CLOSED_DAYS ago.

    A day boundary, not "now minus 30 days", so that the list's `closed_from` date filter (which
    the "show all" link uses) selects exactly the deals the column counts.
    """
    day = timezone.localdate() - datetime.timedelta(days=BOARD_CLOSED_DAYS)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def board_columns(*, user: User, limit: int = BOARD_COLUMN_LIMIT, pinned: int | None = None) -> list[dict]:
    """One column per stage: its first `limit` deals, its count and total; two queries whatever the data size.

    `pinned` is a deal kept in sight at the top of its column (the one just moved, or refused
    with a message on its card) even if it would rank below the limit.
    """
    if limit < 1:
        raise ValueError("A board column shows at least one deal.")
    since = board_since()
    # Ids first, as the Today page does. The first query is the stages, each joined to the
    # board's deals the user may see (LEFT: an empty stage is still a row), numbered within
    # their stage in the board's order (coached first, then amount) and cut at `limit`; the
    # column's count and total are window aggregates over the whole stage, computed before that
    # cut, so every row carries its column's figures without computing the user's visibility a
    # second time. It sorts a deal's id, amount and coach flag only: with the card's five joins
    # in it, PostgreSQL sorted a manager's 13,700 wide rows (6.5 MB, on disk) to keep 140. The
    # second query reads the cards of the ids kept.
    deal = (
        Q(opportunities__status=Opportunity.Status.OPEN) | Q(opportunities__closed_at__gte=since)
    ) & access.opportunity_q(user, relation="opportunities__", arrays=True)
    order = [F("deal_has_coach").desc(), F("deal__amount").desc(), F("deal__id").asc()]
    if pinned is not None:
        order.insert(0, Case(When(deal__id=pinned, then=Value(0)), default=Value(1)).asc())
    column = [F("pk")]
    rows = list(
        Stage.objects.annotate(deal=FilteredRelation("opportunities", condition=deal))
        .annotate(deal_id=F("deal__id"), deal_has_coach=coach_flag("deal__account_id"))
        .annotate(
            position=Window(RowNumber(), partition_by=column, order_by=order),
            column_count=Window(Count("deal__id"), partition_by=column),
            column_total=Window(Sum("deal__amount"), partition_by=column),
        )
        .filter(position__lte=limit)
        .order_by("order", "pk", "position")
    )
    stages, kept = {}, []
    for row in rows:
        stages.setdefault(row.pk, row)  # the stage's first row carries its column's figures
        if row.deal_id is not None:
            kept.append(row.deal_id)
    # What a card shows and no more (its stage is the column's, its coach flag the first query's):
    # 140 cards with the five relations of a row built 700 model instances.
    cards = Opportunity.objects.select_related("account", "owner").only(*CARD_FIELDS).order_by().in_bulk(kept)
    by_stage = {pk: [] for pk in stages}
    for row in rows:
        if (card := cards.get(row.deal_id)) is not None:
            card.has_coach = row.deal_has_coach
            by_stage[row.pk].append(card)
    stages = list(stages.values())
    columns = []
    for index, stage in enumerate(stages):
        open_before = [s for s in stages[:index] if not s.is_closed]
        open_after = [s for s in stages[index + 1 :] if not s.is_closed]
        shown = by_stage[stage.pk]
        count = stage.column_count
        columns.append(
            {
                "stage": stage,
                "deals": shown,
                "count": count,
                "total": stage.column_total if shown else ZERO,
                "more": count > len(shown),
                # The opportunity list's filters that select this column's deals, for "show all".
                "filters": {"stage": stage.pk, "closed_from": since.date().isoformat()}
                if stage.is_closed
                else {"stage": stage.pk, "status": Opportunity.Status.OPEN.value},
                "previous": open_before[-1] if open_before else None,
                "next": open_after[0] if open_after else None,
            }
        )
    return columns


def board_closing_stages(*, stages: list[Stage]) -> dict:
    """The won and lost stages among the board's (already loaded) stages, for the close buttons."""
    return {
        "won": next((stage for stage in stages if stage.is_won), None),
        "lost": next((stage for stage in stages if stage.is_lost), None),
    }


def opportunity_stage_changes(*, opportunity: Opportunity) -> list[StageChange]:
    """Every stage change of the deal, newest first."""
    return list(opportunity.stage_changes.select_related("from_stage", "to_stage", "by"))


def account_opportunities(*, account: Account, user: User) -> list[Opportunity]:
    """The account's deals the user may see, open ones first."""
    return list(
        access.opportunities(user)
        .filter(account=account)
        .select_related("stage", "owner")
        .order_by("status", "-created_at")
    )


def opportunity_contact_roles(*, opportunity: Opportunity, user: User) -> list[OpportunityContact]:
    """The people on the deal with their roles; a "coach" role only for those who may see that coach."""
    rows = opportunity.contact_roles.select_related("contact")
    if not user.is_admin:
        # Coach identity is for the coach's holders and their managers, not for everyone on the deal.
        visible = access.coaches(user).values("contact_id")
        rows = rows.exclude(Q(role=OpportunityContact.Role.COACH) & ~Q(contact_id__in=visible))
    return list(rows.order_by("role", "contact__last_name", "pk"))


def opportunity_playbook(*, opportunity: Opportunity, user: User) -> list[dict]:
    """For each decision maker: his current style, the matching playbook card, and a mismatch with the owner's style.

    Three queries whatever the number of decision makers (people, their styles, the cards).
    """
    makers = [
        role.contact
        for role in opportunity.contact_roles.filter(role=OpportunityContact.Role.DECISION_MAKER).select_related(
            "contact"
        )
    ]
    if not makers:
        return []
    styles = current_styles(contact_ids=[c.pk for c in makers], user=user)
    cards = {card.style: card for card in PlaybookCard.objects.all()}
    seller = opportunity.owner.selling_style
    entries = []
    for contact in makers:
        report = styles.get(contact.pk)
        style = report.style if report else PlaybookCard.UNKNOWN
        entries.append(
            {
                "contact": contact,
                "report": report,
                "card": cards.get(style),
                # The flag is about the owner, who does the selling; no flag while either style is unknown.
                "mismatch": report is not None and seller != User.SellingStyle.UNKNOWN and seller != style,
            }
        )
    return entries


# --- The buying committee (issue 23) ---------------------------------------------------------

# The committee's groups, top to bottom: who signs, who decides, who evaluates, who uses, who
# sways, who blocks, who coaches us. A person with several roles is drawn once, in his first.
COMMITTEE_ROLES = [
    OpportunityContact.Role.ECONOMIC_BUYER,
    OpportunityContact.Role.DECISION_MAKER,
    OpportunityContact.Role.TECHNICAL_EVALUATOR,
    OpportunityContact.Role.USER,
    OpportunityContact.Role.INFLUENCER,
    OpportunityContact.Role.BLOCKER,
    OpportunityContact.Role.COACH,
]
# The roles with power over the decision: their style and stance are what a gap is about.
POWER_ROLES = {
    OpportunityContact.Role.ECONOMIC_BUYER,
    OpportunityContact.Role.DECISION_MAKER,
    OpportunityContact.Role.BLOCKER,
}


def _committee_rows(*, roles: QuerySet[OpportunityContact], user: User) -> list[OpportunityContact]:
    rows = roles.select_related("contact", "holder", "opportunity")
    if not user.is_admin:
        # The same rule as opportunity_contact_roles: a "coach" role only for who may see that coach.
        visible = access.coaches(user).values("contact_id")
        rows = rows.exclude(Q(role=OpportunityContact.Role.COACH) & ~Q(contact_id__in=visible))
    return list(rows.order_by("contact__last_name", "contact__first_name", "opportunity_id", "pk"))


def opportunity_committee(*, opportunity: Opportunity, user: User) -> dict:
    """The deal's buying committee as plain data: people by role, styles, stances, holders, lines and gaps.

    Six queries whatever the number of people (roles, positions, styles, stances, the visible
    coaches at the account and their holders). Coach-sourced facts (a style, a stance a coach
    reported, who the coach is and who holds him) come only through `access`, so a user who may
    not see a coach gets the committee without them, and the gaps are worded from what he sees.
    """
    rows = _committee_rows(roles=opportunity.contact_roles.all(), user=user)
    url = opportunity.get_absolute_url()
    return _committee(account_id=opportunity.account_id, rows=rows, user=user, form_url=lambda person: url)


def account_committee(*, account: Account, user: User) -> dict:
    """The account's buying committee: the people on the committees of its open deals the user may see.

    `opportunity_committee`'s data and gap rules over the union (a person drawn once, with all
    his roles), each person with the deals he is on (`deals`); a gap links to the committee form
    of the person's first deal, or of the account's first open deal. The same six queries, plus
    one for the deals.
    """
    deals = list(access.opportunities(user).open().filter(account_id=account.pk).order_by("expected_close", "pk"))
    rows = _committee_rows(roles=OpportunityContact.objects.filter(opportunity__in=deals), user=user)
    first = {}
    for row in rows:
        first.setdefault(row.contact_id, row.opportunity)

    def form_url(person: dict | None) -> str:
        if person is None and not deals:
            return account.get_absolute_url()
        return (first[person["id"]] if person else deals[0]).get_absolute_url()

    committee = _committee(account_id=account.pk, rows=rows, user=user, form_url=form_url, with_deals=True)
    committee["deals"] = [{"id": deal.pk, "name": deal.name, "url": deal.get_absolute_url()} for deal in deals]
    if not deals:
        committee["gaps"] = []  # no open deal: no committee to complete
    return committee


def _committee(*, account_id: int, rows: list, user: User, form_url, with_deals: bool = False) -> dict:
    ids = list(dict.fromkeys(row.contact_id for row in rows))
    positions = {
        p.contact_id: p for p in Employment.objects.current().filter(account_id=account_id, contact_id__in=ids)
    }
    styles = current_styles(contact_ids=ids, user=user)
    stances = current_stances(contact_ids=ids, user=user)
    coaches = list(
        access.coaches(user)
        .active()
        .filter(account_id=account_id)
        .select_related("contact")
        .prefetch_related(Prefetch("holders", queryset=Holder.objects.select_related("user")))
        .order_by("-established_on", "pk")
    )
    coach_of = {coach.contact_id: coach for coach in coaches}

    people = {}
    for row in rows:
        person = people.get(row.contact_id)
        if person is None:
            contact, position = row.contact, positions.get(row.contact_id)
            coach = coach_of.get(row.contact_id)
            style, stance = styles.get(row.contact_id), stances.get(row.contact_id)
            person = people[row.contact_id] = {
                "id": contact.pk,
                "name": str(contact),
                "url": contact.get_absolute_url(),
                "title": position.title if position else "",
                "roles": [],
                "reports_to_id": position.reports_to_id if position else None,
                "is_coach": coach is not None,
                "style": _style_data(style),
                "stance": _stance_data(stance),
                "holders": [holder.user.username for holder in coach.holders.all()] if coach else [],
                "last_touch": coach.last_touch if coach else None,
            }
            if with_deals:
                person["deals"] = []
        if row.role not in person["roles"]:
            person["roles"].append(row.role)
        if with_deals and row.opportunity_id not in [deal["id"] for deal in person["deals"]]:
            deal = row.opportunity
            person["deals"].append({"id": deal.pk, "name": deal.name, "url": deal.get_absolute_url()})
        if row.holder is not None and row.holder.username not in person["holders"]:
            person["holders"].append(row.holder.username)
        if row.last_touch_on and (person["last_touch"] is None or row.last_touch_on > person["last_touch"]):
            person["last_touch"] = row.last_touch_on

    groups = {role: [] for role in COMMITTEE_ROLES}
    for person in people.values():
        person["roles"].sort(key=COMMITTEE_ROLES.index)
        person["role"] = person["roles"][0]
        person["role_labels"] = [OpportunityContact.Role(role).label for role in person["roles"]]
        groups[person["role"]].append(person)
    lines = [
        {"from": person["id"], "to": person["reports_to_id"]}
        for person in people.values()
        if person["reports_to_id"] in people
    ]
    return {
        "people": [person for role in COMMITTEE_ROLES for person in groups[role]],
        "groups": [
            {"role": role.value, "label": role.label, "people": groups[role]}
            for role in COMMITTEE_ROLES
            if groups[role]
        ],
        "lines": lines,
        "gaps": committee_gaps(account_id=account_id, people=list(people.values()), coaches=coaches, form_url=form_url),
    }


def _style_data(report) -> dict | None:
    if report is None:
        return None
    return {
        "style": report.style,
        "label": report.get_style_display(),
        "coach": str(report.coach.contact),
        "reported_on": report.reported_on,
    }


def _stance_data(report) -> dict | None:
    if report is None:
        return None
    return {
        "stance": report.stance,
        "label": report.get_stance_display(),
        # Who told us: the coach, or the rep who saw it himself.
        "source": str(report.coach.contact) if report.coach_id else report.recorded_by.username,
        "coach_sourced": report.coach_id is not None,
        "reported_on": report.reported_on,
        "note": report.note,
    }


def committee_gaps(*, account_id: int, people: list[dict], coaches: list, form_url) -> list[dict]:
    """What is missing from the committee: each gap a sentence and the link to the action that closes it.

    `form_url(person)` is the page whose committee form closes a gap about that person (None: about
    the committee as a whole).
    """
    gaps = []

    def gap(code: str, text: str, url: str, action: str, ask: dict | None = None) -> None:
        gaps.append({"code": code, "text": text, "url": url, "action": action, "ask": ask})

    roles = {role for person in people for role in person["roles"]}
    for role, code in (
        (OpportunityContact.Role.ECONOMIC_BUYER, "no_economic_buyer"),
        (OpportunityContact.Role.DECISION_MAKER, "no_decision_maker"),
    ):
        if role not in roles:
            gap(
                code,
                _("No %(role)s identified.") % {"role": role.label.lower()},
                f"{form_url(None)}?{urlencode({'role': role.value})}#committee-form",
                _("Add the %(role)s") % {"role": role.label.lower()},
            )
    coach = coaches[0] if coaches else None
    for person in people:
        powerful = [role for role in person["roles"] if role in POWER_ROLES and role != OpportunityContact.Role.BLOCKER]
        if powerful and person["style"] is None:
            role = OpportunityContact.Role(powerful[0]).label.lower()
            if coach is not None:
                gap(
                    "style_unknown",
                    _("The %(role)s's style is unknown (%(name)s): ask %(coach)s.")
                    % {"role": role, "name": person["name"], "coach": coach.contact},
                    reverse("coaches:stylereport-create", args=[person["id"]]),
                    _("Record the style %(coach)s reports") % {"coach": coach.contact},
                    # Or ask for it: a task for the coach's holder (agenda.services.style_request).
                    ask={
                        "coach": coach.pk,
                        "contact": person["id"],
                        "label": _("or ask %(coach)s (a task for his holder)") % {"coach": coach.contact},
                    },
                )
            else:
                gap(
                    "style_unknown",
                    _("The %(role)s's style is unknown (%(name)s), and we have no coach here to ask.")
                    % {"role": role, "name": person["name"]},
                    f"{reverse('coaches:coach-create')}?{urlencode({'account': account_id})}",
                    _("Record a coach"),
                )
        if powerful and person["stance"] is None:
            gap(
                "stance_unknown",
                _("We do not know where %(name)s (%(role)s) stands.")
                % {"name": person["name"], "role": OpportunityContact.Role(powerful[0]).label.lower()},
                f"{form_url(person)}?{urlencode({'contact': person['id']})}#committee-form",
                _("Record the stance"),
            )
    holders = {name for person in people for name in person["holders"]}
    if people and not holders:
        gap(
            "no_relationship",
            _("Nobody in our team holds a relationship with anyone here."),
            f"{form_url(None)}?edit=1#committee-form",
            _("Name who holds each person"),
        )
    elif len(holders) == 1:
        gap(
            "single_threaded",
            _("Single-threaded: only %(name)s knows anyone here.") % {"name": next(iter(holders))},
            f"{form_url(None)}?edit=1#committee-form",
            _("Bring in a second colleague"),
        )
    for person in people:
        stance = person["stance"]
        if stance and stance["stance"] == Stance.OPPONENT and POWER_ROLES & set(person["roles"]) and not stance["note"]:
            gap(
                "opponent_no_plan",
                _("%(name)s opposes us, has power over the decision, and there is no plan for him.")
                % {"name": person["name"]},
                f"{form_url(person)}?"
                f"{urlencode({'contact': person['id'], 'stance': Stance.OPPONENT.value})}#committee-form",
                _("Write the plan"),
            )
    return gaps
