# Stages, opportunities, stage changes and the people on a deal.
import functools
import operator

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, When
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coachcrm.inputs import validate_amount
from coachcrm.links import reverse_pk
from coachcrm.notes import note_text
from coaches.models import REAL_COACH, Coach, CoachRequirement


def default_currency() -> str:
    return settings.CRM_CURRENCY


class StageQuerySet(models.QuerySet):
    def open(self):
        return self.filter(is_won=False, is_lost=False)

    def gated(self):
        """Stages a deal enters only with a coach meeting their requirement (winning included)."""
        return self.exclude(coach_requirement=CoachRequirement.NONE)

    def before_gate(self):
        """The last open stage before the first gated one: where sent-back deals land."""
        first_gate = self.open().gated().order_by("order").first()
        stages = self.open().filter(coach_requirement=CoachRequirement.NONE)
        if first_gate is not None:
            stages = stages.filter(order__lt=first_gate.order)
        return stages.order_by("order").last()


# The default stages (data migration 0002), so that their names are in the translation catalog.
DEFAULT_STAGE_NAMES = [
    gettext_noop("Lead"),
    gettext_noop("Qualified"),
    gettext_noop("Coach confirmed"),
    gettext_noop("Proposal"),
    gettext_noop("Negotiation"),
    gettext_noop("Won"),
    gettext_noop("Lost"),
]


