# Every write to coaches: record, verify, status, holders, interactions, at-risk flags, lapses, style reports.
import datetime
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account, Contact, Employment
from coachcrm.bulk import bulk_update_with_history
from coachcrm.inputs import date_check
from coachcrm.merge import references_move
from coachcrm.notes import note_facts
from coaches import signals
from coaches.models import (
    VALIDITY_CRITERIA,
    BuyingStyle,
    Coach,
    CoachMove,
    CoachRequirement,
    Handover,
    Holder,
    Interaction,
    Stance,
    StanceReport,
    StyleReport,
    holders_counted,
)
from coaches.selectors import account_meets
from team.models import User
from team.services import Notice, notify_many
from webhooks.services import events_emit


def handover_event_data(handover: Handover) -> dict:
    """A handover in a webhook payload."""
    return {
        "handover": handover.pk,
        "coach": handover.coach_id,
        "from_user": handover.from_user_id,
        "to_user": handover.to_user_id,
        "status": handover.status,
        "due_on": handover.due_on,
    }


def coach_event_data(coach: Coach) -> dict:
    """A coach in a webhook payload: ids and the state a receiver acts on."""
    return {
        "coach": coach.pk,
        "account": coach.account_id,
        "contact": coach.contact_id,
        "status": coach.status,
        "at_risk": coach.at_risk,
    }


CRITERIA = [
    "strength",
    "credible",
    "credible_note",
    "trusts_us",
    "trusts_us_note",
    "wants_us_to_win",
    "wants_us_to_win_note",
    "has_power",
]


