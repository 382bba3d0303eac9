"""A rep's departure: flag his at-risk coaches, hand them over, and move what he owned on the date.

Services (writes) for the departure flow. They live in their own app, above team, accounts,
coaches and pipeline, because they move what those apps own (and build on the coach services,
which themselves use `team.services.notify`).
"""

import datetime
import logging
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

import access
from accounts.models import Account
from coachcrm import jobs
from coachcrm.bulk import bulk_update_with_history
from coachcrm.inputs import date_check
from coachcrm.notes import note_facts
from coaches import services as coach_services
from coaches.models import Coach, Handover, Holder
from coaches.selectors import successor_propose
from coaches.visibility import visible_refresh
from departures import selectors, tasks
from pipeline.models import Opportunity
from pipeline.stage_facts import stage_owners_refresh
from team.models import User
from team.services import Notice, api_tokens_revoke, notify, notify_many
from webhooks.services import events_emit

logger = logging.getLogger(__name__)

CHUNK = 500


def _check_may_manage(*, user: User, by: User) -> None:
    if not access.may_manage_departure(by, user):
        raise ValidationError(_("Only %(name)s's manager or an admin can do this.") % {"name": user})


def departure_check(*, user: User, departure_date: datetime.date, by: User) -> None:
    """Refuse a departure that may not start (the confirmation page asks before anything is written)."""
    _check_may_manage(user=user, by=by)
    if user.pk == by.pk:
        raise ValidationError(_("You cannot start your own departure; ask your manager or an admin."))
    if user.status == User.Status.DEPARTED:
        raise ValidationError(_("%(name)s has already departed.") % {"name": user})
    if departure_date < timezone.localdate():
        raise ValidationError({"departure_date": _("The departure date cannot be in the past.")})
    date_check(departure_date, field="departure_date")
    if user.manager_id is None:
        raise ValidationError(
            _("%(name)s has no manager to take over what nobody else can; set his manager first.") % {"name": user}
        )


