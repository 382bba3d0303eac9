"""Every stage change goes through here; the coach gate lives in `_gate_check` and nowhere else.

Its test of a coach is `coaches.models.qualification_q` (with `Coach.missing_for` saying what
is missing): the gate, the send-back and the sweep, the dashboard's "had a coach at close", the
coverage and the work list all ask it.
"""

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
from accounts.services import employment_set_reports_to
from coachcrm import jobs
from coachcrm.bulk import bulk_update_with_history
from coachcrm.inputs import amount_check, date_check, single_line_check
from coachcrm.notes import note_facts, note_text, note_text_lazy
from coaches.models import REAL_COACH, Coach, CoachMove, CoachRequirement
from coaches.selectors import (
    account_best_coach,
    account_had_coach_on,
    account_meets,
    accounts_active_coaches,
    best_coach,
)
from coaches.services import coach_record, holder_add, stance_report_record
from pipeline.models import GateSweep, LossReason, Opportunity, OpportunityContact, Stage, StageChange
from pipeline.stage_facts import stage_facts_refresh, stage_owners_refresh
from team.models import User
from team.services import Notice, notify, notify_many
from webhooks.services import event_emit, events_emit

logger = logging.getLogger(__name__)


class GateError(ValidationError):
    """A move refused at the coach gate: what the stage requires, and what the account's best coach lacks.

    `facts` say why (coachcrm.notes): the deal is held back with them, so that its owner reads
    the reason in his language, not in the mover's. `extra` is what the API adds to its 409.
    """

    def __init__(self, *, stage: Stage, account: Account, coach: Coach | None = None, missing: list[str] = ()):
        self.requirement = stage.coach_requirement
        self.facts = gate_facts(stage=stage, account=account, coach=coach, missing=list(missing))
        # The API answers this code with 409 (coachcrm.api.CONFLICT_CODES).
        super().__init__(note_text(self.facts), code="coach_required")
        self.account, self.coach, self.missing = account, coach, list(missing) if coach else ["no_coach"]
        self.extra = {
            "requirement": self.requirement,
            "missing": self.missing,
            "coach": coach.pk if coach else None,
            "verified_on": coach.verified_on.isoformat() if coach else None,
        }

    @property
    def record_coach_url(self) -> str:
        return reverse("coaches:coach-create") + f"?account={self.account.pk}"

    @property
    def verify_url(self) -> str:
        """The coach's verify form, when there is a coach who lacks something."""
        return reverse("coaches:coach-verify", args=[self.coach.pk]) if self.coach else ""


def gate_facts(*, stage: Stage, account: Account, coach: Coach | None, missing: list[str]) -> dict:
    """Why a deal may not stand in `stage`, as facts (coachcrm.notes): the requirement, the coach, what he lacks."""
    return note_facts(
        "gate",
        stage=stage.name,
        account=account,
        requirement=stage.coach_requirement,
        coach=coach.contact if coach else None,
        coach_id=coach.pk if coach else None,
        missing=missing if coach else [],
        verified_on=coach.verified_on if coach else None,
    )


def stage_needs_coach(stage: Stage) -> bool:
    """Entering this stage needs a coach meeting its requirement (a gated stage, or winning when it says so)."""
    return stage.coach_requirement != CoachRequirement.NONE


def opportunity_override_covers(opportunity: Opportunity, stage: Stage) -> bool:
    """A manager let this deal into `stage` (an override names one stage), and no send-back has undone that since."""
    last = opportunity.stage_changes.filter(kind__in=[StageChange.Kind.OVERRIDE, StageChange.Kind.SENT_BACK]).first()
    return last is not None and last.kind == StageChange.Kind.OVERRIDE and last.to_stage_id == stage.pk


