"""Every stage change goes through here; the coach gate lives in `_gate_check` and nowhere else."""

import datetime
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account, Contact, ProductLine
from coachcrm.notes import note_facts, note_text, note_text_lazy
from coaches.models import Coach, CoachMove
from coaches.selectors import account_had_active_coach_on, account_has_active_coach
from coaches.services import coach_record, holder_add
from pipeline.models import Opportunity, OpportunityContact, Stage, StageChange
from team.models import User
from team.services import notify

logger = logging.getLogger(__name__)


class GateError(ValidationError):
    """A move refused at the coach gate; `account` is where a coach is missing, for the "Record a coach" link.

    `facts` say why (coachcrm.notes): the deal is held back with them, so that its owner reads
    the reason in his language, not in the mover's.
    """

    def __init__(self, *, stage: Stage, account: Account):
        self.facts = note_facts("gate", stage=stage.name, account=account)
        # The API answers this code with 409 (coachcrm.api.CONFLICT_CODES).
        super().__init__(note_text(self.facts), code="coach_required")
        self.account = account

    @property
    def record_coach_url(self) -> str:
        return reverse("coaches:coach-create") + f"?account={self.account.pk}"


def stage_needs_coach(stage: Stage) -> bool:
    """Entering this stage needs an active coach: a gated stage, or a win (which passes the gate)."""
    return stage.requires_coach or (stage.is_won and Stage.objects.gated().exists())


def opportunity_gate_overridden(opportunity: Opportunity) -> bool:
    """A manager let this deal past the gate, and no send-back has undone that since."""
    last = opportunity.stage_changes.filter(kind__in=[StageChange.Kind.OVERRIDE, StageChange.Kind.SENT_BACK]).first()
    return last is not None and last.kind == StageChange.Kind.OVERRIDE


def _gate_check(*, opportunity: Opportunity, stage: Stage) -> None:
    if not stage_needs_coach(stage):
        return
    if account_has_active_coach(opportunity.account):
        return
    if opportunity.pk and opportunity_gate_overridden(opportunity):
        return
    raise GateError(stage=stage, account=opportunity.account)


def _owner_for(*, by: User, owner: User | None) -> User:
    # A rep always owns what he creates; a manager or admin may name the owner.
    return owner if owner is not None and not by.is_rep else by


@transaction.atomic
def opportunity_create(
    *,
    by: User,
    account: Account,
    name: str,
    product_line: ProductLine,
    amount: Decimal,
    stage: Stage | None = None,
    owner: User | None = None,
    expected_close: datetime.date | None = None,
    source: str = "",
    source_facts: dict | None = None,
) -> Opportunity:
    """Open a deal, in the first stage unless told; a gated stage needs a coach like any move."""
    stage = stage or Stage.objects.open().order_by("order").first()
    if stage.is_closed:
        raise ValidationError({"stage": _("A new opportunity starts in an open stage; close it afterwards.")})
    if amount < 0:
        raise ValidationError({"amount": _("The amount cannot be negative.")})
    opportunity = Opportunity(
        account=account,
        name=name.strip(),
        product_line=product_line,
        amount=amount,
        stage=stage,
        owner=_owner_for(by=by, owner=owner),
        expected_close=expected_close,
        source=source.strip(),
        source_facts=source_facts or {},
    )
    _gate_check(opportunity=opportunity, stage=stage)
    opportunity.save()
    StageChange.objects.create(
        opportunity=opportunity, from_stage=None, to_stage=stage, by=by, kind=StageChange.Kind.ADVANCE
    )
    return opportunity


UPDATABLE_FIELDS = {"name", "product_line", "amount", "expected_close", "owner"}