class Stage(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), unique=True)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    coach_requirement = models.CharField(
        _("coach requirement"),
        max_length=16,
        choices=CoachRequirement.choices,
        default=CoachRequirement.NONE,
        help_text=_(
            "What a deal needs to enter this stage: an active coach, a qualified one (coach or champion, "
            "the three criteria yes), or a verified one (qualified and verified recently)."
        ),
    )
    is_won = models.BooleanField(_("won"), default=False)
    is_lost = models.BooleanField(_("lost"), default=False)

    objects = StageQuerySet.as_manager()

    class Meta:
        ordering = ["order"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.CheckConstraint(condition=~Q(is_won=True, is_lost=True), name="stage_not_won_and_lost"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_percent"),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """The name in the user's language: the default stages are in the catalog, others as typed."""
        return gettext(self.name)

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost

    @property
    def requires_coach(self) -> bool:
        """Entering it needs a coach of some kind (the board's "coach" badge)."""
        return self.coach_requirement != CoachRequirement.NONE


# The default loss reasons (data migration), so that their names are in the translation catalog.
DEFAULT_LOSS_REASONS = [
    gettext_noop("Price"),
    gettext_noop("Lost to a competitor"),
    gettext_noop("No budget"),
    gettext_noop("No decision"),
    gettext_noop("Timing"),
    gettext_noop("Product fit"),
    gettext_noop("Other"),
]


class LossReason(models.Model):
    """Why a deal was lost: a short list the admins keep, counted on the dashboard."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True, help_text=_("Inactive reasons are kept on old deals."))

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """The name in the user's language: the default reasons are in the catalog, others as typed."""
        return gettext(self.name)


def coach_flag(account: str = "account_id") -> Exists:
    """ "The deal's account has a real coach" (REAL_COACH, the gate's test), for a deal reached by `account`."""
    return Exists(Coach.objects.qualifying(REAL_COACH).filter(account=OuterRef(account)))


class OpportunityQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=Opportunity.Status.OPEN)

    def gated(self):
        return self.exclude(stage__coach_requirement=CoachRequirement.NONE)

    def held_back(self):
        return self.open().filter(held_back=True)

    def with_coach_flag(self):
        """Annotate `has_coach`: the account has a real coach (REAL_COACH, the gate's test; one subquery)."""
        return self.annotate(has_coach=coach_flag())

    def failing_gate(self, today=None, requirement: str | None = None):
        """Open deals standing in a gated stage whose account lacks what the stage requires, without a live override.

        The sweep's set: one subquery per requirement level and one for the override, whatever
        the number of deals. `requirement` asks instead what a stage would fail if it required that.
        """

        def has(level: str) -> Exists:
            return Exists(Coach.objects.qualifying(level, today).filter(account=OuterRef("account_id")))

        if requirement is not None:
            deals, lacking = self.open(), ~has(requirement)
        else:
            levels = [level for level in CoachRequirement if level != CoachRequirement.NONE]
            deals = self.open().gated()
            lacking = functools.reduce(
                operator.or_, (Q(stage__coach_requirement=level) & ~has(level) for level in levels)
            )
        last_gate_change = StageChange.objects.filter(
            opportunity=OuterRef("pk"), kind__in=[StageChange.Kind.OVERRIDE, StageChange.Kind.SENT_BACK]
        ).order_by("-at", "-pk")
        return (
            deals.annotate(
                gate_change_kind=Subquery(last_gate_change.values("kind")[:1]),
                gate_change_stage=Subquery(last_gate_change.values("to_stage_id")[:1]),
            )
            # A CASE, not exclude(): a deal never overridden has NULLs there, which NOT (…) would drop.
            .annotate(
                overridden=Case(
                    When(Q(gate_change_kind=StageChange.Kind.OVERRIDE, gate_change_stage=F("stage_id")), then=True),
                    default=False,
                    output_field=models.BooleanField(),
                )
            )
            .filter(lacking, overridden=False)
        )


class Opportunity(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="opportunities"
    )
    name = models.CharField(_("name"), max_length=200)
    product_line = models.ForeignKey(
        "accounts.ProductLine", verbose_name=_("product line"), on_delete=models.PROTECT, related_name="opportunities"
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, validators=[validate_amount])
    currency = models.CharField(_("currency"), max_length=3, default=default_currency, editable=False)
    # Changes only through opportunity_move / opportunity_override, which keep the gate.
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="opportunities"
    )
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    held_back = models.BooleanField(_("held back"), default=False)
    # Why held back, as facts worded for each reader (coachcrm.notes); `held_back_reason` keeps
    # the sentences written before there were facts. So for `source` and StageChange.reason.
    held_back_reason = models.CharField(_("why held back"), max_length=300, blank=True)
    held_back_facts = models.JSONField(_("why held back"), default=dict, blank=True, editable=False)
    held_back_since = models.DateTimeField(_("held back since"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Why it was lost (required by opportunity_move into a lost stage), kept until it reopens.
    loss_reason = models.ForeignKey(
        LossReason,
        verbose_name=_("loss reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    loss_note = models.CharField(_("loss note"), max_length=500, blank=True)
    # Whether the account had a real coach (REAL_COACH) when the deal closed: the win-rate comparison reads it.
    had_coach_at_close = models.BooleanField(_("had a coach at close"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    # Where the deal came from, e.g. the provenance of a prospect opened when a coach moved.
    source = models.TextField(_("source"), blank=True)
    source_facts = models.JSONField(_("source"), default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    history = HistoricalRecords()
    # Its ids in the CRM it was imported from (csvio.ExternalId), deleted with it, moved by a merge.
    external_ids = GenericRelation("csvio.ExternalId")
    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["account", "status"]),
            models.Index(fields=["owner", "status"]),
            # The lists' order: a page of the newest deals is read off this index, not sorted.
            models.Index(fields=["-created_at", "-id"], name="opportunity_newest_first"),
            # The home page's work list for a manager or an admin: each stage's open deals in amount
            # order (pipeline.selectors._work_list_page_ids), read up to the page; with the columns
            # its visibility and coach flag test (PostgreSQL), so the deals it skips are not visited.
            models.Index(
                fields=["stage", "-amount", "id"],
                condition=models.Q(status="open"),
                include=["account", "owner"],
                name="opportunity_work_list",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_pk("pipeline:opportunity-detail", self.pk)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def held_back_reason_display(self) -> str:
        """Why the deal waits for a coach, in the reader's language."""
        return note_text(self.held_back_facts, self.held_back_reason)

    @property
    def source_display(self) -> str:
        """Where the deal came from, in the reader's language (typed text as typed)."""
        return note_text(self.source_facts, self.source)


class StageChange(models.Model):
    class Kind(models.TextChoices):
        ADVANCE = "advance", _("Advance")
        BACK = "back", _("Back")
        SENT_BACK = "sent_back", _("Sent back")
        OVERRIDE = "override", _("Override")
        REOPEN = "reopen", _("Reopen")

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage,
        verbose_name=pgettext_lazy("stage change", "from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=pgettext_lazy("stage change", "to"), on_delete=models.PROTECT, related_name="+"
    )
    # Empty when the system made the change (a send-back).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stage_changes",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # What the mover or the manager typed; a send-back's reason is `reason_facts` (coachcrm.notes).
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    reason_facts = models.JSONField(_("reason"), default=dict, blank=True, editable=False)
    # Visit facts, derived from the deal's other moves so the dashboard reads them as columns
    # instead of a correlated subquery per move (pipeline.stage_facts keeps them, in the mover's
    # transaction; `manage.py dashboard_facts_rebuild` and its nightly task recompute them all).
    # When the deal had entered `from_stage` (its latest earlier move into it; empty if none).
    from_stage_entered_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The first later move out of `to_stage` forward (a higher open stage, or won), and backward
    # (a lower open stage, or lost); empty while there is none.
    left_forward_at = models.DateTimeField(null=True, blank=True, editable=False)
    left_back_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The deal's owner now (not at the move), copied so that a team's moves in a period are one
    # range of the (owner, at) index instead of a probe per deal. It follows every owner change
    # of the deal (pipeline.stage_facts.stage_owners_refresh: the deal services, the departures'
    # bulk move, the nightly rebuild); the dashboard scopes moves by it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,  # the (owner, at) index leads with it
    )

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            # The dashboard's moves in a period for everybody (an admin), and the list's drill-downs.
            models.Index(fields=["at"], name="stagechange_at"),
            # A team's or a rep's moves in a period: one range per owner, read off the index alone
            # (PostgreSQL; SQLite builds it without the included columns): the funnel's columns
            # are in it, so the all-time moves do not visit the 7,000 table pages they are spread on.
            models.Index(
                fields=["owner", "at"],
                name="stagechange_owner_at",
                include=[
                    "opportunity",
                    "from_stage",
                    "to_stage",
                    "kind",
                    "from_stage_entered_at",
                    "left_forward_at",
                    "left_back_at",
                ],
            ),
        ]

    def __str__(self):
        return f"{self.opportunity}: {self.from_stage} → {self.to_stage}"

    @property
    def reason_display(self) -> str:
        """Why the deal moved, in the reader's language (a typed reason as typed)."""
        return note_text(self.reason_facts, self.reason)


class OpportunityContact(models.Model):
    """A person involved in a deal, with his role in the buying decision."""

    class Role(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        ECONOMIC_BUYER = "economic_buyer", _("Economic buyer")
        TECHNICAL_EVALUATOR = "technical_evaluator", _("Technical evaluator")
        USER = "user", _("User")
        INFLUENCER = "influencer", _("Influencer")
        COACH = "coach", _("Coach")
        BLOCKER = "blocker", _("Blocker")

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="contact_roles"
    )
    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("person"), on_delete=models.PROTECT, related_name="opportunity_roles"
    )
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    # Who in our team holds the relationship with this person, and when we last spoke to him:
    # the committee map's "single-threaded" gap reads the first.
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relationship held by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_touch_on = models.DateField(_("last touch"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "pk"]
        verbose_name = _("contact role")
        verbose_name_plural = _("contact roles")
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "contact", "role"], name="opportunity_contact_role_once"),
        ]

    def __str__(self):
        return f"{self.contact} ({self.get_role_display()})"


class GateSweep(models.Model):
    """One run of the gate sweep: how many deals it sent back, and why (for the managers)."""

    ran_at = models.DateTimeField(_("ran at"), default=timezone.now)
    sent_back = models.PositiveIntegerField(_("deals sent back"), default=0)
    # Deals sent back per reason: {"no_coach": 2, "not_qualified": 1, "not_verified": 3}.
    reasons = models.JSONField(_("why"), default=dict, blank=True)

    class Meta:
        ordering = ["-ran_at", "-pk"]
        verbose_name = _("gate sweep")
        verbose_name_plural = _("gate sweeps")

    REASON_LABELS = {
        "no_coach": _("no active coach"),
        "not_qualified": _("the coach is not qualified"),
        "not_verified": _("the coach's verification expired"),
    }

    def __str__(self):
        return f"{self.ran_at:%Y-%m-%d %H:%M}: {self.sent_back}"

    @property
    def reason_rows(self) -> list[dict]:
        """The counts per reason, worded for the reader."""
        return [
            {"reason": key, "label": self.REASON_LABELS.get(key, key), "count": count}
            for key, count in sorted(self.reasons.items())
        ]