def _gate_check(*, opportunity: Opportunity, stage: Stage) -> None:
    if not stage_needs_coach(stage):
        return
    if account_meets(opportunity.account, stage.coach_requirement):
        return
    if opportunity.pk and opportunity_override_covers(opportunity, stage):
        return
    coach, missing = account_best_coach(opportunity.account, stage.coach_requirement)
    raise GateError(stage=stage, account=opportunity.account, coach=coach, missing=missing)


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
    amount = amount_check(amount, field="amount")
    single_line_check(name=name, source=source)
    date_check(expected_close, field="expected_close")
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
        opportunity=opportunity,
        from_stage=None,
        to_stage=stage,
        by=by,
        kind=StageChange.Kind.ADVANCE,
        owner_id=opportunity.owner_id,
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
    if "amount" in fields:
        fields["amount"] = amount_check(fields["amount"], field="amount")
    if "name" in fields:
        single_line_check(name=fields["name"])
        fields["name"] = fields["name"].strip()
    date_check(fields.get("expected_close"), field="expected_close")
    for field, value in fields.items():
        setattr(opportunity, field, value)
    opportunity.save()
    if "owner" in fields:
        # Its moves carry the deal's owner (the dashboard's team); those already right are left alone.
        stage_owners_refresh([opportunity.pk])
    return opportunity


def _lock(opportunity: Opportunity) -> None:
    # The account row first: coach status changes and the send-back lock it too, so a move
    # and a send-back for one account never interleave. Then the deal itself, re-read.
    Account.objects.select_for_update().filter(pk=opportunity.account_id).first()
    opportunity.refresh_from_db(from_queryset=Opportunity.objects.select_for_update())


def opportunity_event_data(opportunity: Opportunity) -> dict:
    """A deal in a webhook payload: ids and the state a receiver acts on."""
    return {
        "opportunity": opportunity.pk,
        "name": opportunity.name,
        "account": opportunity.account_id,
        "owner": opportunity.owner_id,
        "stage": opportunity.stage_id,
        "status": opportunity.status,
        "amount": opportunity.amount,
        "currency": opportunity.currency,
        "held_back": opportunity.held_back,
    }


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
        owner_id=opportunity.owner_id,
    )
    stage_facts_refresh([opportunity.pk])
    opportunity.stage = stage
    opportunity.stage_entered_at = now
    if stage.is_closed:
        opportunity.status = Opportunity.Status.WON if stage.is_won else Opportunity.Status.LOST
        opportunity.closed_at = now
        # Only a real coach counts for the win rates, not one recorded to pass the gate.
        opportunity.had_coach_at_close = account_meets(opportunity.account, REAL_COACH)
    if stage.is_closed or stage_needs_coach(stage):
        _release(opportunity)
    opportunity.save()
    if stage.is_closed:
        event_emit(
            event="opportunity.won" if stage.is_won else "opportunity.lost", data=opportunity_event_data(opportunity)
        )
    return change


def _check_movable(*, opportunity: Opportunity, stage: Stage) -> None:
    if not opportunity.is_open:
        raise ValidationError(
            _("This opportunity is closed (%(status)s); closed deals do not move.")
            % {"status": opportunity.get_status_display().lower()}
        )
    if stage.pk == opportunity.stage_id:
        raise ValidationError(_("The opportunity is already in %(stage)s.") % {"stage": stage})


def opportunity_move(
    *,
    opportunity: Opportunity,
    stage: Stage,
    by: User,
    reason: str = "",
    loss_reason: LossReason | None = None,
    loss_note: str = "",
) -> StageChange:
    """Move a deal to a stage, keeping the coach gate; a refusal at the gate holds the deal back.

    A move into a lost stage needs a loss reason (and may carry a note); it is kept on the deal.
    """
    try:
        return _opportunity_move(
            opportunity=opportunity, stage=stage, by=by, reason=reason, loss_reason=loss_reason, loss_note=loss_note
        )
    except GateError as error:
        # Outside the refused move's transaction, so the hold-back is kept though the move is not.
        opportunity_hold_back(opportunity=opportunity, facts=error.facts)
        raise


def _check_loss_reason(*, stage: Stage, loss_reason: LossReason | None) -> None:
    if not stage.is_lost:
        if loss_reason is not None:
            raise ValidationError({"loss_reason": _("A loss reason goes only with a move to a lost stage.")})
        return
    if loss_reason is None:
        raise ValidationError(
            {"loss_reason": ValidationError(_("Say why the deal was lost: choose a loss reason."), code="required")}
        )
    if not loss_reason.active:
        raise ValidationError(
            {"loss_reason": _("%(reason)s is no longer in use; choose another.") % {"reason": loss_reason}}
        )


