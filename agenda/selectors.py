# Reads for the rep's day: the Today sections, a user's task list.
import datetime

from django.conf import settings
from django.db.models import Case, F, Q, QuerySet, When
from django.utils import timezone

import access
from agenda.models import Task
from coaches.models import Coach, Handover
from pipeline.models import Opportunity
from team.models import User

# Rows per Today section; the rest are one "show all" link away.
SECTION_LIMIT = 20
# Coaches show up for verification this many days before they count as unverified.
VERIFY_SOON_DAYS = 14
# Handovers show up this many days before they are due.
HANDOVER_SOON_DAYS = 7


def task_rows(*, user: User) -> QuerySet[Task]:
    """Tasks the user may see, with what a row shows (owner, links)."""
    return access.tasks(user).select_related(
        "owner", "coach__contact", "coach__account", "account", "opportunity", "handover"
    )


def today(*, user: User, day: datetime.date | None = None) -> dict:
    """The rep's day, in the order he works it: one query per section whatever the number of rows."""
    day = day or timezone.localdate()
    mine = Coach.objects.active().filter(holders__user=user).select_related("contact", "account")
    verify_cutoff = day - datetime.timedelta(days=settings.COACH_UNVERIFIED_DAYS - VERIFY_SOON_DAYS)
    deals = access.opportunities(user, Opportunity.objects.open().filter(owner=user)).select_related("account", "stage")
    sections = {
        "tasks": task_rows(user=user)
        .filter(owner=user)
        .due_by(day)
        .order_by("due_on", F("due_time").asc(nulls_last=True), "pk"),
        "touches": mine.filter(next_touch_due__lte=day).order_by("next_touch_due", "pk"),
        "verify": mine.filter(
            Q(last_verified_on__lt=verify_cutoff) | Q(last_verified_on__isnull=True, established_on__lt=verify_cutoff)
        ).order_by(F("last_verified_on").asc(nulls_first=True), "established_on", "pk"),
        "handovers": Handover.objects.due_by(day + datetime.timedelta(days=HANDOVER_SOON_DAYS))
        .filter(to_user=user)
        .select_related("coach__contact", "coach__account", "from_user")
        .order_by("due_on", "pk"),
        "held_back": deals.filter(held_back=True).order_by("held_back_since", "pk"),
        "past_close": deals.filter(expected_close__lt=day).order_by("expected_close", "pk"),
    }
    # One more row than shown tells the page there are more, without a COUNT per section.
    rows = {name: list(queryset[: SECTION_LIMIT + 1]) for name, queryset in sections.items()}
    return {
        "day": day,
        "sections": {name: items[:SECTION_LIMIT] for name, items in rows.items()},
        "more": {name: len(items) > SECTION_LIMIT for name, items in rows.items()},
    }


# Rows per kind in the search answer; the lists behind them have their own search.
SEARCH_LIMIT = 8
# Fewer characters than this match too much to be useful ("a").
SEARCH_MIN_LENGTH = 2


def search(*, user: User, q: str) -> dict:
    """Accounts, people, coaches and deals the user may see, matching by name, e-mail, phone or account.

    A case-insensitive substring match (`icontains`): on PostgreSQL the trigram indexes of
    agenda's migration 0002 answer it, on SQLite a LIKE. Every kind goes through `access`,
    so nothing out of the user's scope ever appears. Four queries whatever the data.
    """
    q = " ".join(q.split())
    if len(q) < SEARCH_MIN_LENGTH:
        return {"q": q, "groups": {}, "too_short": bool(q)}
    person = Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q) | Q(phone__icontains=q)
    if " " in q:
        first, _space, last = q.partition(" ")
        person |= Q(first_name__icontains=first, last_name__icontains=last)
    coach_person = (
        Q(contact__first_name__icontains=q)
        | Q(contact__last_name__icontains=q)
        | Q(contact__email__icontains=q)
        | Q(contact__phone__icontains=q)
        | Q(account__name__icontains=q)
    )
    if " " in q:
        coach_person |= Q(contact__first_name__icontains=first, contact__last_name__icontains=last)
    groups = {
        "accounts": access.accounts(user).filter(name__icontains=q).order_by("name", "pk"),
        "contacts": access.contacts(user).filter(person).order_by("last_name", "first_name", "pk"),
        "coaches": access.coaches(user)
        .filter(coach_person)
        .select_related("contact", "account")
        .order_by("status", "-established_on", "pk"),
        "opportunities": access.opportunities(user)
        .filter(Q(name__icontains=q) | Q(account__name__icontains=q))
        .select_related("account", "stage")
        # Open deals first, newest first.
        .order_by(Case(When(status=Opportunity.Status.OPEN, then=0), default=1), "-created_at", "pk"),
    }
    return {"q": q, "groups": {name: list(rows[:SEARCH_LIMIT]) for name, rows in groups.items()}, "too_short": False}
