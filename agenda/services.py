# Every write to the agenda: tasks (create, update, done), touches with their next step, the digest, task.due.
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account, Contact
from agenda.models import DigestOptOut, DigestSent, Note, Task
from coaches.models import Coach, Handover, Interaction
from coaches.services import interaction_log, reporting_coach_check
from pipeline.models import Opportunity
from team.models import User
from team.services import notify
from webhooks.services import events_emit

TASK_FIELDS = ["subject", "due_on", "due_time", "owner", "coach", "account", "opportunity", "handover"]


def _check_owner(*, owner: User, by: User) -> None:
    """A person's tasks are his own; a manager assigns them to his reps, an admin to anyone."""
    if owner.pk == by.pk or by.is_admin or (by.is_manager and owner.manager_id == by.pk):
        if not owner.is_active:
            raise ValidationError({"owner": _("%(name)s is not an active user.") % {"name": owner}})
        return
    raise ValidationError({"owner": _("You can give tasks only to yourself and, as a manager, to your reps.")})


def _clean(task: Task) -> None:
    task.subject = task.subject.strip()
    if not task.subject:
        raise ValidationError({"subject": _("Say what is to be done.")})
    # A task about a deal or a coach is also about its account, so the account page lists it.
    if task.opportunity is not None:
        if task.account is not None and task.account.pk != task.opportunity.account_id:
            raise ValidationError({"account": _("The opportunity is at another account.")})
        task.account_id = task.opportunity.account_id
    if task.coach is not None:
        if task.account is not None and task.account.pk != task.coach.account_id:
            raise ValidationError({"account": _("The coach is at another account.")})
        task.account_id = task.coach.account_id
    if task.handover is not None and task.coach is None:
        task.coach_id = task.handover.coach_id


@transaction.atomic
def task_create(
    *,
    by: User,
    subject: str,
    due_on: datetime.date | None = None,
    due_time: datetime.time | None = None,
    owner: User | None = None,
    coach: Coach | None = None,
    account: Account | None = None,
    opportunity: Opportunity | None = None,
    handover: Handover | None = None,
) -> Task:
    """Create a task for yourself or, as a manager, for one of your reps."""
    owner = owner or by
    _check_owner(owner=owner, by=by)
    task = Task(
        subject=subject or "",
        due_on=due_on or timezone.localdate(),
        due_time=due_time,
        owner=owner,
        created_by=by,
        coach=coach,
        account=account,
        opportunity=opportunity,
        handover=handover,
    )
    _clean(task)
    task.save()
    return task


# A style request is due this many days after it is made.
STYLE_REQUEST_DAYS = 3


@transaction.atomic
def style_request(
    *, by: User, coach: Coach, contact: Contact, opportunity: Opportunity | None = None
) -> tuple[Task, bool]:
    """Ask a coach how a person at his account buys: a task for the coach's holder, once.

    The holder is you when you hold the coach, else his primary holder (notified). While a
    request for this coach and person is open, asking again returns it (`created` False), also
    when two people ask at once (the partial unique constraint). A style the coach reports
    closes it (agenda.receivers).
    """
    reporting_coach_check(coach=coach, contact=contact)
    if opportunity is not None and opportunity.account_id != coach.account_id:
        raise ValidationError({"opportunity": _("The opportunity is at another account.")})
    existing = Task.objects.open().filter(kind=Task.Kind.STYLE_REQUEST, coach=coach, contact=contact)
    task = existing.first()
    if task is not None:
        return task, False
    holders = coach.holders.select_related("user").order_by("-is_primary", "since", "pk")
    holder = next((h.user for h in holders if h.user_id == by.pk), None) or next(
        (h.user for h in holders if h.user.is_active), None
    )
    if holder is None:
        raise ValidationError(
            {"coach": _("Nobody holds %(coach)s any more: give him a holder first.") % {"coach": coach.contact}}
        )
    # In the owner's language: the subject is his to read.
    with translation.override(holder.language or settings.LANGUAGE_CODE):
        subject = _("Ask %(coach)s how %(name)s buys (buying style)") % {"coach": coach.contact, "name": contact}
    task = Task(
        kind=Task.Kind.STYLE_REQUEST,
        subject=subject,
        due_on=timezone.localdate() + datetime.timedelta(days=STYLE_REQUEST_DAYS),
        owner=holder,
        created_by=by,
        coach=coach,
        contact=contact,
        opportunity=opportunity,
    )
    _clean(task)
    try:
        with transaction.atomic():
            task.save()
    except IntegrityError:
        return existing.get(), False  # a concurrent request won: it is the same one
    if holder.pk != by.pk:
        notify(
            user=holder,
            message=gettext_lazy("%(by)s asks you to find out from %(coach)s how %(name)s buys."),
            params={"by": by, "coach": coach.contact, "name": contact},
            link=reverse("coaches:stylereport-create", args=[contact.pk]),
        )
    return task, True