@transaction.atomic
def _opportunity_move(
    *, opportunity: Opportunity, stage: Stage, by: User, reason: str, loss_reason: LossReason | None, loss_note: str
) -> StageChange:
    _check_loss_reason(stage=stage, loss_reason=loss_reason)
    _lock(opportunity)
    _check_movable(opportunity=opportunity, stage=stage)
    _gate_check(opportunity=opportunity, stage=stage)
    if stage.is_lost:
        opportunity.loss_reason, opportunity.loss_note = loss_reason, loss_note.strip()
    current = opportunity.stage
    kind = StageChange.Kind.ADVANCE if stage.order > current.order else StageChange.Kind.BACK
    return _apply_stage(opportunity=opportunity, stage=stage, by=by, kind=kind, reason=reason.strip())


def opportunity_may_reopen(*, opportunity: Opportunity, by: User) -> bool:
    """The owner's manager or an admin may reopen a closed deal (the same people who may override the gate)."""
    return by.is_admin or (by.is_manager and (opportunity.owner_id == by.pk or opportunity.owner.manager_id == by.pk))


@transaction.atomic
def opportunity_reopen(*, opportunity: Opportunity, stage: Stage, by: User, reason: str) -> StageChange:
    """Reopen a won or lost deal into an open stage, with a reason, through the coach gate like any move."""
    if not opportunity_may_reopen(opportunity=opportunity, by=by):
        raise ValidationError(_("Only the owner's manager or an admin can reopen a closed deal."), code="permission")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Write why this deal is reopened.")})
    if stage.is_closed:
        raise ValidationError({"stage": _("Reopen into an open stage; %(stage)s closes the deal.") % {"stage": stage}})
    _lock(opportunity)
    if opportunity.is_open:
        raise ValidationError(_("This opportunity is open already; move it instead."))
    # A refusal leaves the deal closed (nothing to hold back): record a coach, or override after reopening.
    _gate_check(opportunity=opportunity, stage=stage)
    opportunity.status = Opportunity.Status.OPEN
    opportunity.closed_at, opportunity.had_coach_at_close = None, None
    opportunity.loss_reason, opportunity.loss_note = None, ""
    return _apply_stage(opportunity=opportunity, stage=stage, by=by, kind=StageChange.Kind.REOPEN, reason=reason)


HOLD_BACK_FIELDS = ["held_back", "held_back_reason", "held_back_facts", "held_back_since"]


def _release(opportunity: Opportunity) -> None:
    opportunity.held_back, opportunity.held_back_since = False, None
    opportunity.held_back_reason, opportunity.held_back_facts = "", {}


@transaction.atomic
def opportunity_hold_back(*, opportunity: Opportunity, facts: dict) -> Opportunity:
    """Mark a deal as waiting for a coach ("Needs a coach") for the reason in `facts`; the first since-date is kept."""
    opportunity.refresh_from_db(from_queryset=Opportunity.objects.select_for_update())
    newly = not opportunity.held_back
    if newly:
        opportunity.held_back_since = timezone.now()
    opportunity.held_back = True
    opportunity.held_back_reason, opportunity.held_back_facts = "", facts
    opportunity.save(update_fields=HOLD_BACK_FIELDS)
    if newly:
        event_emit(event="opportunity.held_back", data={**opportunity_event_data(opportunity), "reason": facts})
    return opportunity


@transaction.atomic
def opportunity_override(*, opportunity: Opportunity, stage: Stage, by: User, reason: str) -> StageChange:
    """A manager (of the owner) or an admin lets one deal into one gated stage without its coach, with a reason.

    The override covers that stage only: a further gated stage, or winning, needs a coach
    meeting its requirement or a new override.
    """
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


# Why the sweep sent a deal back, from what the account's best coach lacked.
SWEEP_NO_COACH, SWEEP_NOT_QUALIFIED, SWEEP_NOT_VERIFIED = "no_coach", "not_qualified", "not_verified"


def _sweep_reason(missing: list[str], coach: Coach | None) -> str:
    if coach is None:
        return SWEEP_NO_COACH
    return SWEEP_NOT_VERIFIED if missing == ["unverified"] else SWEEP_NOT_QUALIFIED


