# Reads for the rep's day: the Today sections, a user's task list.
import datetime

from django.db import connection
from django.db.models import Case, F, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext as _

import access
from accounts.models import Account, Contact, Employment
from agenda.models import DigestOptOut, Task
from coaches.models import Coach, Handover
from pipeline.models import Opportunity, StageChange
from team.models import User

# Rows per Today section; the rest are one "show all" link away.
SECTION_LIMIT = 20
# Handovers show up this many days before they are due.
HANDOVER_SOON_DAYS = 7


def task_rows(*, user: User) -> QuerySet[Task]:
    """Tasks the user may see, with what a row shows (owner, links)."""
    return access.tasks(user).select_related(
        "owner", "coach__contact", "coach__account", "account", "opportunity", "handover"
    )


def today(*, user: User, day: datetime.date | None = None, once: bool | list[int] = False) -> dict:
    """The rep's day, in the order he works it: one query per section whatever the number of rows.

    `once`: the user's visible accounts, when the page has evaluated them already (`access.account_ids`).
    """
    day = day or timezone.localdate()
    # His own coaches (as a holder) and handovers (as the successor), within what access lets him see.
    mine = access.coaches(user, Coach.objects.active().filter(holders__user=user)).select_related("contact", "account")
    # A rep's evaluated accounts (~170) as constants; a manager's thousands cost more to plan (~4 ms
    # a query) than the subquery costs over his own few deals, which PostgreSQL reads first.
    short = isinstance(once, list) and len(once) <= access.ID_LIST_MAX
    deals = access.opportunities(user, Opportunity.objects.open().filter(owner=user), once=once if short else False)
    sections = {
        # His own tasks: their row links a deal, a coach (by name) or an account, never their owner
        # (him) nor a handover; the joins of `task_rows` for those were 2.7 ms of planning a request.
        "tasks": access.tasks(user)
        .filter(owner=user)
        .due_by(day)
        .select_related("coach__contact", "account", "opportunity")
        .order_by("due_on", F("due_time").asc(nulls_last=True), "pk"),
        "touches": mine.filter(next_touch_due__lte=day).order_by("next_touch_due", "pk"),
        # Expired or expiring within COACH_VERIFY_WARN_DAYS (coaches.models, the date the gate reads):
        # the soonest to expire first, expired ones before them, their deals are going back.
        "verify": mine.verification_due(day).order_by("verified_since", "pk"),
        "handovers": access.handovers(user, Handover.objects.due_by(day + datetime.timedelta(days=HANDOVER_SOON_DAYS)))
        .filter(to_user=user)
        .select_related("coach__contact", "coach__account", "from_user")
        .order_by("due_on", "pk"),
        "held_back": _deals_first(deals.filter(held_back=True), ("held_back_since", "pk")),
        "past_close": _deals_first(deals.filter(expected_close__lt=day), ("expected_close", "pk")),
    }
    # One more row than shown tells the page there are more, without a COUNT per section.
    rows = {name: list(queryset[: SECTION_LIMIT + 1]) for name, queryset in sections.items()}
    return {
        "day": day,
        "sections": {name: items[:SECTION_LIMIT] for name, items in rows.items()},
        "more": {name: len(items) > SECTION_LIMIT for name, items in rows.items()},
    }


def _deals_first(deals: QuerySet[Opportunity], order: tuple) -> QuerySet[Opportunity]:
    """A deal section's first rows found, sorted and cut on the deals alone, then joined to their account and stage.

    Joined first, PostgreSQL estimated a rep's ~300 open deals at 190 and hashed all 20,000
    accounts to join them before keeping 21 (11 ms at the benchmark's full size).
    """
    first = deals.order_by(*order).values("pk")[: SECTION_LIMIT + 1]
    return Opportunity.objects.filter(pk__in=first).select_related("account", "stage").order_by(*order)


# Rows per kind in the search answer; the lists behind them have their own search.
SEARCH_LIMIT = 8
# Fewer characters than this match too much to be useful ("a").
SEARCH_MIN_LENGTH = 2