def style_requests_close(*, coach: Coach, contact: Contact) -> int:
    """Close the open style request for this coach and person (he reported the style); how many closed."""
    return (
        Task.objects.open()
        .filter(kind=Task.Kind.STYLE_REQUEST, coach=coach, contact=contact)
        .update(done_at=timezone.now())
    )


@transaction.atomic
def task_update(*, task: Task, by: User, **fields) -> Task:
    """Change a task's subject, due date and time, owner or links."""
    unknown = set(fields) - set(TASK_FIELDS)
    if unknown:
        raise TypeError(f"task_update() got unexpected fields {sorted(unknown)}")
    if "owner" in fields and fields["owner"] is not None and fields["owner"].pk != task.owner_id:
        _check_owner(owner=fields["owner"], by=by)
    for name, value in fields.items():
        if name == "owner" and value is None:
            continue
        setattr(task, name, value)
    _clean(task)
    task.save()
    return task


@transaction.atomic
def task_set_done(*, task: Task, by: User, done: bool = True) -> Task:
    """Mark a task done (or not done again); marking it twice changes nothing."""
    if done and task.done_at is None:
        task.done_at = timezone.now()
    elif not done:
        task.done_at = None
    task.save(update_fields=["done_at"])
    return task


@transaction.atomic
def touch_log(
    *,
    coach: Coach,
    by: User,
    kind: str,
    occurred_on: datetime.date | None = None,
    note: str = "",
    next_step: str = "",
    next_step_on: datetime.date | None = None,
) -> tuple[Interaction, Task | None]:
    """Log a touch with the coach and, in the same write, the next step as a task of yours."""
    interaction = interaction_log(coach=coach, by=by, kind=kind, occurred_on=occurred_on, note=note.strip())
    task = None
    if next_step.strip():
        coach.refresh_from_db(fields=["next_touch_due"])
        due = next_step_on or coach.next_touch_due
        if due < timezone.localdate():
            raise ValidationError({"next_step_on": _("The next step cannot be due in the past.")})
        task = task_create(by=by, subject=next_step, due_on=due, coach=coach)
    elif next_step_on is not None:
        raise ValidationError({"next_step": _("Say what the next step is, or leave its date empty.")})
    return interaction, task


# The digest's e-mail lists this many tasks and coaches each; the rest are counted ("and 3 more").
DIGEST_LISTED = 20


def digest_send(*, user: User, day: datetime.date | None = None) -> bool:
    """Send the user his daily digest (today's tasks, coaches due for a touch) once a day; False when nothing.

    One in-app notice with the counts, and one e-mail that lists them, in the user's language.
    Idempotent by (user, day): the DigestSent row is written in the same transaction as both.
    """
    day = day or timezone.localdate()
    tasks = Task.objects.filter(owner=user).due_by(day).order_by("due_on", F("due_time").asc(nulls_last=True), "pk")
    touches = (
        Coach.objects.touch_due(day)
        .filter(holders__user=user)
        .select_related("contact", "account")
        .order_by("next_touch_due", "pk")
    )
    task_count, touch_count = tasks.count(), touches.count()
    if not (task_count or touch_count):
        return False
    message = gettext_lazy("Today: %(tasks)s tasks due and %(touches)s coaches to touch.")
    params = {"tasks": task_count, "touches": touch_count}
    body = _digest_body(user, message, params, tasks[:DIGEST_LISTED], task_count, touches[:DIGEST_LISTED], touch_count)
    try:
        with transaction.atomic():
            DigestSent.objects.create(user=user, day=day)
            notify(user=user, message=message, params=params, link=reverse("home"), email_body=body)
    except IntegrityError:
        return False  # already sent today
    return True