def _send_back(deals: list[Opportunity], *, target: Stage) -> dict[str, int]:
    """Send these (locked) deals back before the gate, each held back with what its stage lacks; one notice per owner.

    Set-based, as the sweep must be: a fixed number of statements whatever the number of deals
    (their accounts' coaches, the moves, their visit facts, the deals with their history rows,
    the webhook events, the notices), not one move and one hold-back per deal.
    """
    now = timezone.now()
    coaches = accounts_active_coaches({deal.account_id for deal in deals})
    reasons: dict[str, int] = {}
    best: dict[tuple[int, str], tuple] = {}
    per_owner: dict[int, list[Opportunity]] = {}
    changes, newly = [], []
    for deal in deals:
        key = (deal.account_id, deal.stage.coach_requirement)
        if key not in best:
            best[key] = best_coach(coaches.get(deal.account_id, []), deal.stage.coach_requirement)
        coach, missing = best[key]
        why = gate_facts(stage=deal.stage, account=deal.account, coach=coach, missing=missing)
        reason = _sweep_reason(missing, coach)
        reasons[reason] = reasons.get(reason, 0) + 1
        changes.append(
            StageChange(
                opportunity=deal,
                owner_id=deal.owner_id,
                from_stage=deal.stage,
                to_stage=target,
                by=None,
                kind=StageChange.Kind.SENT_BACK,
                reason_facts=why,
                at=now,
            )
        )
        if not deal.held_back:
            deal.held_back_since = now
            newly.append(deal)
        deal.stage, deal.stage_entered_at = target, now
        deal.held_back, deal.held_back_reason, deal.held_back_facts = True, "", why
        per_owner.setdefault(deal.owner_id, []).append(deal)
    StageChange.objects.bulk_create(changes, batch_size=500)
    stage_facts_refresh([deal.pk for deal in deals])
    bulk_update_with_history(
        deals,
        Opportunity,
        ["stage", "stage_entered_at", *HOLD_BACK_FIELDS],
        batch_size=500,
        default_change_reason="sent back",
    )
    events_emit(
        event="opportunity.held_back",
        items=[{**opportunity_event_data(deal), "reason": deal.held_back_facts} for deal in newly],
    )
    # After the hold-back, so the payload says the deal now waits for a coach.
    events_emit(
        event="opportunity.sent_back",
        items=[
            {**opportunity_event_data(deal), "from_stage": change.from_stage_id, "reason": change.reason_facts}
            for deal, change in zip(deals, changes, strict=True)
        ],
    )
    notices = []
    for owned in per_owner.values():
        deal = owned[0]
        if len(owned) == 1:
            notices.append(
                Notice(
                    user=deal.owner,
                    message=gettext_lazy("%(deal)s was sent back to %(stage)s: %(reason)s"),
                    params={"deal": deal, "stage": target, "reason": note_text_lazy(deal.held_back_facts)},
                    link=deal.get_absolute_url(),
                )
            )
        else:
            notices.append(
                Notice(
                    user=deal.owner,
                    message=gettext_lazy(
                        "%(count)s of your deals were sent back to %(stage)s: their accounts lack the coach "
                        "their stage requires. See “Needs a coach”."
                    ),
                    params={"count": len(owned), "stage": target},
                    link=reverse("pipeline:opportunity-held-back"),
                )
            )
    notify_many(notices=notices)
    return reasons


def _failing(deals, *, target: Stage | None) -> list[Opportunity] | None:
    if target is None:
        logger.warning("No open stage before the coach gate: deals cannot be sent back.")
        return None
    return list(
        deals.failing_gate().select_related("stage", "owner", "account").select_for_update(of=("self",)).order_by("pk")
    )


@transaction.atomic
def account_send_back(*, account_id: int) -> int:
    """Send back the account's open deals standing in a gated stage without what it requires; idempotent."""
    account = Account.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        return 0
    deals = _failing(Opportunity.objects.filter(account_id=account_id), target=Stage.objects.before_gate())
    if not deals:
        return 0
    _send_back(deals, target=Stage.objects.before_gate())
    return len(deals)