@transaction.atomic
def user_mark_leaving(*, user: User, departure_date: datetime.date, by: User) -> User:
    """Mark a rep as leaving on a date; his at-risk coaches are flagged by a task once this commits.

    The flagging goes through the outbox: with the broker down the departure is still saved and
    the job waits (`jobs.delayed()` tells the page and the API), sent by the relay once it is back.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    departure_check(user=user, departure_date=departure_date, by=by)
    user.status = User.Status.LEAVING
    user.departure_date = departure_date
    user.save(update_fields=["status", "departure_date"])
    if user.departure_flagged_at is None:
        jobs.enqueue(tasks.departure_flag_at_risk_task, key=f"departure-flag:{user.pk}", user_id=user.pk)
    return user


@transaction.atomic
def user_departure_cancel(*, user: User, by: User) -> dict:
    """Call off a rep's departure before it happens: he stays, and what the departure did is undone.

    The handovers it opened and that are still open are cancelled (their successors are told), and
    the at-risk flags it set are cleared — only where the flag is still the departure's, so a flag
    somebody set since stays. Idempotent: a rep who is not leaving is left alone.
    """
    _check_may_manage(user=user, by=by)
    user = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    if user.status == User.Status.DEPARTED:
        raise ValidationError(
            _("%(name)s has already departed; a departure is undone only before its date.") % {"name": user}
        )
    if user.status != User.Status.LEAVING:
        return {"handovers": 0, "coaches": 0}
    reason = f"departure of {user.username} cancelled"
    handovers = list(Handover.objects.open().filter(from_user=user).select_related("coach", "to_user"))
    for handover in handovers:
        handover.status = Handover.Status.CANCELLED
    bulk_update_with_history(handovers, Handover, ["status"], batch_size=CHUNK, default_change_reason=reason)
    flagged = [h.coach for h in handovers if h.coach.at_risk and h.coach.at_risk_facts == h.reason_facts]
    coach_services.coaches_clear_at_risk(coaches=flagged, reason=reason, batch_size=CHUNK)
    user.status, user.departure_date, user.departure_flagged_at = User.Status.ACTIVE, None, None
    user.save(update_fields=["status", "departure_date", "departure_flagged_at"])
    per_successor = defaultdict(int)
    for handover in handovers:
        per_successor[handover.to_user] += 1
    notify_many(
        notices=[
            Notice(
                user=successor,
                message=gettext_lazy("%(name)s is staying: %(count)s handover(s) to you are cancelled."),
                params={"name": user, "count": count},
                link=reverse("departures:handover-list"),
            )
            for successor, count in per_successor.items()
        ]
    )
    logger.info(
        "Departure of user %s cancelled by %s: %s handover(s) cancelled, %s flag(s) cleared",
        user.pk,
        by.pk,
        len(handovers),
        len(flagged),
    )
    return {"handovers": len(handovers), "coaches": len(flagged)}


def _at_risk_facts(*, user: User, coach: Coach) -> dict:
    """Why the coach is at risk, as facts each reader gets in his language (coachcrm.notes)."""
    if coach.holder_count <= 1:
        return note_facts("leaving_only_holder", name=user, date=user.departure_date)
    return note_facts("leaving_not_kept_warm", name=user, date=user.departure_date, days=settings.COACH_STALE_DAYS)


@transaction.atomic
def departure_flag_at_risk(*, user_id: int) -> int:
    """Flag every coach a leaving rep holds that nobody else keeps warm, and open a handover for each.

    At risk: he is the only holder, or no other active holder logged an interaction in
    COACH_STALE_DAYS. Idempotent: a coach that already has a handover from him is skipped.
    A fixed number of queries whatever the number of coaches (plus one notice per successor).
    """
    # The row lock serialises concurrent runs, so two workers cannot open the same handovers.
    user = User.objects.select_for_update(of=("self",)).select_related("manager").filter(pk=user_id).first()
    if user is None or user.status != User.Status.LEAVING:
        return 0
    coaches = list(selectors.departure_at_risk_coaches(user=user).select_related("account__owner", "contact"))
    if coaches:
        successors = successor_propose(accounts=[coach.account for coach in coaches], leaving=user)
        flags = [(coach, _at_risk_facts(user=user, coach=coach)) for coach in coaches]
        coach_services.coaches_flag_at_risk(flags=flags, batch_size=CHUNK)
        due_on = timezone.localdate() + datetime.timedelta(days=settings.HANDOVER_DUE_DAYS)
        handovers = [
            Handover(
                coach=coach,
                from_user=user,
                to_user=successors[coach.account_id],
                reason_facts=why,
                due_on=due_on,
            )
            for coach, why in flags
        ]
        handovers = bulk_create_with_history(handovers, Handover, batch_size=CHUNK, default_change_reason="departure")
        events_emit(event="handover.opened", items=[coach_services.handover_event_data(h) for h in handovers])
        per_successor = defaultdict(int)
        for handover in handovers:
            per_successor[handover.to_user] += 1
        notify_many(
            notices=[
                Notice(
                    user=successor,
                    message=gettext_lazy(
                        "%(name)s is leaving: %(count)s coach relationship(s) are handed over to you."
                    ),
                    params={"name": user, "count": count},
                    link=reverse("departures:handover-list"),
                )
                for successor, count in per_successor.items()
            ]
        )
    User.objects.filter(pk=user.pk).update(departure_flagged_at=timezone.now())
    return len(coaches)


@transaction.atomic
def handover_reassign(*, handover: Handover, to_user: User, by: User) -> Handover:
    """Give an open handover to another successor (the manager knows better than the rules)."""
    handover = Handover.objects.select_for_update().select_related("from_user", "coach").get(pk=handover.pk)
    _check_may_manage(user=handover.from_user, by=by)
    if handover.status != Handover.Status.OPEN:
        raise ValidationError(
            _("This handover is %(status)s; only an open one can change hands.")
            % {"status": handover.get_status_display().lower()}
        )
    if to_user.pk == handover.from_user_id:
        raise ValidationError({"to_user": _("Choose someone other than the leaving rep.")})
    if not (to_user.is_active and to_user.status == User.Status.ACTIVE):
        raise ValidationError({"to_user": _("%(name)s is not an active user who is staying.") % {"name": to_user}})
    if to_user.pk == handover.to_user_id:
        raise ValidationError({"to_user": _("%(name)s is already the successor.") % {"name": to_user}})
    handover.to_user = to_user
    handover.save(update_fields=["to_user"])
    notify(
        user=to_user,
        message=gettext_lazy("%(name)s's coach %(coach)s is handed over to you."),
        params={"name": handover.from_user, "coach": handover.coach},
        link=reverse("departures:handover-list"),
    )
    coach_services.handovers_mark_done(coach_ids=[handover.coach_id])
    handover.refresh_from_db()
    return handover


def _latest_handover_to(*, user: User, **match: OuterRef) -> Subquery:
    """The successor of the user's latest (not cancelled) handover matching the outer row."""
    return Subquery(
        Handover.objects.filter(from_user=user, **match)
        .exclude(status=Handover.Status.CANCELLED)
        .order_by("-created_at", "-pk")
        .values("to_user")[:1]
    )