def holder_counts_refresh(*, coach_ids=(), coaches: tuple[Coach, ...] = ()) -> None:
    """Set `Coach.holder_count` to the number of holders of these coaches, counted afresh.

    Every write that adds, removes or moves holder rows calls it in its transaction; `coaches`
    are instances in hand, given the counts just written. The rows are locked first, in a
    statement of their own, so that a concurrent holder change has committed before the count
    starts and is counted (NO KEY UPDATE: a holder insert's key-share lock does not block it).
    """
    ids = sorted(set(coach_ids) | {coach.pk for coach in coaches})
    if not ids:
        return
    list(Coach.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    Coach.objects.filter(pk__in=ids).update(holder_count=holders_counted())
    if coaches:
        counts = dict(Coach.objects.filter(pk__in=[coach.pk for coach in coaches]).values_list("pk", "holder_count"))
        for coach in coaches:
            coach.holder_count = counts[coach.pk]


@transaction.atomic
def holder_counts_rebuild() -> int:
    """Recount every coach's holders (`manage.py holder_counts_refresh`); how many coaches had a wrong count."""
    wrong = Coach.objects.annotate(live=holders_counted()).exclude(holder_count=F("live")).values_list("pk", flat=True)
    return Coach.objects.filter(pk__in=list(wrong)).update(holder_count=holders_counted())


def _check_coach_can_be_active(*, contact: Contact, account: Account, exclude_pk: int | None = None) -> None:
    if not contact.employments.current().filter(account=account).exists():
        raise ValidationError(
            {
                "contact": _("%(name)s does not currently work at %(account)s. Add the position first.")
                % {"name": contact, "account": account}
            }
        )
    other = Coach.objects.active().filter(contact=contact).exclude(pk=exclude_pk).select_related("account").first()
    if other is not None:
        raise ValidationError(
            {
                "contact": _("%(name)s is already our active coach at %(account)s; end that first.")
                % {"name": contact, "account": other.account}
            }
        )


@transaction.atomic
def coach_record(
    *,
    by: User,
    account: Account,
    contact: Contact,
    strength: str = Coach.Strength.COACH,
    established_on: datetime.date | None = None,
    unconfirmed: bool = False,
    **criteria,
) -> Coach:
    """Record a contact as our coach at his current account; the recorder becomes the primary holder.

    Answering the three validity criteria counts as verifying him today. `unconfirmed` is the
    system's candidate record (a job change): he meets no stage's requirement until verified.
    """
    unknown = set(criteria) - set(CRITERIA)
    if unknown:
        raise TypeError(f"coach_record() got unexpected fields {sorted(unknown)}")
    # Lock the person so two simultaneous recordings cannot both pass the one-active-coach check.
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    _check_coach_can_be_active(contact=contact, account=account)
    today = timezone.localdate()
    established_on = established_on or today
    if established_on > today:
        raise ValidationError({"established_on": _("The established date cannot be in the future.")})
    date_check(established_on, field="established_on", past=True)
    answered = not unconfirmed and all(name in criteria for name in VALIDITY_CRITERIA)
    coach = Coach(
        account=account,
        contact=contact,
        strength=strength,
        established_on=established_on,
        unconfirmed=unconfirmed,
        last_verified_on=today if answered else None,
        # The one holder created below (`holder_counts_refresh` counts for the later writes).
        holder_count=1,
        **criteria,
    )
    coach.touch_due_refresh()
    coach.save()
    Holder.objects.create(coach=coach, user=by, is_primary=True, since=today)
    signals.account_coached.send(sender=Coach, account=account)
    return coach


@transaction.atomic
def coach_verify(*, coach: Coach, by: User, **criteria) -> Coach:
    """Confirm (and correct) the coach's strength and criteria today."""
    unknown = set(criteria) - set(CRITERIA)
    if unknown:
        raise TypeError(f"coach_verify() got unexpected fields {sorted(unknown)}")
    if not coach.is_active:
        raise ValidationError(
            _("Only an active coach can be verified; this one is %(status)s.")
            % {"status": coach.get_status_display().lower()}
        )
    for field, value in criteria.items():
        setattr(coach, field, value)
    coach.last_verified_on = timezone.localdate()
    coach.unconfirmed = False
    # A new strength may bring a new default cadence.
    coach.touch_due_refresh()
    # The fields it changes only: a full save would write back a holder count read before a
    # concurrent holder change.
    coach.save(update_fields=[*criteria, "last_verified_on", "unconfirmed", "next_touch_due"])
    # A verified coach may open gates that were closed to him: the held-back deals are looked at again.
    signals.account_coached.send(sender=Coach, account=coach.account)
    return coach


MAX_CADENCE_DAYS = 365


@transaction.atomic
def coach_set_cadence(*, coach: Coach, by: User, cadence_days: int | None) -> Coach:
    """Set how often the coach should be touched (None: the default for his strength); moves the next touch due."""
    if cadence_days is not None and not 1 <= cadence_days <= MAX_CADENCE_DAYS:
        raise ValidationError(
            {
                "cadence_days": _("Choose between 1 and %(max)s days, or leave it empty for the default.")
                % {"max": MAX_CADENCE_DAYS}
            }
        )
    coach.cadence_days = cadence_days
    coach.touch_due_refresh()
    coach.save(update_fields=["cadence_days", "next_touch_due"])
    return coach


_TRANSITIONS = {
    Coach.Status.ACTIVE: {Coach.Status.LAPSED, Coach.Status.ENDED},
    Coach.Status.LAPSED: {Coach.Status.ACTIVE, Coach.Status.ENDED},
    Coach.Status.ENDED: set(),
}


@transaction.atomic
def coach_set_status(
    *, coach: Coach, status: str, by: User | None, reason: str = "", facts: dict | None = None
) -> Coach:
    """Lapse, end or revive a coach; when the account loses its last active coach its gated deals go back.

    The reason is what a person typed, or `facts` when the system ends it (coachcrm.notes).
    """
    # The account row is the lock the gate and the send-back take too.
    Account.objects.select_for_update().filter(pk=coach.account_id).first()
    coach.refresh_from_db()
    reason = reason.strip()
    if status not in Coach.Status.values:
        raise ValidationError({"status": _("Choose a status: active, lapsed or ended.")})
    if status not in _TRANSITIONS[coach.status]:
        # The API answers this code with 409 (coachcrm.api.CONFLICT_CODES).
        raise ValidationError(
            _("A coach who is %(old)s cannot become %(new)s.")
            % {"old": coach.get_status_display().lower(), "new": Coach.Status(status).label.lower()},
            code="invalid_transition",
        )
    if status != Coach.Status.ACTIVE and not (reason or facts):
        raise ValidationError({"reason": _("Say why, so the holders and the deal owners understand.")})
    if status == Coach.Status.ACTIVE:
        _check_coach_can_be_active(contact=coach.contact, account=coach.account, exclude_pk=coach.pk)
    coach.status = status
    coach.status_reason, coach.status_facts = ("", facts) if facts else (reason, {})
    coach.save(update_fields=["status", "status_reason", "status_facts"])
    if status != Coach.Status.ACTIVE:
        events_emit(event="coach.ended", items=[{**coach_event_data(coach), "reason": reason}])
    if status == Coach.Status.ACTIVE:
        signals.account_coached.send(sender=Coach, account=coach.account)
    elif not account_meets(coach.account, CoachRequirement.VERIFIED):
        signals.accounts_uncoached.send(sender=Coach, account_ids=[coach.account_id])
    return coach


def _works_there(today: datetime.date) -> Exists:
    """The coach's person holds a position at the coach's account today (an end date today is gone)."""
    return Exists(
        Employment.objects.filter(contact=OuterRef("contact_id"), account=OuterRef("account_id")).filter(
            Q(end_date__isnull=True) | Q(end_date__gt=today)
        )
    )


@transaction.atomic
def coaches_end_departed(*, today: datetime.date | None = None, contact_ids: list[int] | None = None) -> int:
    """End every active coach whose person no longer works at the account; returns how many.

    The position's end is the reason ("left the company on …"), and an account left without an
    active coach gets its send-back. Run when a position ends (for that person) and by the
    periodic job (for all), which is what ends a coach on a future end date's day and catches
    a position ended by a write that bypassed the services. Set-based; a second run ends nothing.
    """
    today = today or timezone.localdate()
    gone = Coach.objects.active().exclude(_works_there(today))
    if contact_ids is not None:
        gone = gone.filter(contact_id__in=contact_ids)
    # The account rows first, in pk order, as in coaches_lapse_untouched (the gate's lock).
    list(
        Account.objects.select_for_update()
        .filter(pk__in=gone.values("account_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    coaches = list(gone.select_for_update(of=("self",)).select_related("account").order_by("pk"))
    if not coaches:
        return 0
    last_day = {
        (row["contact_id"], row["account_id"]): row["last"]
        for row in Employment.objects.filter(
            contact_id__in={c.contact_id for c in coaches}, account_id__in={c.account_id for c in coaches}
        )
        .values("contact_id", "account_id")
        .annotate(last=Max("end_date"))
        .order_by()
    }
    for coach in coaches:
        left_on = last_day.get((coach.contact_id, coach.account_id)) or today
        coach.status = Coach.Status.ENDED
        coach.status_reason = ""
        coach.status_facts = note_facts("left_company", account=coach.account, date=left_on)
    bulk_update_with_history(
        coaches,
        Coach,
        ["status", "status_reason", "status_facts"],
        batch_size=500,
        default_change_reason="left the company",
    )
    events_emit(event="coach.ended", items=[{**coach_event_data(coach), "reason": "left_company"} for coach in coaches])
    per_holder = defaultdict(int)
    for holder in Holder.objects.filter(coach__in=coaches).select_related("user"):
        per_holder[holder.user] += 1
    notify_many(
        notices=[
            Notice(
                user=user,
                message=gettext_lazy("%(count)s of your coaches left their company: their coach records ended."),
                params={"count": count},
                link=f"{reverse('coaches:coach-list')}?holder={user.pk}",
            )
            for user, count in per_holder.items()
        ]
    )
    uncovered = (
        Account.objects.filter(pk__in={coach.account_id for coach in coaches})
        .exclude(Exists(Coach.objects.qualifying(CoachRequirement.VERIFIED).filter(account=OuterRef("pk"))))
        .values_list("pk", flat=True)
    )
    signals.accounts_uncoached.send(sender=Coach, account_ids=list(uncovered))
    return len(coaches)


@transaction.atomic
def holder_add(*, coach: Coach, user: User, by: User, is_primary: bool = False) -> Holder:
    """Add a rep to the relationship (a second holder is what keeps a coach when a rep leaves)."""
    if not User.objects.active().filter(pk=user.pk).exists():
        raise ValidationError({"user": _("%(name)s is not an active user.") % {"name": user}})
    if coach.holders.filter(user=user).exists():
        raise ValidationError({"user": _("%(name)s already holds this coach.") % {"name": user}})
    holder = Holder.objects.create(coach=coach, user=user, since=timezone.localdate())
    holder_counts_refresh(coaches=(coach,))
    if is_primary:
        holder_set_primary(holder=holder, by=by)
    handovers_mark_done(coach_ids=[coach.pk])
    return holder


@transaction.atomic
def holder_remove(*, holder: Holder, by: User) -> None:
    """Take a rep off the relationship; the last holder stays, and a removed primary is succeeded."""
    holders = list(Holder.objects.select_for_update().filter(coach_id=holder.coach_id).order_by("since", "pk"))
    if len(holders) <= 1:
        raise ValidationError(_("%(name)s is the only holder; add another holder first.") % {"name": holder.user})
    removed_pk, was_primary = holder.pk, holder.is_primary
    holder.delete()
    holder_counts_refresh(coach_ids=[holder.coach_id])
    if Holder.coach.is_cached(holder):
        holder.coach.holder_count = len(holders) - 1
    if was_primary:
        successor = next(h for h in holders if h.pk != removed_pk)
        successor.is_primary = True
        successor.save(update_fields=["is_primary"])


@transaction.atomic
def holder_set_primary(*, holder: Holder, by: User) -> Holder:
    """Make this holder the primary one (the previous primary stays a holder)."""
    # Demote first: the database allows one primary per coach at any moment.
    Holder.objects.filter(coach_id=holder.coach_id, is_primary=True).exclude(pk=holder.pk).update(is_primary=False)
    holder.is_primary = True
    holder.save(update_fields=["is_primary"])
    return holder


@transaction.atomic
def interaction_log(
    *, coach: Coach, by: User, kind: str, occurred_on: datetime.date | None = None, note: str = ""
) -> Interaction:
    """Log a touch with the coach; it keeps the coach's last touch fresh."""
    occurred_on = occurred_on or timezone.localdate()
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("The date cannot be in the future.")})
    date_check(occurred_on, field="occurred_on", past=True)
    if coach.status == Coach.Status.ENDED:
        raise ValidationError(_("This coach relationship has ended; record the person as a coach again."))
    interaction = Interaction.objects.create(coach=coach, user=by, kind=kind, occurred_on=occurred_on, note=note)
    if coach.last_interaction_on is None or occurred_on > coach.last_interaction_on:
        coach.last_interaction_on = occurred_on
        coach.touch_due_refresh()
        coach.save(update_fields=["last_interaction_on", "next_touch_due"])
    handovers_mark_done(coach_ids=[coach.pk])
    return interaction


RISK_FIELDS = ["at_risk", "at_risk_reason", "at_risk_facts", "at_risk_since"]


@transaction.atomic
def coach_flag_at_risk(*, coach: Coach, reason: str | dict) -> Coach:
    """Mark the relationship at risk (a holder leaving, a reorganisation), keeping the first since-date."""
    coaches_flag_at_risk(flags=[(coach, reason)])
    return coach


@transaction.atomic
def coaches_flag_at_risk(*, flags: list[tuple[Coach, str | dict]], batch_size: int = 500) -> int:
    """Flag many coaches at risk in bulk writes (with history rows).

    Each with its reason: text a person typed, or the facts of a system reason (coachcrm.notes),
    which every reader gets in his own language.
    """
    now = timezone.now()
    for coach, reason in flags:
        text, facts = ("", reason) if isinstance(reason, dict) else (reason.strip(), {})
        if not (text or facts):
            raise ValidationError({"reason": _("Say why the relationship is at risk.")})
        if not coach.at_risk:
            coach.at_risk_since = now
        coach.at_risk = True
        coach.at_risk_reason, coach.at_risk_facts = text, facts
    coaches = [coach for coach, _reason in flags]
    bulk_update_with_history(coaches, Coach, RISK_FIELDS, batch_size=batch_size)
    events_emit(event="coach.at_risk", items=[coach_event_data(coach) for coach in coaches])
    return len(coaches)


def _clear_risk(coach: Coach) -> None:
    coach.at_risk, coach.at_risk_reason, coach.at_risk_facts, coach.at_risk_since = False, "", {}, None


def coaches_clear_at_risk(*, coaches: list[Coach], reason: str = "", batch_size: int = 500) -> int:
    """Clear the at-risk flag of many coaches in bulk writes (with history rows, `reason` as their change reason)."""
    for coach in coaches:
        _clear_risk(coach)
    bulk_update_with_history(coaches, Coach, RISK_FIELDS, batch_size=batch_size, default_change_reason=reason or None)
    return len(coaches)


@transaction.atomic
def coach_clear_at_risk(*, coach: Coach) -> Coach:
    _clear_risk(coach)
    coach.save(update_fields=RISK_FIELDS)
    return coach


@transaction.atomic
def handovers_mark_done(*, coach_ids: list[int] | None = None) -> int:
    """Close the open handovers whose successor holds the coach and logged an interaction since it opened.

    A coach whose last open handover closes is no longer at risk. Called by the holder and
    interaction services for one coach, and by the daily sweep for all (`coach_ids=None`).
    """
    handovers = Handover.objects.open().filter(
        Exists(Holder.objects.filter(coach=OuterRef("coach"), user=OuterRef("to_user"))),
        Exists(
            Interaction.objects.filter(
                coach=OuterRef("coach"), user=OuterRef("to_user"), created_at__gte=OuterRef("created_at")
            )
        ),
    )
    if coach_ids is not None:
        handovers = handovers.filter(coach_id__in=coach_ids)
    done = list(handovers)
    if not done:
        return 0
    now = timezone.now()
    for handover in done:
        handover.status, handover.done_at = Handover.Status.DONE, now
    bulk_update_with_history(done, Handover, ["status", "done_at"], batch_size=500)
    events_emit(event="handover.done", items=[handover_event_data(handover) for handover in done])
    safe = list(
        Coach.objects.filter(pk__in={h.coach_id for h in done}, at_risk=True).exclude(
            Exists(Handover.objects.open().filter(coach=OuterRef("pk")))
        )
    )
    for coach in safe:
        _clear_risk(coach)
    bulk_update_with_history(safe, Coach, RISK_FIELDS, batch_size=500)
    return len(done)


@transaction.atomic
def coaches_lapse_untouched(*, today: datetime.date | None = None) -> int:
    """Lapse every active coach untouched for COACH_LAPSE_DAYS and tell the holders; returns how many.

    Set-based: a fixed number of queries whatever the number of lapsed coaches, holders and
    accounts (the notices through `notify_many`, the send-backs through the outbox in one go).
    """
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=settings.COACH_LAPSE_DAYS)
    untouched = Coach.objects.active().untouched_since(cutoff)
    # The account rows are the lock the gate and the send-back take (as in coach_set_status),
    # taken in pk order so two runs cannot deadlock each other.
    list(
        Account.objects.select_for_update()
        .filter(pk__in=untouched.values("account_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # Locking the coach rows with the "untouched" filter in the same statement is the re-check:
    # PostgreSQL re-evaluates the WHERE on a row a concurrent transaction changed (an interaction
    # logged, the coach ended) once that transaction commits, so such a coach drops out here.
    coaches = list(untouched.select_for_update(of=("self",)).order_by("pk"))
    if not coaches:
        return 0
    for coach in coaches:
        coach.status = Coach.Status.LAPSED
        coach.status_reason, coach.status_facts = "", note_facts("lapsed", since=coach.last_touch)
    bulk_update_with_history(
        coaches,
        Coach,
        ["status", "status_reason", "status_facts"],
        batch_size=500,
        default_change_reason="lapse job",
    )
    events_emit(event="coach.ended", items=[{**coach_event_data(coach), "reason": "lapsed"} for coach in coaches])
    coach_ids = [coach.pk for coach in coaches]
    per_holder = defaultdict(int)
    for holder in Holder.objects.filter(coach_id__in=coach_ids).select_related("user"):
        per_holder[holder.user] += 1
    # One statement each for the notices, their e-mails and the e-mails' jobs, whatever the holders.
    notify_many(
        notices=[
            Notice(
                user=user,
                message=gettext_lazy(
                    "%(count)s of your coaches lapsed: no interaction for %(days)s days. "
                    "Log a touch and revive them, or end them."
                ),
                params={"count": count, "days": settings.COACH_LAPSE_DAYS},
                link=f"{reverse('coaches:coach-list')}?holder={user.pk}",
            )
            for user, count in per_holder.items()
        ]
    )
    # One query for the accounts this run left without an active coach; each gets its send-back.
    uncovered = (
        Account.objects.filter(pk__in={coach.account_id for coach in coaches})
        .exclude(Exists(Coach.objects.qualifying(CoachRequirement.VERIFIED).filter(account=OuterRef("pk"))))
        .values_list("pk", flat=True)
    )
    signals.accounts_uncoached.send(sender=Coach, account_ids=list(uncovered))
    return len(coaches)


@transaction.atomic
def style_report_record(
    *,
    by: User,
    contact: Contact,
    coach: Coach,
    style: str,
    confidence: str,
    reported_on: datetime.date | None = None,
    note: str = "",
) -> StyleReport:
    """Record what a coach told us about how a person at his account buys."""
    if style not in BuyingStyle.values:
        raise ValidationError({"style": _("Choose one of the four buying styles.")})
    if confidence not in StyleReport.Confidence.values:
        raise ValidationError({"confidence": _("Choose how confident the coach was.")})
    reported_on = reported_on or timezone.localdate()
    if reported_on > timezone.localdate():
        raise ValidationError({"reported_on": _("The date cannot be in the future.")})
    date_check(reported_on, field="reported_on", past=True)
    reporting_coach_check(coach=coach, contact=contact)
    report = StyleReport.objects.create(
        contact=contact,
        coach=coach,
        recorded_by=by,
        style=style,
        confidence=confidence,
        reported_on=reported_on,
        note=note.strip(),
    )
    signals.style_reported.send(sender=StyleReport, report=report)
    return report


def reporting_coach_check(*, coach: Coach, contact: Contact) -> None:
    """A coach reports on the people of his own account, and only while he is an active coach."""
    if not coach.is_active:
        raise ValidationError(
            {
                "coach": _(
                    "%(coach)s is no longer an active coach (%(status)s); record what an active coach tells you."
                )
                % {"coach": coach.contact, "status": coach.get_status_display().lower()}
            }
        )
    if not contact.employments.current().filter(account_id=coach.account_id).exists():
        raise ValidationError(
            {
                "coach": _("%(name)s does not work at %(account)s, where %(coach)s is our coach.")
                % {"name": contact, "account": coach.account, "coach": coach.contact}
            }
        )


@transaction.atomic
def stance_report_record(
    *,
    by: User,
    contact: Contact,
    stance: str,
    coach: Coach | None = None,
    reported_on: datetime.date | None = None,
    note: str = "",
) -> StanceReport:
    """Record where a person stands toward us: as a coach told us, or (no coach) as the rep saw it himself."""
    if stance not in Stance.values:
        raise ValidationError({"stance": _("Choose supporter, neutral or opponent.")})
    reported_on = reported_on or timezone.localdate()
    if reported_on > timezone.localdate():
        raise ValidationError({"reported_on": _("The date cannot be in the future.")})
    if coach is not None:
        reporting_coach_check(coach=coach, contact=contact)
    elif not contact.employments.current().exists():
        raise ValidationError({"contact": _("%(name)s has no current position; add it first.") % {"name": contact}})
    return StanceReport.objects.create(
        contact=contact, coach=coach, recorded_by=by, stance=stance, reported_on=reported_on, note=note.strip()
    )


# --- merging duplicates (accounts.signals.record_merging) -----------------------------------


def _coach_moves_clash(*, field: str, loser, survivor) -> None:
    """Two coach moves of one person to one company on one day would become one row twice: refuse."""
    if field == "contact":
        mine = CoachMove.objects.filter(contact=survivor).values_list("to_account_id", "start_date")
        theirs = CoachMove.objects.filter(contact=loser).values_list("to_account_id", "start_date")
    else:
        mine = CoachMove.objects.filter(to_account=survivor).values_list("contact_id", "start_date")
        theirs = CoachMove.objects.filter(to_account=loser).values_list("contact_id", "start_date")
    if set(mine) & set(theirs):
        raise ValidationError(
            _("Both records have the same coach move recorded; ask an admin to remove one of the two first."),
            code="merge_conflict",
        )


def _active_pair(*, loser: Contact, survivor: Contact) -> tuple[Coach, Coach] | None:
    """The two active coach records of a person being merged, when he has one under each record."""
    theirs = Coach.objects.active().filter(contact=loser).select_related("account").first()
    ours = Coach.objects.active().filter(contact=survivor).select_related("account").first()
    if theirs is None or ours is None:
        return None
    if theirs.account_id != ours.account_id:
        raise ValidationError(
            _("%(loser)s is our active coach at %(theirs)s and %(survivor)s at %(ours)s: end one of them first.")
            % {"loser": loser, "theirs": theirs.account, "survivor": survivor, "ours": ours.account},
            code="merge_conflict",
        )
    open_from = set(theirs.handovers.open().values_list("from_user_id", flat=True))
    if open_from & set(ours.handovers.open().values_list("from_user_id", flat=True)):
        raise ValidationError(
            _("Both coach records have an open handover from the same rep: finish or cancel one first."),
            code="merge_conflict",
        )
    return theirs, ours


def coaches_merge_check(*, sender, loser, survivor, check_only: bool, by: User | None = None) -> None:
    """What a merge of two accounts or two people needs of the coaches (the receiver of `record_merging`).

    Two active coach records of one person at one account become one: the survivor's record
    keeps its own strength, criteria and verification (taking the better of each would open a
    gate the coach rules refuse), gains the other's holders, interactions, reports, tasks and
    handovers, and the other record ends ("merged"); ending it checks the account's gate again.
    """
    _coach_moves_clash(field="contact" if sender is Contact else "to_account", loser=loser, survivor=survivor)
    if sender is not Contact:
        return
    pair = _active_pair(loser=loser, survivor=survivor)
    if pair is None or check_only:
        return
    theirs, ours = pair
    held = set(ours.holders.values_list("user_id", flat=True))
    # A rep who holds both keeps one holding; the survivor's primary stays the primary.
    theirs.holders.filter(user_id__in=held).delete()
    theirs.holders.update(is_primary=False)
    references_move(old=theirs, new=ours, by=by)
    holder_counts_refresh(coach_ids=[theirs.pk, ours.pk])
    ours.refresh_from_db()
    theirs.holder_count = 0
    touches = [day for day in (ours.last_interaction_on, theirs.last_interaction_on) if day]
    ours.last_interaction_on = max(touches) if touches else None
    ours.touch_due_refresh()
    ours.save(update_fields=["last_interaction_on", "next_touch_due"])
    coach_set_status(coach=theirs, status=Coach.Status.ENDED, by=by, facts=note_facts("merged", into=ours.contact))