def search(*, user: User, q: str) -> dict:
    """Accounts, people, coaches and deals the user may see, matching by name, e-mail, phone or account.

    A case-insensitive substring match (`icontains`): on PostgreSQL the trigram indexes of
    agenda's migrations 0002 and 0005 (people: one on their joined fields) answer it, on SQLite
    a LIKE. Every kind goes through `access`, so nothing out of the user's scope ever appears.
    One query per kind whatever the data. On PostgreSQL the coaches and deals are
    sorted and cut to a page before their joins, and the deals matched as two halves (see below);
    SQLite keeps the plain LIKE queries. `tests/agenda/test_search.py` holds the search as it was
    as an oracle.
    """
    q = " ".join(q.split())
    if len(q) < SEARCH_MIN_LENGTH:
        return {"q": q, "groups": {}, "too_short": bool(q)}
    named_accounts = Account.objects.filter(name__icontains=q).values("pk")
    if user.is_admin:
        # Nothing narrows an admin's scope, so each term is read where its own index answers it:
        # as an OR across joins (the coach's person or his account's name) no index applied and
        # every one of the 15,000 coaches was joined and filtered (432 -> 138 ms under load).
        coach_match = Q(
            pk__in=Coach.objects.filter(contact_id__in=Contact.objects.matching(q).values("pk"))
            .order_by()
            .values("pk")
            .union(Coach.objects.filter(account_id__in=named_accounts).order_by().values("pk"))
        )
    else:
        # A rep's or manager's scope is the short list: filtering it is cheaper than matching everyone
        # (the id sets above took a rep's coaches from 14 to 95 ms).
        coach_match = (
            Q(contact__first_name__icontains=q)
            | Q(contact__last_name__icontains=q)
            | Q(contact__email__icontains=q)
            | Q(contact__phone__icontains=q)
            | Q(account__name__icontains=q)
        )
        if " " in q:
            first, _space, last = q.partition(" ")
            coach_match |= Q(contact__first_name__icontains=first, contact__last_name__icontains=last)
    if connection.vendor == "postgresql":
        # Through the join, so that PostgreSQL estimates the account's name from its statistics (as
        # `account_id IN (named accounts)` it guessed half the deals matched, and walked all of them
        # in order for a fragment that matches nothing).
        deal_match = Q(name__icontains=q) | Q(account__name__icontains=q)
    else:
        deal_match = Q(name__icontains=q) | Q(account_id__in=named_accounts)
    groups = {
        "accounts": (access.accounts(user).filter(name__icontains=q), ("name", "pk"), ()),
        "contacts": (
            access.contacts(user).matching(q),
            ("last_name", "first_name", "pk"),
            (),
        ),
        "coaches": (
            access.coaches(user).filter(coach_match),
            ("status", "-established_on", "pk"),
            ("contact", "account"),
        ),
        "opportunities": (
            access.opportunities(user).filter(deal_match),
            # Open deals first, newest first.
            (Case(When(status=Opportunity.Status.OPEN, then=0), default=1), "-created_at", "pk"),
            ("account", "stage"),
        ),
    }
    if connection.vendor == "postgresql":
        # A deal matches by its own name or its account's: each half sorted and cut to a page on its
        # own, then the two pages merged. Each half is a plain condition PostgreSQL estimates from
        # its statistics, so a common fragment walks the deals in the search's order (agenda 0008)
        # and stops at the eighth, and a rare one goes through its trigram index. (As an OR with the
        # named accounts' subquery it guessed half the deals matched whatever the fragment, and a
        # rare one walked all 100,000.) Everyone's visible accounts are a range of the kept
        # (user, account) index (coaches.VisibleAccount), estimated from its statistics.
        _deals, order, related = groups["opportunities"]
        halves = [
            access.opportunities(user).filter(match).order_by(*order).values("pk")[:SEARCH_LIMIT]
            for match in (Q(name__icontains=q), Q(account__name__icontains=q))
        ]
        groups["opportunities"] = (Opportunity.objects.filter(pk__in=halves[0].union(halves[1])), order, related)
        cut = {"opportunities"}
    else:
        cut = set()
    found = {}
    for name, (rows, order, related) in groups.items():
        rows = rows.order_by(*order)
        if related and connection.vendor == "postgresql" and name not in cut:
            # The page's rows found, sorted and cut on their own table, then joined: the joins for
            # every match (an admin's 1,400 coaches for "bor") cost more than the match.
            model = rows.model
            rows = model.objects.filter(pk__in=rows.values("pk")[:SEARCH_LIMIT]).order_by(*order)
        if related:
            rows = rows.select_related(*related)
        found[name] = list(rows[:SEARCH_LIMIT])
    return {"q": q, "groups": found, "too_short": False}