def _digest_body(user: User, summary, params: dict, tasks, task_count: int, touches, touch_count: int) -> str:
    """The digest e-mail in the user's language: the summary, then each task due and each coach to touch
    (`notify` adds the Today link)."""

    def section(title, lines: list[str], count: int) -> list[str]:
        more = [_("… and %(n)s more") % {"n": count - DIGEST_LISTED}] if count > DIGEST_LISTED else []
        return ["", title, *(f"- {line}" for line in lines), *more] if count else []

    def when(task: Task) -> str:
        day = date_format(task.due_on, "SHORT_DATE_FORMAT")
        return f"{day} {time_format(task.due_time, 'TIME_FORMAT')}" if task.due_time else day

    with translation.override(user.language or settings.LANGUAGE_CODE):
        due = _("%(person)s at %(account)s, due %(day)s")
        return "\n".join(
            [
                str(summary) % params,
                *section(_("Tasks"), [f"{when(task)}: {task.subject}" for task in tasks], task_count),
                *section(
                    _("Coaches to touch"),
                    [
                        due
                        % {
                            "person": coach.contact,
                            "account": coach.account,
                            "day": date_format(coach.next_touch_due, "SHORT_DATE_FORMAT"),
                        }
                        for coach in touches
                    ],
                    touch_count,
                ),
            ]
        )


def digests_send(*, day: datetime.date | None = None) -> int:
    """Send every active user who has not opted out his digest for the day; returns how many got one."""
    day = day or timezone.localdate()
    users = (
        User.objects.active()
        .exclude(pk__in=DigestOptOut.objects.values("user_id"))
        .exclude(pk__in=DigestSent.objects.filter(day=day).values("user_id"))
    )
    return sum(digest_send(user=user, day=day) for user in users)


def task_event_data(task: Task) -> dict:
    """A task in a webhook payload: ids and what a receiver acts on (an admin sees every task)."""
    return {
        "task": task.pk,
        "kind": task.kind,
        "subject": task.subject,
        "due_on": task.due_on,
        "due_time": task.due_time,
        "owner": task.owner_id,
        "owner_username": task.owner.username,
        "coach": task.coach_id,
        "account": task.account_id,
        "opportunity": task.opportunity_id,
        "handover": task.handover_id,
    }


def tasks_due_emit(*, day: datetime.date | None = None, batch_size: int = 500) -> int:
    """Emit `task.due` for every open task due on the day, once per task and due date; returns how many.

    Tasks due up to TASK_DUE_CATCHUP_DAYS earlier that were never announced for that date (the job
    did not run on their day) go out too, once; older ones are not announced late. Each batch
    marks its tasks (`due_event_on`) in the transaction that records the events, so a second or
    concurrent run skips them; a task moved to another day is announced on that day.
    """
    day = day or timezone.localdate()
    since = day - datetime.timedelta(days=settings.TASK_DUE_CATCHUP_DAYS)
    emitted = 0
    while True:
        with transaction.atomic():
            tasks = list(
                Task.objects.open()
                .filter(due_on__range=(since, day))
                .exclude(due_event_on=F("due_on"))
                .select_related("owner")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:batch_size]
            )
            if not tasks:
                return emitted
            # Marked with each task's own date (locked above, so it cannot move meanwhile).
            Task.objects.filter(pk__in=[task.pk for task in tasks]).update(due_event_on=F("due_on"))
            events_emit(event="task.due", items=[task_event_data(task) for task in tasks])
        emitted += len(tasks)


@transaction.atomic
def digest_set_opt_out(*, user: User, opt_out: bool) -> None:
    """Stop (or restart) the daily digest for the user."""
    if opt_out:
        DigestOptOut.objects.get_or_create(user=user)
    else:
        DigestOptOut.objects.filter(user=user).delete()


NOTE_MAX_LENGTH = 2000


@transaction.atomic
def note_add(
    *,
    by: User,
    text: str,
    account: Account | None = None,
    contact: Contact | None = None,
    opportunity: Opportunity | None = None,
) -> Note:
    """Add a free-text note to an account, a person or a deal (exactly one)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the note first.")})
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError({"text": _("A note has at most %(n)s characters.") % {"n": NOTE_MAX_LENGTH}})
    if sum(record is not None for record in (account, contact, opportunity)) != 1:
        raise TypeError("note_add() takes exactly one of account, contact, opportunity")
    return Note.objects.create(author=by, text=text, account=account, contact=contact, opportunity=opportunity)