def _accounts_move(*, user: User, today: datetime.date, reason: str) -> int:
    # The account goes where its coaches went (the successor the manager confirmed), else to
    # the proposal. Chunks of CHUNK rows: each chunk leaves the `owner=user` set, so the loop ends.
    why = note_facts("departure", previous=user, date=today)
    moved = 0
    while chunk := list(
        Account.objects.filter(owner=user)
        .select_related("owner")
        .annotate(handover_to=_latest_handover_to(user=user, coach__account=OuterRef("pk")))
        .order_by("pk")[:CHUNK]
    ):
        proposals = successor_propose(accounts=[a for a in chunk if a.handover_to is None], leaving=user)
        for account in chunk:
            successor = account.handover_to or getattr(proposals.get(account.pk), "pk", None)
            if successor is None:
                raise ValidationError(_("Nobody can take over %(account)s.") % {"account": account})
            account.owner_id = successor
            account.assignment_facts, account.assignment_note = why, ""
        bulk_update_with_history(
            chunk,
            Account,
            ["owner", "assignment_facts", "assignment_note"],
            batch_size=CHUNK,
            default_change_reason=reason,
        )
        visible_refresh(accounts=[account.pk for account in chunk])  # who sees them (bulk: no signal)
        moved += len(chunk)
    return moved


def _opportunities_move(*, user: User, reason: str) -> int:
    # Open deals follow their account's (new) owner; at someone else's account whose owner is
    # not staying, the proposal decides.
    moved = 0
    while chunk := list(
        Opportunity.objects.open().filter(owner=user).select_related("account__owner").order_by("pk")[:CHUNK]
    ):
        proposals = successor_propose(accounts=[deal.account for deal in chunk], leaving=user)
        for deal in chunk:
            successor = proposals[deal.account_id]
            if successor is None:
                raise ValidationError(_("Nobody can take over %(deal)s.") % {"deal": deal})
            deal.owner = successor
        bulk_update_with_history(chunk, Opportunity, ["owner"], batch_size=CHUNK, default_change_reason=reason)
        stage_owners_refresh([deal.pk for deal in chunk])  # their moves carry the new owner (the dashboard)
        moved += len(chunk)
    return moved


def _holders_move(*, user: User, today: datetime.date, reason: str) -> int:
    # Each relationship he holds goes to the handover's successor; where there is none (a
    # healthy co-holder keeps it) or the successor already holds it, his row is removed — the
    # holder history keeps it — and a removed primary is succeeded by the next holder.
    rows = list(
        Holder.objects.filter(user=user)
        .select_related("coach__account__owner")
        .annotate(handover_to=_latest_handover_to(user=user, coach=OuterRef("coach_id")))
    )
    others = defaultdict(set)
    for coach_id, holder_id in (
        Holder.objects.filter(coach__in=[row.coach_id for row in rows])
        .exclude(user=user)
        .values_list("coach_id", "user_id")
    ):
        others[coach_id].add(holder_id)
    proposals = successor_propose(
        accounts=[row.coach.account for row in rows if row.handover_to is None and not others[row.coach_id]],
        leaving=user,
    )
    moving, leaving_rows = [], []
    for row in rows:
        successor = row.handover_to
        if successor is None and not others[row.coach_id]:
            successor = getattr(proposals.get(row.coach.account_id), "pk", None)
        if successor is not None and successor not in others[row.coach_id]:
            row.user_id, row.since = successor, today
            moving.append(row)
        elif others[row.coach_id]:
            leaving_rows.append(row)
    # A moved row changes hands, not the coach's number of holders (`Coach.holder_count`); a
    # removed one goes through holder_remove, which keeps that number.
    bulk_update_with_history(moving, Holder, ["user", "since"], batch_size=CHUNK, default_change_reason=reason)
    visible_refresh(accounts={row.coach.account_id for row in moving})  # who sees them (bulk: no signal)
    for row in leaving_rows:
        coach_services.holder_remove(holder=row, by=user)
    return len(moving)


