# Catalog items, the authority matrix (limits per role or user) and grants.
import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coachcrm.inputs import validate_amount, validate_quantity
from coachcrm.links import reverse_pk
from team.models import User

MONEY = {"max_digits": 12, "decimal_places": 2}
# An authority limit: empty for none, else an amount within coachcrm.inputs' bounds.
LIMIT = {"null": True, "blank": True, "validators": [validate_amount], **MONEY}
LIMIT_FIELDS = ("per_grant", "per_month", "per_account_year", "per_recipient_year")
LIMIT_LABELS = {
    "per_grant": _("per grant"),
    "per_month": _("your grants this month"),
    "per_account_year": _("the account this year"),
    "per_recipient_year": _("the recipient this year"),
}
# A recipient whose yearly total reaches this share of the cap is flagged as nearing it.
NEARING_CAP_SHARE = Decimal("0.8")


class ServiceItemQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class ServiceItem(models.Model):
    """An extra service or gift the company supplies, at a unit cost."""

    class Category(models.TextChoices):
        SERVICE = "service", _("Service")
        GIFT = "gift", _("Gift")
        HOSPITALITY = "hospitality", _("Hospitality")

    name = models.CharField(_("name"), max_length=120, unique=True)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, default=Category.SERVICE)
    description = models.TextField(_("description"), blank=True)
    unit_cost = models.DecimalField(_("unit cost"), validators=[validate_amount], **MONEY)
    active = models.BooleanField(_("active"), default=True)
    max_quantity = models.PositiveIntegerField(
        _("maximum quantity per grant"),
        null=True,
        blank=True,
        validators=[validate_quantity],
        help_text=_("Empty for no maximum."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    history = HistoricalRecords()
    objects = ServiceItemQuerySet.as_manager()

    class Meta:
        ordering = ["category", "name"]
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        constraints = [
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="service_item_unit_cost_non_negative"),
            models.CheckConstraint(
                condition=Q(max_quantity__isnull=True) | Q(max_quantity__gte=1), name="service_item_max_quantity_min_1"
            ),
        ]

    def __str__(self):
        return self.name


class Authority(models.Model):
    """How much a role (or one user, replacing his role's row) may grant without asking.

    An empty limit means "no limit". The month limit counts what the user authorised himself;
    the account and recipient limits count everything the company gave them that year.
    """

    LIMIT_FIELDS = LIMIT_FIELDS

    role = models.CharField(_("role"), max_length=16, choices=User.Role.choices, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="authority",
    )
    per_grant = models.DecimalField(_("limit per grant"), **LIMIT)
    per_month = models.DecimalField(_("limit per rep per calendar month"), **LIMIT)
    per_account_year = models.DecimalField(_("limit per account per calendar year"), **LIMIT)
    per_recipient_year = models.DecimalField(_("limit per recipient per calendar year"), **LIMIT)

    history = HistoricalRecords()

    class Meta:
        ordering = ["user", "role"]
        verbose_name = _("authority")
        verbose_name_plural = _("authorities")
        constraints = [
            # A row is either a role's default or one user's override, never both.
            models.CheckConstraint(
                condition=(Q(user__isnull=True) & ~Q(role="")) | (Q(user__isnull=False) & Q(role="")),
                name="authority_role_xor_user",
            ),
            models.UniqueConstraint(fields=["role"], condition=Q(user__isnull=True), name="authority_one_per_role"),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": 0}),
                    name=f"authority_{name}_non_negative",
                )
                for name in LIMIT_FIELDS
            ],
        ]

    def __str__(self):
        return str(self.user) if self.user_id else self.get_role_display()

    def limits(self) -> dict[str, Decimal | None]:
        return {name: getattr(self, name) for name in self.LIMIT_FIELDS}


class GrantQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=Grant.Status.APPROVED)

    def pending(self):
        return self.filter(status=Grant.Status.PENDING)

    def in_month(self, day: datetime.date):
        return self.in_period(*month_bounds(day))

    def in_year(self, year: int):
        return self.in_period(*year_bounds(year))

    def in_period(self, start: datetime.datetime, end: datetime.datetime):
        return self.filter(created_at__gte=start, created_at__lt=end)

    def awaiting(self, user):
        """Pending grants the user may decide: his reports' (not sent on to an admin); an admin all."""
        pending = self.pending()
        if user.is_admin:
            return pending
        return pending.filter(approver=user, needs_admin=False)