@transaction.atomic
def gate_sweep() -> GateSweep:
    """Send back every open deal standing in a gated stage without what it requires and without a live override.

    Whatever the cause (a stage's rule changed, a verification expired, a send-back that never
    ran). Set-based: one query finds the deals; the accounts are locked in pk order (the gate's
    lock) before the deals, re-checked under the lock. A second run finds nothing. Every run is
    recorded, with its count per reason, for the managers.
    """
    target = Stage.objects.before_gate()
    candidates = Opportunity.objects.failing_gate().values("account_id")
    list(Account.objects.select_for_update().filter(pk__in=candidates).order_by("pk").values_list("pk", flat=True))
    deals = _failing(Opportunity.objects.all(), target=target) or []
    reasons = _send_back(deals, target=target) if deals else {}
    return GateSweep.objects.create(sent_back=len(deals), reasons=reasons)


def stage_sweep_preview(*, stage: Stage, requirement: str) -> int:
    """How many open deals in the stage the sweep would send back if it required `requirement`."""
    if requirement == CoachRequirement.NONE or stage.pk is None or stage.is_closed:
        return 0
    return Opportunity.objects.filter(stage_id=stage.pk).failing_gate(requirement=requirement).count()


@transaction.atomic
def account_release_held_back(*, account: Account) -> int:
    """A coach is recorded or verified: clear the held-back deals he qualifies for (they stay put); tell the owners."""
    meets: dict[str, bool] = {}
    deals = []
    for deal in Opportunity.objects.held_back().filter(account=account).select_related("owner"):
        # What the refused or sent-back stage required (facts written before requirements: an active coach).
        requirement = (deal.held_back_facts or {}).get("requirement", CoachRequirement.ACTIVE)
        if requirement not in meets:
            meets[requirement] = account_meets(account, requirement)
        if meets[requirement]:
            deals.append(deal)
    for deal in deals:
        _release(deal)
        deal.save(update_fields=HOLD_BACK_FIELDS)
        notify(
            user=deal.owner,
            message=gettext_lazy("%(account)s has the coach it needs now: %(deal)s may move past the gate."),
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


def opportunity_contacts_dedupe(*, loser: Contact, survivor: Contact) -> int:
    """A merge of two people: the roles the duplicate shares with the survivor on a deal go (the survivor's stay)."""
    ours = OpportunityContact.objects.filter(contact=survivor)
    shared = OpportunityContact.objects.filter(
        contact=loser,
        opportunity_id__in=ours.values("opportunity_id"),
        role__in=ours.values("role"),
    )
    pairs = set(ours.values_list("opportunity_id", "role"))
    duplicates = [row for row in shared if (row.opportunity_id, row.role) in pairs]
    for row in duplicates:
        row.delete()
    return len(duplicates)


STAGE_FIELDS = ("name", "order", "probability", "coach_requirement", "is_won", "is_lost")


def _stage_save(*, stage: Stage, by: User, fields: dict) -> Stage:
    if not by.is_admin:
        raise ValidationError(_("Only an admin can edit the pipeline's stages."))
    unknown = set(fields) - set(STAGE_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown stage fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    single_line_check(name=fields.get("name", ""))
    for field, value in fields.items():
        setattr(stage, field, value)
    stage.name = stage.name.strip()
    if not stage.name:
        raise ValidationError({"name": _("Give the stage a name.")})
    if not 0 <= stage.probability <= 100:
        raise ValidationError({"probability": _("A win probability is between 0 and 100.")})
    if stage.is_won and stage.is_lost:
        raise ValidationError({"is_lost": _("A stage cannot be both won and lost.")})
    if stage.coach_requirement not in CoachRequirement.values:
        raise ValidationError(
            {"coach_requirement": _("Choose what the stage requires: none, active, qualified or verified.")}
        )
    if stage.is_lost and stage.coach_requirement != CoachRequirement.NONE:
        raise ValidationError({"coach_requirement": _("Losing a deal needs no coach.")})
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
    """Change a stage (admins); a stricter requirement sends back the deals standing there without it (the sweep)."""
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    before = stage.coach_requirement
    outcome = (stage.order, stage.is_won, stage.is_lost)
    stage = _stage_save(stage=stage, by=by, fields=fields)
    if (stage.order, stage.is_won, stage.is_lost) != outcome:
        # Which moves went forward or back changed: every move's visit facts (pipeline.stage_facts).
        jobs.enqueue("pipeline.tasks.dashboard_facts_rebuild_task", key="dashboard-facts-rebuild")
    if stage.coach_requirement != before:
        # By name: the tasks module imports this one.
        jobs.enqueue("pipeline.tasks.gate_sweep_task", key="gate-sweep")
    return stage


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
        # Unconfirmed: nobody has asked him anything at the new company yet, so he opens no gate
        # until a holder verifies him.
        move.new_coach = coach_record(
            by=holders[0], account=to_account, contact=contact, strength=Coach.Strength.INFORMANT, unconfirmed=True
        )
        for user in holders[1:]:
            holder_add(coach=move.new_coach, user=user, by=holders[0])
    move.save(update_fields=["opportunity", "new_coach"])
    event_emit(
        event="coach.moved",
        data={
            "move": move.pk,
            "contact": contact.pk,
            "old_coach": old_coach.pk,
            "from_account": old_coach.account_id,
            "to_account": to_account.pk,
            "start_date": start_date,
            "new_coach": move.new_coach_id,
            "opportunity": move.opportunity_id,
        },
    )
    if won and not contact.past_buyer:
        contact.past_buyer = True
        contact.save(update_fields=["past_buyer"])
    message = gettext_lazy("%(name)s, our coach at %(old)s, moved to %(new)s: a prospect is open for %(owner)s.")
    params = {"name": contact, "old": old_coach.account, "new": to_account, "owner": owner}
    for user in {u.pk: u for u in [*holders, owner]}.values():
        notify(user=user, message=message, params=params, link=move.opportunity.get_absolute_url())
    return move


# --- The buying committee (issue 23) ---------------------------------------------------------


@transaction.atomic
def committee_member_set(
    *,
    opportunity: Opportunity,
    contact: Contact,
    role: str,
    by: User,
    holder: User | None = None,
    last_touch_on: datetime.date | None = None,
    stance: str = "",
    stance_coach: Coach | None = None,
    stance_note: str = "",
    reports_to: Contact | None = None,
    clear_reports_to: bool = False,
) -> OpportunityContact:
    """Put a person on the deal's buying committee (or update him): role, who holds him, stance, reporting line.

    The stance is recorded as a report (coach-sourced when `stance_coach` is given), the
    reporting line on the person's current position at the account; empty values change nothing.
    """
    if role not in OpportunityContact.Role.values:
        raise ValidationError({"role": _("Choose a role.")})
    position = contact.employments.current().filter(account_id=opportunity.account_id).first()
    if position is None:
        raise ValidationError(
            {
                "contact": _("%(name)s does not work at %(account)s now; add his position there first.")
                % {"name": contact, "account": opportunity.account}
            }
        )
    if last_touch_on is not None and last_touch_on > timezone.localdate():
        raise ValidationError({"last_touch_on": _("The date cannot be in the future.")})
    if holder is not None and not holder.is_active:
        raise ValidationError({"holder": _("%(name)s is no longer active; choose a colleague.") % {"name": holder}})
    row, created = OpportunityContact.objects.get_or_create(
        opportunity=opportunity, contact=contact, role=role, defaults={"holder": holder, "last_touch_on": last_touch_on}
    )
    if not created:
        changed = []
        if holder is not None and row.holder_id != holder.pk:
            row.holder, changed = holder, [*changed, "holder"]
        if last_touch_on is not None and row.last_touch_on != last_touch_on:
            row.last_touch_on, changed = last_touch_on, [*changed, "last_touch_on"]
        if changed:
            row.save(update_fields=changed)
    if stance:
        stance_report_record(by=by, contact=contact, stance=stance, coach=stance_coach, note=stance_note)
    if reports_to is not None or clear_reports_to:
        employment_set_reports_to(employment=position, reports_to=reports_to, by=by)
    return row


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
    close date, and `had_coach_at_close` says whether the account had a real coach (REAL_COACH, the gate's
    test) on that day.
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
            owner_id=opportunity.owner_id,
        )
        opportunity.stage, opportunity.stage_entered_at, opportunity.closed_at = stage, closed_at, closed_at
        opportunity.status = Opportunity.Status.WON if stage.is_won else Opportunity.Status.LOST
        opportunity.had_coach_at_close = account_had_coach_on(account, closed_on)
    opportunity.save()
    if created_on is not None or stage.is_closed:  # back-dated moves: their visit facts
        stage_facts_refresh([opportunity.pk])
    return opportunity