@transaction.atomic
def opportunity_update(*, opportunity: Opportunity, by: User, **fields) -> Opportunity:
    """Change a deal's own fields; the stage only moves through opportunity_move or an override."""
    if "stage" in fields or "status" in fields:
        raise ValidationError(_("The stage changes only by moving the opportunity."))
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise TypeError(f"opportunity_update() got unexpected fields {sorted(unknown)}")
    if by.is_rep:
        fields.pop("owner", None)
    if fields.get("owner", opportunity.owner) is None:
        fields.pop("owner")
    if fields.get("amount", 0) < 0:
        raise ValidationError({"amount": _("The amount cannot be negative.")})
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    for field, value in fields.items():
        setattr(opportunity, field, value)
    opportunity.save()
    return opportunity


def _lock(opportunity: Opportunity) -> None:
    # The account row first: coach status changes and the send-back lock it too, so a move
    # and a send-back for one account never interleave. Then the deal itself, re-read.
    Account.objects.select_for_update().filter(pk=opportunity.account_id).first()
    opportunity.refresh_from_db(from_queryset=Opportunity.objects.select_for_update())


def _apply_stage(
    *, opportunity: Opportunity, stage: Stage, by: User | None, kind: str, reason: str = "", facts: dict | None = None
) -> StageChange:
    now = timezone.now()
    change = StageChange.objects.create(
        opportunity=opportunity,
        from_stage=opportunity.stage,
        to_stage=stage,
        by=by,
        kind=kind,
        reason=reason,
        reason_facts=facts or {},
        at=now,
    )
    opportunity.stage = stage
    opportunity.stage_entered_at = now
    if stage.is_closed:
        opportunity.status = Opportunity.Status.WON if stage.is_won else Opportunity.Status.LOST
        opportunity.closed_at = now
        opportunity.had_coach_at_close = account_has_active_coach(opportunity.account)
    if stage.is_closed or stage_needs_coach(stage):
        _release(opportunity)
    opportunity.save()
    return change


def _check_movable(*, opportunity: Opportunity, stage: Stage) -> None:
    if not opportunity.is_open:
        raise ValidationError(
            _("This opportunity is closed (%(status)s); closed deals do not move.")
            % {"status": opportunity.get_status_display().lower()}
        )
    if stage.pk == opportunity.stage_id:
        raise ValidationError(_("The opportunity is already in %(stage)s.") % {"stage": stage})


def opportunity_move(*, opportunity: Opportunity, stage: Stage, by: User, reason: str = "") -> StageChange:
    """Move a deal to a stage, keeping the coach gate; a refusal at the gate holds the deal back."""
    try:
        return _opportunity_move(opportunity=opportunity, stage=stage, by=by, reason=reason)
    except GateError as error:
        # Outside the refused move's transaction, so the hold-back is kept though the move is not.
        opportunity_hold_back(opportunity=opportunity, facts=error.facts)
        raise


@transaction.atomic
def _opportunity_move(*, opportunity: Opportunity, stage: Stage, by: User, reason: str) -> StageChange:
    _lock(opportunity)
    _check_movable(opportunity=opportunity, stage=stage)
    _gate_check(opportunity=opportunity, stage=stage)
    current = opportunity.stage
    kind = StageChange.Kind.ADVANCE if stage.order > current.order else StageChange.Kind.BACK
    return _apply_stage(opportunity=opportunity, stage=stage, by=by, kind=kind, reason=reason.strip())


HOLD_BACK_FIELDS = ["held_back", "held_back_reason", "held_back_facts", "held_back_since"]


def _release(opportunity: Opportunity) -> None:
    opportunity.held_back, opportunity.held_back_since = False, None
    opportunity.held_back_reason, opportunity.held_back_facts = "", {}


@transaction.atomic
def opportunity_hold_back(*, opportunity: Opportunity, facts: dict) -> Opportunity:
    """Mark a deal as waiting for a coach ("Needs a coach") for the reason in `facts`; the first since-date is kept."""
    opportunity.refresh_from_db(from_queryset=Opportunity.objects.select_for_update())
    if not opportunity.held_back:
        opportunity.held_back_since = timezone.now()
    opportunity.held_back = True
    opportunity.held_back_reason, opportunity.held_back_facts = "", facts
    opportunity.save(update_fields=HOLD_BACK_FIELDS)
    return opportunity