# Entries of a timeline (newest first); older ones are on the records' own lists.
TIMELINE_LIMIT = 50


def _entry(at, kind: str, text: str, by=None, link: str = "", detail: str = "") -> dict:
    # A day (a touch, a position) sorts after everything timed on that day: its time is unknown.
    if isinstance(at, datetime.date) and not isinstance(at, datetime.datetime):
        at = datetime.datetime.combine(at, datetime.time.max, tzinfo=timezone.get_current_timezone())
    return {"at": at, "kind": kind, "text": text, "by": by, "link": link, "detail": detail}


def timeline(*, user: User, account=None, contact=None, opportunity=None) -> list[dict]:
    """One timeline of an account, a person or a deal, newest first: touches with its coaches (only
    those the user may see), stage changes, grants, tasks done, job changes and notes.

    One query per source, each cut at TIMELINE_LIMIT, whatever the history's length.
    """
    limit = TIMELINE_LIMIT
    if account is not None:
        on = {"interactions": Q(coach__account=account), "changes": Q(opportunity__account=account),
              "grants": Q(account=account), "tasks": Q(account=account), "jobs": Q(account=account),
              "notes": Q(account=account)}  # fmt: skip
    elif contact is not None:
        on = {"interactions": Q(coach__contact=contact), "changes": None, "grants": Q(recipient=contact),
              "tasks": Q(coach__contact=contact), "jobs": Q(contact=contact), "notes": Q(contact=contact)}  # fmt: skip
    else:
        on = {"interactions": None, "changes": Q(opportunity=opportunity), "grants": Q(opportunity=opportunity),
              "tasks": Q(opportunity=opportunity), "jobs": None, "notes": Q(opportunity=opportunity)}  # fmt: skip
    entries = []
    if on["interactions"] is not None:
        for i in access.interactions(user).filter(on["interactions"]).select_related("user", "coach__contact")[:limit]:
            entries.append(
                _entry(i.occurred_on, "touch", f"{i.get_kind_display()} · {i.coach.contact}", i.user,
                       i.coach.get_absolute_url(), i.note)
            )  # fmt: skip
    if on["changes"] is not None:
        changes = access.opportunities(user, Opportunity.objects.all()).values("pk")
        rows = (
            StageChange.objects.filter(on["changes"], opportunity__in=changes)
            .select_related("opportunity", "to_stage", "by")
            .order_by("-at", "-pk")[:limit]
        )
        for c in rows:
            entries.append(
                _entry(c.at, "stage", f"{c.opportunity.name} → {c.to_stage.label}", c.by,
                       c.opportunity.get_absolute_url(), c.reason_display)
            )  # fmt: skip
    for g in access.grants(user).filter(on["grants"]).select_related("item", "rep").order_by("-created_at")[:limit]:
        entries.append(_entry(g.created_at, "grant", f"{g.item} ({g.quantity}) · {g.get_status_display()}", g.rep,
                              g.get_absolute_url()))  # fmt: skip
    done = access.tasks(user).done().filter(on["tasks"]).select_related("owner").order_by("-done_at")[:limit]
    for t in done:
        entries.append(_entry(t.done_at, "task", _("Done: %(subject)s.") % {"subject": t.subject}, t.owner))
    if on["jobs"] is not None:
        jobs = access.employments(user, Employment.objects.filter(on["jobs"])).select_related("contact", "account")
        for e in jobs.order_by("-start_date", "-pk")[:limit]:
            who = f"{e.contact} · {e.title} · {e.account.name}"
            if e.end_date:
                entries.append(
                    _entry(e.end_date, "job", _("Left: %(who)s") % {"who": who}, link=e.contact.get_absolute_url())
                )
            entries.append(
                _entry(e.start_date, "job", _("Started: %(who)s") % {"who": who}, link=e.contact.get_absolute_url())
            )
    for n in access.notes(user).filter(on["notes"]).select_related("author")[:limit]:
        entries.append(_entry(n.created_at, "note", n.text, n.author))
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    return entries[:limit]


def digest_is_off(*, user: User) -> bool:
    """Whether the user opted out of the daily digest."""
    return DigestOptOut.objects.filter(user=user).exists()