class Grant(models.Model):
    """One entry of the ledger: an item given to a person at an account. Never edited once approved."""

    class Status(models.TextChoices):
        APPROVED = "approved", _("Approved")
        PENDING = "pending", _("Pending approval")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    class Reason(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint resolution")
        RELATIONSHIP = "relationship", _("Relationship")
        EVENT = "event", _("Event or visit")
        OTHER = "other", _("Other")

    item = models.ForeignKey(ServiceItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="grants")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[validate_quantity])
    # The price at the time of the grant, so that a later price change leaves the ledger whole.
    unit_cost = models.DecimalField(_("unit cost"), **MONEY)
    amount = models.DecimalField(_("amount"), **MONEY)
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="grants"
    )
    recipient = models.ForeignKey(
        "accounts.Contact", verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="grants_received"
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grants",
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("granted by"), on_delete=models.PROTECT, related_name="grants"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    details = models.CharField(_("details"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    # Which limits the request exceeded and by how much, as the rep and the approver see it.
    over_limits = models.JSONField(_("limits exceeded"), default=list, blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grants_to_approve",
    )
    needs_admin = models.BooleanField(_("needs an admin"), default=False)
    # Whose authority the approved amount counts against (the rep himself, or who approved it).
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("authorised by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grants_authorised",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grants_decided",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now, editable=False)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="grant_quantity_min_1"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="grant_unit_cost_non_negative"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="grant_amount_non_negative"),
            models.CheckConstraint(condition=Q(amount=F("unit_cost") * F("quantity")), name="grant_amount_is_cost"),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(authorised_by__isnull=False), name="grant_approved_has_authority"
            ),
        ]
        indexes = [
            models.Index(fields=["authorised_by", "status", "created_at"]),
            models.Index(fields=["account", "status", "created_at"]),
            models.Index(fields=["recipient", "status", "created_at"]),
            models.Index(fields=["status", "approver"]),
            # The grant list's order: a page of the newest grants is read off this index, not sorted.
            models.Index(fields=["-created_at", "-id"], name="grant_newest_first"),
        ]

    def __str__(self):
        # Worded in the reader's language: notices name grants this way.
        return gettext("%(quantity)s × %(item)s for %(recipient)s") % {  # noqa: RUF001
            "quantity": self.quantity,
            "item": self.item,
            "recipient": self.recipient,
        }

    def get_absolute_url(self):
        return reverse_pk("service_catalog:grant-detail", self.pk)

    @property
    def over_limits_display(self) -> list[dict]:
        """The limits it exceeded, for reading: labels in the reader's language, amounts as Decimal."""
        return limits_exceeded(self.over_limits)

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    def can_decide(self, user) -> bool:
        """An admin, or the manager it is routed to until it is passed on to an admin."""
        return self.is_pending and (user.is_admin or (self.approver_id == user.pk and not self.needs_admin))

    def can_cancel(self, user) -> bool:
        return self.is_pending and self.rep_id == user.pk


def limits_exceeded(excess: list[dict]) -> list[dict]:
    """Stored excess rows (`authority_excess`, `Grant.over_limits`) for reading.

    The label is looked up from the limit's name in the reader's language: rows written
    before carry a label in the language of whoever asked for the grant.
    """
    return [
        {
            "authority": row["authority"],
            "limit": row["limit"],
            "label": str(LIMIT_LABELS.get(row["limit"], row.get("label", ""))),
            "total": Decimal(row["total"]),
            "limit_value": Decimal(row["limit_value"]),
            "over": Decimal(row["over"]),
        }
        for row in excess
    ]


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def month_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The calendar month holding `day`, in the organisation's time zone, as [start, end)."""
    first = day.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return _local_midnight(first), _local_midnight(following)


def year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    return _local_midnight(datetime.date(year, 1, 1)), _local_midnight(datetime.date(year + 1, 1, 1))


# The ledger's groups: a kept sum per year and account, recipient or rep (service_catalog.ledger_sums).
LEDGER_KINDS = ("account", "recipient", "rep")
LEDGER_MONEY = {"max_digits": 14, "decimal_places": 2, "default": 0}


class LedgerGroup(models.Model):
    """A year's approved and pending grants of one account, recipient or rep (exactly one of the three).

    Kept by the grant services in the write's transaction (`ledger_sums_refresh`); `manage.py
    ledger_rebuild` recomputes them all. The ledger of a user who sees every grant reads a page of
    them off an index in its order, instead of summing the year's grants on every view.
    """

    year = models.PositiveSmallIntegerField()
    account = models.ForeignKey("accounts.Account", null=True, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey("accounts.Contact", null=True, on_delete=models.CASCADE, related_name="+")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    approved = models.DecimalField(**LEDGER_MONEY)
    approved_count = models.PositiveIntegerField(default=0)
    pending = models.DecimalField(**LEDGER_MONEY)
    pending_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(account__isnull=False, recipient__isnull=True, rep__isnull=True)
                    | Q(account__isnull=True, recipient__isnull=False, rep__isnull=True)
                    | Q(account__isnull=True, recipient__isnull=True, rep__isnull=False)
                ),
                name="ledger_group_one_kind",
            ),
            *[
                models.UniqueConstraint(
                    fields=["year", kind], condition=Q(**{f"{kind}__isnull": False}), name=f"ledger_group_{kind}_once"
                )
                for kind in LEDGER_KINDS
            ],
        ]
        indexes = [
            # The ledger's order (largest first), read off the index a page at a time.
            models.Index(
                fields=["year", "-approved"], condition=Q(**{f"{kind}__isnull": False}), name=f"ledger_{kind}_largest"
            )
            for kind in LEDGER_KINDS
        ]

    def __str__(self):
        kind = next(kind for kind in LEDGER_KINDS if getattr(self, f"{kind}_id"))
        return f"{self.year} {kind} {getattr(self, f'{kind}_id')}"


class LedgerYear(models.Model):
    """A year's approved and pending totals and its number of groups of each kind (from its `LedgerGroup` rows)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    approved = models.DecimalField(**LEDGER_MONEY)
    approved_count = models.PositiveIntegerField(default=0)
    pending = models.DecimalField(**LEDGER_MONEY)
    pending_count = models.PositiveIntegerField(default=0)
    accounts = models.PositiveIntegerField(default=0)
    recipients = models.PositiveIntegerField(default=0)
    reps = models.PositiveIntegerField(default=0)

    def __str__(self):
        return str(self.year)