@transaction.atomic
def user_depart(*, user_id: int, today: datetime.date | None = None) -> dict:
    """On or after his date, the leaving rep departs: no more login, and all he owned moves to successors.

    Nothing is deleted and he stays the author of everything he did. Idempotent: a departed
    rep is left alone.
    """
    today = today or timezone.localdate()
    user = User.objects.select_for_update(of=("self",)).select_related("manager").filter(pk=user_id).first()
    if user is None or user.status == User.Status.DEPARTED:
        return {}
    if user.status != User.Status.LEAVING or user.departure_date > today:
        raise ValidationError(_("%(name)s is not due to depart yet.") % {"name": user})
    # Coaches he took on since he was marked get their handovers too.
    departure_flag_at_risk(user_id=user.pk)
    # The change history's reason is a record for audits, not a sentence for a reader: one
    # fixed wording (like "lapse job"), never the language of the worker that ran the job.
    reason = f"departure of {user.username}"
    result = {
        "holders": _holders_move(user=user, today=today, reason=reason),
        "accounts": _accounts_move(user=user, today=today, reason=reason),
        "opportunities": _opportunities_move(user=user, reason=reason),
    }
    # He was somebody's successor: those handovers go to his manager.
    taken = list(Handover.objects.open().filter(to_user=user))
    for handover in taken:
        handover.to_user = user.manager
    bulk_update_with_history(taken, Handover, ["to_user"], batch_size=CHUNK, default_change_reason=reason)
    user.status = User.Status.DEPARTED
    user.is_active = False
    user.save(update_fields=["status", "is_active"])
    api_tokens_revoke(user=user)
    notify(
        user=user.manager,
        message=gettext_lazy(
            "%(name)s has departed: %(accounts)s account(s) and %(deals)s open deal(s) moved to successors."
        ),
        params={"name": user, "accounts": result["accounts"], "deals": result["opportunities"]},
        link=reverse("departures:departure-detail", args=[user.pk]),
    )
    return result


def departures_sweep(*, today: datetime.date | None = None) -> dict:
    """Daily: enqueue flagging still missing, depart the reps whose date has come, close done handovers."""
    today = today or timezone.localdate()
    leaving = User.objects.filter(status=User.Status.LEAVING)
    missed = list(leaving.filter(departure_flagged_at__isnull=True).values_list("pk", flat=True))
    due = list(leaving.filter(departure_date__lte=today).values_list("pk", flat=True))
    # Missed flagging: departures marked before the outbox (or by a script around the service).
    jobs.enqueue_many(tasks.departure_flag_at_risk_task, {f"departure-flag:{pk}": {"user_id": pk} for pk in missed})
    jobs.enqueue_many(tasks.user_depart_task, {f"user-depart:{pk}": {"user_id": pk} for pk in due})
    done = coach_services.handovers_mark_done()
    return {"flagging": len(missed), "departing": len(due), "handovers_done": done}


@transaction.atomic
def handovers_remind(*, today: datetime.date | None = None, days_ahead: int = 3) -> int:
    """Daily: tell each successor how many of his handovers are due within `days_ahead` days or overdue, once a day."""
    today = today or timezone.localdate()
    due = Handover.objects.due_by(today + datetime.timedelta(days=days_ahead)).exclude(reminded_on=today)
    per_successor = list(
        due.values("to_user")
        .annotate(count=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today)))
        .order_by("to_user")
    )
    users = User.objects.in_bulk([row["to_user"] for row in per_successor])
    notify_many(
        notices=[
            Notice(
                user=users[row["to_user"]],
                message=gettext_lazy(
                    "%(count)s handover(s) due within %(days)s days, %(overdue)s overdue: "
                    "hold the coach and log a touch."
                ),
                params={"count": row["count"], "days": days_ahead, "overdue": row["overdue"]},
                link=reverse("departures:handover-list"),
            )
            for row in per_successor
        ]
    )
    due.update(reminded_on=today)
    return len(per_successor)