@transaction.atomic
def opportunity_override(*, opportunity: Opportunity, stage: Stage, by: User, reason: str) -> StageChange:
    """A manager (of the owner) or an admin lets one deal past the gate, with a written reason."""
    if not (
        by.is_admin or (by.is_manager and (opportunity.owner_id == by.pk or opportunity.owner.manager_id == by.pk))
    ):
        raise ValidationError(_("Only the owner's manager or an admin can override the coach gate."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Write why this deal may pass the gate without a coach.")})
    _lock(opportunity)
    _check_movable(opportunity=opportunity, stage=stage)
    if not stage_needs_coach(stage):
        raise ValidationError({"stage": _("%(stage)s has no coach gate; move the deal instead.") % {"stage": stage}})
    change = _apply_stage(opportunity=opportunity, stage=stage, by=by, kind=StageChange.Kind.OVERRIDE, reason=reason)
    if opportunity.owner_id != by.pk:
        notify(
            user=opportunity.owner,
            message=gettext_lazy("%(by)s let %(deal)s past the coach gate: %(reason)s"),
            params={"by": by, "deal": opportunity, "reason": reason},
            link=opportunity.get_absolute_url(),
        )
    return change


@transaction.atomic
def account_send_back(*, account_id: int) -> int:
    """Send the account's open gated deals back before the gate when it has no active coach; idempotent."""
    account = Account.objects.select_for_update().filter(pk=account_id).first()
    if account is None or account_has_active_coach(account):
        return 0
    target = Stage.objects.before_gate()
    if target is None:
        logger.warning("No open stage before the coach gate: deals at account %s cannot be sent back.", account_id)
        return 0
    why = note_facts("no_active_coach", account=account)
    deals = list(
        Opportunity.objects.open()
        .gated()
        .filter(account=account)
        .select_related("stage", "owner", "account")
        .select_for_update(of=("self",))
    )
    for deal in deals:
        _apply_stage(opportunity=deal, stage=target, by=None, kind=StageChange.Kind.SENT_BACK, facts=why)
        opportunity_hold_back(opportunity=deal, facts=why)
        notify(
            user=deal.owner,
            message=gettext_lazy("%(deal)s was sent back to %(stage)s: %(reason)s Record a coach to move it on."),
            params={"deal": deal, "stage": target, "reason": note_text_lazy(why)},
            link=deal.get_absolute_url(),
        )
    return len(deals)


@transaction.atomic
def account_release_held_back(*, account: Account) -> int:
    """A coach is recorded: clear the account's held-back deals (they do not move) and tell their owners."""
    deals = list(Opportunity.objects.held_back().filter(account=account).select_related("owner"))
    for deal in deals:
        _release(deal)
        deal.save(update_fields=HOLD_BACK_FIELDS)
        notify(
            user=deal.owner,
            message=gettext_lazy("%(account)s has an active coach now: %(deal)s may move past the gate."),
            params={"account": account, "deal": deal},
            link=deal.get_absolute_url(),
        )
    return len(deals)


@transaction.atomic
def opportunity_contact_add(*, opportunity: Opportunity, contact: Contact, role: str, by: User) -> OpportunityContact:
    """Name a person involved in the deal and his role (a decision maker's style drives the playbook)."""
    if role not in OpportunityContact.Role.values:
        raise ValidationError({"role": _("Choose a role.")})
    if not contact.employments.current().filter(account_id=opportunity.account_id).exists():
        raise ValidationError(
            {
                "contact": _("%(name)s does not work at %(account)s now; add his position there first.")
                % {"name": contact, "account": opportunity.account}
            }
        )
    if opportunity.contact_roles.filter(contact=contact, role=role).exists():
        raise ValidationError(
            _("%(name)s is already listed as %(role)s.")
            % {"name": contact, "role": OpportunityContact.Role(role).label.lower()}
        )
    return OpportunityContact.objects.create(opportunity=opportunity, contact=contact, role=role)


@transaction.atomic
def opportunity_contact_remove(*, contact_role: OpportunityContact, by: User) -> None:
    """Take a person's role off the deal (the change history keeps it)."""
    contact_role.delete()


STAGE_FIELDS = ("name", "order", "probability", "requires_coach", "is_won", "is_lost")


def _stage_save(*, stage: Stage, by: User, fields: dict) -> Stage:
    if not by.is_admin:
        raise ValidationError(_("Only an admin can edit the pipeline's stages."))
    unknown = set(fields) - set(STAGE_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown stage fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    for field, value in fields.items():
        setattr(stage, field, value)
    stage.name = stage.name.strip()
    if not stage.name:
        raise ValidationError({"name": _("Give the stage a name.")})
    if not 0 <= stage.probability <= 100:
        raise ValidationError({"probability": _("A win probability is between 0 and 100.")})
    if stage.is_won and stage.is_lost:
        raise ValidationError({"is_lost": _("A stage cannot be both won and lost.")})
    others = Stage.objects.exclude(pk=stage.pk)
    if others.filter(name__iexact=stage.name).exists():
        raise ValidationError({"name": _("There is already a stage called %(name)s.") % {"name": stage.name}})
    if others.filter(order=stage.order).exists():
        raise ValidationError({"order": _("Another stage already has the order %(order)s.") % {"order": stage.order}})
    stage.save()
    return stage


@transaction.atomic
def stage_create(*, by: User, **fields) -> Stage:
    """Add a pipeline stage (admins): a unique name and order, a probability from 0 to 100."""
    return _stage_save(stage=Stage(), by=by, fields=fields)


@transaction.atomic
def stage_update(*, stage: Stage, by: User, **fields) -> Stage:
    """Change a stage (admins); deals already past a newly gated stage keep their place until they move."""
    return _stage_save(stage=Stage.objects.select_for_update().get(pk=stage.pk), by=by, fields=fields)


# --- A coach moved company: the prospect at the new one ----------------------------------------


def _won_with(*, coach: Coach) -> list:
    """Deals we won with this person: at his account while he was our coach, or where he had a role."""
    return list(
        Opportunity.objects.filter(status=Opportunity.Status.WON)
        .filter(
            Q(account_id=coach.account_id, closed_at__date__gte=coach.established_on)
            | Q(contact_roles__contact_id=coach.contact_id)
        )
        .distinct()
        .order_by("-closed_at", "pk")
    )


def coach_move_provenance(*, coach: Coach, won: list) -> dict:
    """ "Former coach at X since …; deals won with them: …" — the prospect's source, as facts (coachcrm.notes)."""
    return note_facts("coach_moved", account=coach.account, since=coach.established_on, deals=won)


@transaction.atomic
def coach_moved(
    *, old_coach_id: int, to_account_id: int, start_date: datetime.date, account_created: bool
) -> CoachMove | None:
    """Open the prospect at a moved coach's new company, once per move (None when already done).

    One prospect in the first stage with its provenance, a candidate coach record (informant,
    the old holders carried over), notices to the holders and the new owner, and the
    past-buyer mark if we won deals with him.
    """
    old_coach = Coach.objects.select_related("contact", "account").get(pk=old_coach_id)
    to_account = Account.objects.select_related("owner").get(pk=to_account_id)
    contact = old_coach.contact
    try:
        # The unique key (person, new account, start date) is the idempotency: a second run,
        # or a concurrent one, fails here and makes nothing. A savepoint keeps the outer
        # transaction usable after the failed insert.
        with transaction.atomic():
            move = CoachMove.objects.create(
                contact=contact,
                from_account=old_coach.account,
                to_account=to_account,
                old_coach=old_coach,
                start_date=start_date,
            )
    except IntegrityError:
        return None
    holders = [h.user for h in old_coach.holders.select_related("user") if h.user.can_log_in]
    # Until territories route prospects: a company we already had keeps its owner; a company
    # created by the move goes to the coach's primary holder.
    owner = holders[0] if account_created and holders else to_account.owner
    won = _won_with(coach=old_coach)
    line = next((deal.product_line for deal in won), None) or (
        to_account.product_lines.order_by("name").first() or ProductLine.objects.order_by("name").first()
    )
    if line is None:
        raise ValidationError(_("Add a product line in the admin site first: a prospect needs one."))
    move.opportunity = opportunity_create(
        by=owner,
        owner=owner,
        account=to_account,
        name=_("%(account)s via %(name)s") % {"account": to_account, "name": contact},
        product_line=line,
        amount=0,
        source_facts=coach_move_provenance(coach=old_coach, won=won),
    )
    works_there = contact.employments.current().filter(account=to_account).exists()
    if works_there and holders and not Coach.objects.active().filter(contact=contact).exists():
        move.new_coach = coach_record(
            by=holders[0], account=to_account, contact=contact, strength=Coach.Strength.INFORMANT
        )
        for user in holders[1:]:
            holder_add(coach=move.new_coach, user=user, by=holders[0])
    move.save(update_fields=["opportunity", "new_coach"])
    if won and not contact.past_buyer:
        contact.past_buyer = True
        contact.save(update_fields=["past_buyer"])
    message = gettext_lazy("%(name)s, our coach at %(old)s, moved to %(new)s: a prospect is open for %(owner)s.")
    params = {"name": contact, "old": old_coach.account, "new": to_account, "owner": owner}
    for user in {u.pk: u for u in [*holders, owner]}.values():
        notify(user=user, message=message, params=params, link=move.opportunity.get_absolute_url())
    return move


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@transaction.atomic
def opportunity_import(
    *,
    by: User,
    account: Account,
    name: str,
    product_line: ProductLine,
    amount: Decimal,
    stage: Stage,
    owner: User | None = None,
    expected_close: datetime.date | None = None,
    created_on: datetime.date | None = None,
    closed_on: datetime.date | None = None,
    source: str = "",
) -> Opportunity:
    """A deal from another CRM, through opportunity_create and the coach gate.

    An open deal in a stage the account's missing coach bars is put in the last stage before
    the gate and held back, as a move would. A closed deal is history: it keeps its status and
    close date, and `had_coach_at_close` says whether the account had a coach on that day.
    """
    facts = None
    target = stage
    if stage.is_closed:
        target = Stage.objects.open().order_by("order").first()
    else:
        try:
            _gate_check(opportunity=Opportunity(account=account), stage=stage)
        except GateError as error:
            facts = error.facts
            before = Stage.objects.open().filter(order__lt=stage.order).order_by("-order")
            target = next((s for s in before if not stage_needs_coach(s)), None)
            if target is None:
                raise
    opportunity = opportunity_create(
        by=by,
        account=account,
        name=name,
        product_line=product_line,
        amount=amount,
        stage=target,
        owner=owner,
        expected_close=expected_close,
        source=source,
    )
    first_change = opportunity.stage_changes.get()
    if created_on is not None:
        opportunity.created_at = opportunity.stage_entered_at = first_change.at = _start_of(created_on)
        first_change.save(update_fields=["at"])
    if facts is not None:
        opportunity.held_back, opportunity.held_back_facts = True, facts
        opportunity.held_back_since = timezone.now()
    if stage.is_closed:
        closed_on = closed_on or expected_close or timezone.localdate()
        closed_at = _start_of(closed_on)
        StageChange.objects.create(
            opportunity=opportunity,
            from_stage=target,
            to_stage=stage,
            by=by,
            kind=StageChange.Kind.ADVANCE,
            at=closed_at,
        )
        opportunity.stage, opportunity.stage_entered_at, opportunity.closed_at = stage, closed_at, closed_at
        opportunity.status = Opportunity.Status.WON if stage.is_won else Opportunity.Status.LOST
        opportunity.had_coach_at_close = account_had_active_coach_on(account, closed_on)
    opportunity.save()
    return opportunity
