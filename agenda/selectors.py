# Reads for the rep's day: the Today sections, a user's task list.
import datetime

from django.conf import settings
from django.db.models import F, Q, QuerySet
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
