# Coaches and what hangs on them: holders, interactions, style reports, playbook cards, moves, handovers.
import datetime

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from coachcrm.links import reverse_pk
from coachcrm.models import DueQuerySet
from coachcrm.notes import note_text


def _days_ago(days: int, today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) - datetime.timedelta(days=days)


class CoachRequirement(models.TextChoices):
    """What a pipeline stage needs of the account's coach; each level includes the ones before it."""

    NONE = "none", _("none")
    ACTIVE = "active", _("an active coach")
    QUALIFIED = "qualified", _("a qualified coach")
    VERIFIED = "verified", _("a verified coach")


REQUIREMENT_RANK = {
    CoachRequirement.NONE: 0,
    CoachRequirement.ACTIVE: 1,
    CoachRequirement.QUALIFIED: 2,
    CoachRequirement.VERIFIED: 3,
}
# What the reports, the coverage and the work list call "has a coach": a real one, whatever the stage.
REAL_COACH = CoachRequirement.QUALIFIED
# The three validity criteria, in the order a refusal names them.
VALIDITY_CRITERIA = ("credible", "trusts_us", "wants_us_to_win")


def verified_since_cutoff(today: datetime.date | None = None) -> datetime.date:
    """The oldest verification date that still counts as verified (COACH_UNVERIFIED_DAYS)."""
    return _days_ago(settings.COACH_UNVERIFIED_DAYS, today)


def qualification_q(requirement: str, today: datetime.date | None = None, prefix: str = "") -> Q:
    """The one test of "this coach meets the requirement", as a filter on coaches (`prefix` for a relation).

    `Coach.missing_for` is the same rule for one row, saying what is missing; a test keeps them equal.
    """
    requirement = CoachRequirement(requirement)
    if requirement == CoachRequirement.NONE:
        return Q()
    # An informant recorded by the system (a job change) counts for nothing until a holder verifies him.
    q = Q(**{f"{prefix}status": Coach.Status.ACTIVE, f"{prefix}unconfirmed": False})
    if REQUIREMENT_RANK[requirement] >= REQUIREMENT_RANK[CoachRequirement.QUALIFIED]:
        q &= Q(**{f"{prefix}strength__in": [Coach.Strength.COACH, Coach.Strength.CHAMPION]})
        q &= Q(**{f"{prefix}{name}": True for name in VALIDITY_CRITERIA})
    if requirement == CoachRequirement.VERIFIED:
        # Never verified: the established date stands in, as for the "unverified" health flag.
        cutoff = verified_since_cutoff(today)
        q &= Q(**{f"{prefix}last_verified_on__gte": cutoff}) | Q(
            **{f"{prefix}last_verified_on__isnull": True, f"{prefix}established_on__gte": cutoff}
        )
    return q


class CoachQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Coach.Status.ACTIVE)

    def qualifying(self, requirement: str, today: datetime.date | None = None):
        """Coaches that meet a stage's requirement (`qualification_q`)."""
        return self.filter(qualification_q(requirement, today))

    def verification_due(self, today: datetime.date | None = None):
        """Active coaches whose verification expires within COACH_VERIFY_WARN_DAYS, or has expired (the work list).

        Annotated `verified_since` (the last verification, else the established date: the date
        `qualification_q` reads), so the soonest to expire sort first.
        """
        today = today or timezone.localdate()
        soon = today + datetime.timedelta(days=settings.COACH_VERIFY_WARN_DAYS)
        return (
            self.active()
            .annotate(verified_since=Coalesce("last_verified_on", "established_on"))
            .filter(verified_since__lt=verified_since_cutoff(soon))
        )

    def stale(self, today: datetime.date | None = None):
        """Active coaches without an interaction (or, never touched, since established) for COACH_STALE_DAYS."""
        return self.active().untouched_since(_days_ago(settings.COACH_STALE_DAYS, today))

    def untouched_since(self, cutoff: datetime.date):
        """Coaches whose last touch (last interaction, else the established date) is before the cutoff."""
        return self.filter(_last_touch_before(cutoff))

    def unverified(self, today: datetime.date | None = None):
        """Active coaches whose criteria nobody confirmed for COACH_UNVERIFIED_DAYS."""
        cutoff = _days_ago(settings.COACH_UNVERIFIED_DAYS, today)
        return self.active().filter(
            Q(last_verified_on__lt=cutoff) | Q(last_verified_on__isnull=True, established_on__lt=cutoff)
        )

    def single_threaded(self):
        """Active coaches held by one rep only (or, after a departure, by nobody)."""
        return self.active().filter(holder_count__lte=1)

    def at_risk(self):
        return self.active().filter(at_risk=True)

    def health_counts(self, today: datetime.date | None = None) -> dict:
        """How many of these coaches are active, single-threaded, stale and at risk: one pass, one query.

        The same tests as `single_threaded()`, `stale()` and `at_risk()`, as conditions on each row:
        counting `pk IN` those sets made PostgreSQL build the scope's coaches once per set. Holders
        come from the kept `Coach.holder_count`, not counted per coach.
        """
        active = Q(status=Coach.Status.ACTIVE)
        stale = _last_touch_before(_days_ago(settings.COACH_STALE_DAYS, today))
        return self.aggregate(
            active=Count("pk", filter=active),
            single_threaded=Count("pk", filter=active & Q(holder_count__lte=1)),
            stale=Count("pk", filter=active & stale),
            at_risk=Count("pk", filter=active & Q(at_risk=True)),
        )

    def touch_due(self, today: datetime.date | None = None):
        """Active coaches whose next touch is due today or overdue (cadence after the last touch)."""
        return self.active().filter(next_touch_due__lte=today or timezone.localdate())

    def with_health(self, today: datetime.date | None = None):
        """Annotate `health_score`: higher is worse (at risk 16, stale 8, touch overdue 4, single-threaded 2,
        unverified 1)."""
        stale_cutoff = _days_ago(settings.COACH_STALE_DAYS, today)
        verify_cutoff = _days_ago(settings.COACH_UNVERIFIED_DAYS, today)

        def flag(condition, weight):
            return Case(When(condition, then=Value(weight)), default=Value(0), output_field=IntegerField())

        active = Q(status=Coach.Status.ACTIVE)
        unverified = Q(last_verified_on__lt=verify_cutoff) | Q(
            last_verified_on__isnull=True, established_on__lt=verify_cutoff
        )
        today = today or timezone.localdate()
        stale = _last_touch_before(stale_cutoff)
        return self.annotate(
            health_score=flag(active & Q(at_risk=True), 16)
            + flag(active & stale, 8)
            # Overdue is the early warning: a stale coach is counted as stale only.
            + flag(active & ~stale & Q(next_touch_due__lt=today), 4)
            + flag(active & Q(holder_count__lte=1), 2)
            + flag(active & unverified, 1)
        ).annotate(
            status_rank=Case(
                When(status=Coach.Status.ACTIVE, then=Value(0)),
                When(status=Coach.Status.LAPSED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )


def holders_counted():
    """The number of the coach's holders, counted by a correlated subquery (for `Coach.holder_count`)."""
    count = Holder.objects.filter(coach=OuterRef("pk")).order_by().values("coach").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def _last_touch_before(cutoff: datetime.date) -> Q:
    return Q(last_interaction_on__lt=cutoff) | Q(last_interaction_on__isnull=True, established_on__lt=cutoff)


class Coach(models.Model):
    """A contact acting as our coach at an account."""

    class Strength(models.TextChoices):
        INFORMANT = "informant", _("Informant")
        COACH = "coach", _("Coach")
        CHAMPION = "champion", _("Champion")

    # Days between touches when the coach has no cadence of his own: the stronger the
    # relationship, the more it is worth keeping warm.
    DEFAULT_CADENCE_DAYS = {Strength.CHAMPION: 14, Strength.COACH: 21, Strength.INFORMANT: 30}

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        LAPSED = "lapsed", _("Lapsed")
        ENDED = "ended", _("Ended")

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="coaches"
    )
    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("contact"), on_delete=models.PROTECT, related_name="coach_roles"
    )
    strength = models.CharField(_("strength"), max_length=16, choices=Strength.choices, default=Strength.COACH)
    # The three validity criteria of a real coach, plus power: each a yes/no with a note.
    credible = models.BooleanField(_("credible with the buying influences"), default=False)
    credible_note = models.CharField(_("note"), max_length=300, blank=True)
    trusts_us = models.BooleanField(_("trusts us"), default=False)
    trusts_us_note = models.CharField(_("note"), max_length=300, blank=True)
    wants_us_to_win = models.BooleanField(_("wants us to win"), default=False)
    wants_us_to_win_note = models.CharField(_("note"), max_length=300, blank=True)
    has_power = models.BooleanField(_("has power and influence"), default=False)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    # Why it lapsed or ended: what a person typed, or the facts of a system reason (the lapse
    # job, a move) worded for each reader (coachcrm.notes). So for `at_risk_reason` too.
    status_reason = models.CharField(_("reason for the status"), max_length=300, blank=True)
    status_facts = models.JSONField(_("reason for the status"), default=dict, blank=True, editable=False)
    established_on = models.DateField(_("established"), default=timezone.localdate)
    # Recorded by the system (a job change's candidate record): meets no stage's requirement
    # until a holder verifies him.
    unconfirmed = models.BooleanField(_("awaiting verification by a holder"), default=False)
    last_verified_on = models.DateField(_("last verified"), null=True, blank=True)
    # The last touch, kept by the interaction service.
    last_interaction_on = models.DateField(_("last interaction"), null=True, blank=True)
    # Days between touches; empty: the default for the strength (DEFAULT_CADENCE_DAYS).
    cadence_days = models.PositiveSmallIntegerField(
        _("touch every (days)"),
        null=True,
        blank=True,
        help_text=_("Leave empty for the default of the strength: champion 14, coach 21, informant 30."),
    )
    # Derived: last touch + cadence, kept by the services that change either (`touch_due_refresh`),
    # stored so "due today" is one indexed filter on every home page.
    next_touch_due = models.DateField(_("next touch due"), null=True, blank=True, editable=False)
    at_risk = models.BooleanField(_("at risk"), default=False)
    at_risk_reason = models.CharField(_("why at risk"), max_length=300, blank=True)
    at_risk_facts = models.JSONField(_("why at risk"), default=dict, blank=True, editable=False)
    at_risk_since = models.DateTimeField(_("at risk since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # Derived: the number of holders, kept by the services that add, remove or move holders
    # (`coaches.services.holder_counts_refresh`), stored so the list's health order and the
    # single-threaded flag read a column instead of counting holders per coach on every page.
    holder_count = models.PositiveIntegerField(_("holders"), default=0, editable=False)

    # The holder count is not history: it follows the holder rows, which have their own.
    history = HistoricalRecords(excluded_fields=["holder_count"])
    objects = CoachQuerySet.as_manager()

    class Meta:
        ordering = ["-established_on", "-pk"]
        verbose_name = _("coach")
        verbose_name_plural = _("coaches")
        constraints = [
            # One contact is coach at one account at a time; lapsed and ended records stay as history.
            models.UniqueConstraint(
                fields=["contact"], condition=Q(status="active"), name="coach_one_active_per_contact"
            ),
        ]
        indexes = [models.Index(fields=["account", "status"]), models.Index(fields=["status", "next_touch_due"])]

    def __str__(self):
        return f"{self.contact} ({self.account})"

    def get_absolute_url(self):
        return reverse_pk("coaches:coach-detail", self.pk)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def last_touch(self) -> datetime.date:
        return self.last_interaction_on or self.established_on

    @property
    def cadence(self) -> int:
        """Days between touches: the coach's own, else the default for his strength."""
        return self.cadence_days or self.DEFAULT_CADENCE_DAYS.get(self.strength, 21)

    def touch_due_refresh(self) -> datetime.date:
        """Recompute `next_touch_due` from the last touch and the cadence (the caller saves)."""
        self.next_touch_due = self.last_touch + datetime.timedelta(days=self.cadence)
        return self.next_touch_due

    @property
    def is_touch_overdue(self) -> bool:
        return self.is_active and self.next_touch_due is not None and self.next_touch_due < timezone.localdate()

    @property
    def is_touch_due(self) -> bool:
        """Due today or overdue."""
        return self.is_active and self.next_touch_due is not None and self.next_touch_due <= timezone.localdate()

    @property
    def is_stale(self) -> bool:
        return self.is_active and self.last_touch < _days_ago(settings.COACH_STALE_DAYS)

    @property
    def is_unverified(self) -> bool:
        return self.is_active and (self.last_verified_on or self.established_on) < _days_ago(
            settings.COACH_UNVERIFIED_DAYS
        )

    @property
    def is_single_threaded(self) -> bool:
        """Held by one rep only (or by nobody)."""
        return self.is_active and self.holder_count <= 1

    @property
    def status_reason_display(self) -> str:
        """Why it lapsed or ended, in the reader's language (a typed reason as typed)."""
        return note_text(self.status_facts, self.status_reason)

    @property
    def at_risk_reason_display(self) -> str:
        """Why it is at risk, in the reader's language (a typed reason as typed)."""
        return note_text(self.at_risk_facts, self.at_risk_reason)

    @property
    def verified_on(self) -> datetime.date:
        """The last verification (the established date when nobody verified him yet)."""
        return self.last_verified_on or self.established_on

    @property
    def verification_expires_on(self) -> datetime.date:
        return self.verified_on + datetime.timedelta(days=settings.COACH_UNVERIFIED_DAYS)

    def missing_for(self, requirement: str, today: datetime.date | None = None) -> list[str]:
        """What this coach lacks for the requirement (empty: he meets it); `qualification_q` for one row.

        Codes: "inactive", "unconfirmed", "strength", one per validity criterion, "unverified".
        """
        requirement = CoachRequirement(requirement)
        if requirement == CoachRequirement.NONE:
            return []
        if not self.is_active:
            return ["inactive"]
        missing = ["unconfirmed"] if self.unconfirmed else []
        if REQUIREMENT_RANK[requirement] >= REQUIREMENT_RANK[CoachRequirement.QUALIFIED]:
            if self.strength not in (self.Strength.COACH, self.Strength.CHAMPION):
                missing.append("strength")
            missing.extend(name for name in VALIDITY_CRITERIA if not getattr(self, name))
        if requirement == CoachRequirement.VERIFIED and self.verified_on < verified_since_cutoff(today):
            missing.append("unverified")
        return missing

    @property
    def criteria_met(self) -> int:
        return sum([self.credible, self.trusts_us, self.wants_us_to_win])

    def health_issues(self) -> list[str]:
        """What is wrong with this relationship, worst first (empty: healthy)."""
        issues = []
        if self.is_active and self.at_risk:
            issues.append(_("at risk"))
        if self.is_stale:
            issues.append(_("stale"))
        elif self.is_touch_overdue:
            issues.append(_("touch overdue"))
        if self.is_single_threaded:
            issues.append(_("single-threaded"))
        if self.is_unverified:
            issues.append(_("unverified"))
        return issues


class Holder(models.Model):
    """A rep who holds the relationship with a coach."""

    coach = models.ForeignKey(Coach, verbose_name=_("coach"), on_delete=models.CASCADE, related_name="holders")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT, related_name="coach_holdings"
    )
    is_primary = models.BooleanField(_("primary"), default=False)
    since = models.DateField(_("since"), default=timezone.localdate)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_primary", "since", "pk"]
        verbose_name = _("holder")
        verbose_name_plural = _("holders")
        constraints = [
            models.UniqueConstraint(fields=["coach", "user"], name="holder_once_per_coach"),
            # At most one primary in the database; the services keep it at exactly one.
            models.UniqueConstraint(fields=["coach"], condition=Q(is_primary=True), name="holder_one_primary"),
        ]

    def __str__(self):
        return f"{self.user} → {self.coach}"


class Interaction(models.Model):
    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        CALL = "call", _("Call")
        MESSAGE = "message", _("Message")
        FAVOUR_GIVEN = "favour_given", _("Favour given")
        FAVOUR_RECEIVED = "favour_received", _("Favour received")
        INSIGHT = "insight", _("Insight")

    coach = models.ForeignKey(Coach, verbose_name=_("coach"), on_delete=models.CASCADE, related_name="interactions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT, related_name="coach_interactions"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    occurred_on = models.DateField(_("date"), default=timezone.localdate)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [models.Index(fields=["coach", "occurred_on"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.occurred_on}"


class HandoverQuerySet(DueQuerySet):
    open_q = Q(status="open")  # Handover.Status.OPEN, defined below


def _handover_due_on() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=settings.HANDOVER_DUE_DAYS)


class Handover(models.Model):
    """A leaving rep's coach relationship passed to a successor; done when the successor holds and touched it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    coach = models.ForeignKey(Coach, verbose_name=_("coach"), on_delete=models.PROTECT, related_name="handovers")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("handover", "from"),
        on_delete=models.PROTECT,
        related_name="handovers_given",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("handover", "to"),
        on_delete=models.PROTECT,
        related_name="handovers_taken",
    )
    # Written before there were facts; `reason_facts` (coachcrm.notes) since.
    reason = models.CharField(_("why at risk"), max_length=300, blank=True)
    reason_facts = models.JSONField(_("why at risk"), default=dict, blank=True, editable=False)
    due_on = models.DateField(_("due"), default=_handover_due_on)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("opened"), default=timezone.now, editable=False)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    # The day the successor was last reminded, so a second reminder run on one day sends nothing.
    reminded_on = models.DateField(_("last reminded"), null=True, blank=True)

    history = HistoricalRecords()
    objects = HandoverQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        constraints = [
            models.UniqueConstraint(
                fields=["coach", "from_user"], condition=Q(status="open"), name="handover_one_open_per_coach_and_from"
            ),
            models.CheckConstraint(condition=~Q(from_user=F("to_user")), name="handover_to_someone_else"),
        ]
        indexes = [models.Index(fields=["to_user", "status"]), models.Index(fields=["from_user", "status"])]

    def __str__(self):
        return f"{self.coach_id}: {self.from_user_id} → {self.to_user_id}"

    @property
    def reason_display(self) -> str:
        """Why the coach was at risk when handed over, in the reader's language."""
        return note_text(self.reason_facts, self.reason)

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_on < timezone.localdate()


# Used in `health_score`, kept here so the weights sit next to the flags they rank.
HEALTH_ORDER = [F("status_rank").asc(), F("health_score").desc(), F("last_interaction_on").asc(nulls_first=True)]


class BuyingStyle(models.TextChoices):
    """The four social styles a coach reports; the values match `User.SellingStyle`."""

    DRIVER = "driver", _("Driver")
    ANALYTICAL = "analytical", _("Analytical")
    EXPRESSIVE = "expressive", _("Expressive")
    AMIABLE = "amiable", _("Amiable")


class StyleReportQuerySet(models.QuerySet):
    def high_confidence(self):
        return self.filter(confidence=StyleReport.Confidence.HIGH)


class StyleReport(models.Model):
    """A decision maker's buying style, as reported by one of our coaches."""

    class Confidence(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("about"), on_delete=models.CASCADE, related_name="style_reports"
    )
    style = models.CharField(_("buying style"), max_length=16, choices=BuyingStyle.choices)
    coach = models.ForeignKey(
        Coach, verbose_name=_("reported by coach"), on_delete=models.PROTECT, related_name="style_reports"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    reported_on = models.DateField(_("reported on"), default=timezone.localdate)
    confidence = models.CharField(_("confidence"), max_length=8, choices=Confidence.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = StyleReportQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_on", "-pk"]
        verbose_name = _("style report")
        verbose_name_plural = _("style reports")
        indexes = [models.Index(fields=["contact", "confidence", "reported_on"])]

    def __str__(self):
        return f"{self.contact}: {self.get_style_display()} ({self.get_confidence_display()})"


class Stance(models.TextChoices):
    """Where a person stands toward us on the deals at his account."""

    SUPPORTER = "supporter", _("Supporter")
    NEUTRAL = "neutral", _("Neutral")
    OPPONENT = "opponent", _("Opponent")


class StanceReport(models.Model):
    """Where a person stands toward us, as a coach told us (coach-sourced) or a rep saw it himself (no coach)."""

    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("about"), on_delete=models.CASCADE, related_name="stance_reports"
    )
    stance = models.CharField(_("stance"), max_length=16, choices=Stance.choices)
    # Empty: the rep's own observation, seen by whoever sees the person. Set: coach-sourced, seen
    # only by those who may see the coach (access.stance_reports), like a style report.
    coach = models.ForeignKey(
        Coach,
        verbose_name=_("reported by coach"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stance_reports",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    reported_on = models.DateField(_("reported on"), default=timezone.localdate)
    # For an opponent, the plan to win him over; the committee map calls an opponent without one a gap.
    note = models.CharField(_("note or plan"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-reported_on", "-pk"]
        verbose_name = _("stance report")
        verbose_name_plural = _("stance reports")
        indexes = [models.Index(fields=["contact", "reported_on"])]

    def __str__(self):
        return f"{self.contact}: {self.get_stance_display()}"


class PlaybookCard(models.Model):
    """How to sell to one buying style (the mirror playbook); admins edit the text."""

    UNKNOWN = "unknown"
    STYLE_CHOICES = [*BuyingStyle.choices, (UNKNOWN, _("Unknown"))]

    style = models.CharField(_("buying style"), max_length=16, choices=STYLE_CHOICES, unique=True)
    in_short = models.CharField(
        _("in short"), max_length=200, help_text=_("The one-line shift a rep of another style has to make.")
    )
    pace = models.TextField(_("pace"))
    detail = models.TextField(_("level of detail"))
    bring = models.TextField(_("what to bring"))
    ask = models.TextField(_("what to ask"))
    avoid = models.TextField(_("what to avoid"))
    close = models.TextField(_("how to close"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("playbook card")
        verbose_name_plural = _("playbook cards")

    def __str__(self):
        return self.get_style_display()


class CoachMove(models.Model):
    """A coach who changed companies, and the prospect opened at the new one (made once per move)."""

    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("person"), on_delete=models.PROTECT, related_name="coach_moves"
    )
    from_account = models.ForeignKey(
        "accounts.Account",
        verbose_name=pgettext_lazy("coach move", "from"),
        on_delete=models.PROTECT,
        related_name="coach_moves_out",
    )
    to_account = models.ForeignKey(
        "accounts.Account",
        verbose_name=pgettext_lazy("coach move", "to"),
        on_delete=models.PROTECT,
        related_name="coach_moves_in",
    )
    old_coach = models.ForeignKey(
        Coach, verbose_name=_("former coach record"), on_delete=models.PROTECT, related_name="moves_out"
    )
    new_coach = models.ForeignKey(
        Coach,
        verbose_name=_("candidate coach record"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="moves_in",
    )
    start_date = models.DateField(_("started there"))
    opportunity = models.OneToOneField(
        "pipeline.Opportunity",
        verbose_name=_("prospect"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coach_move",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-start_date", "-pk"]
        verbose_name = _("coach move")
        verbose_name_plural = _("coach moves")
        constraints = [
            # The idempotency key of coach_moved_task: a second run finds the row and makes nothing.
            models.UniqueConstraint(fields=["contact", "to_account", "start_date"], name="coach_move_once"),
        ]

    def __str__(self):
        return f"{self.contact}: {self.from_account} → {self.to_account}"


class VisibleAccount(models.Model):
    """An account a rep or a manager may see: derived data, kept by `coaches.visibility`.

    What `access.account_ids` answers, as rows: a rep's own accounts, those where he holds a coach
    and those his active territories cover; a manager's, those of his whole team. "The accounts I
    may see" is then one range of the (user, account) index, which PostgreSQL estimates from its
    statistics, instead of a union of three scans per query (a manager's ~5,000 accounts) or their
    ids sent as an array it plans element by element.
    """

    # The leading column of the unique index, which serves the lookups by user.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "account"], name="visible_once")]

    def __str__(self):
        return f"{self.user_id} sees {self.account_id}"
