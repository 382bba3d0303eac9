from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from accounts.models import Account


class UserQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True).exclude(status=User.Status.DEPARTED)

    def reps(self):
        return self.filter(role=User.Role.REP)

    def available(self):
        """Users who may be given new work: able to log in and not leaving."""
        return self.active().filter(status=User.Status.ACTIVE)

    def team_of(self, manager):
        """The manager himself and the reps who report to him."""
        return self.filter(Q(pk=manager.pk) | Q(manager=manager))


class CrmUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    class Role(models.TextChoices):
        REP = "rep", _("Sales rep")
        MANAGER = "manager", _("Manager")
        ADMIN = "admin", _("Admin")

    class SellingStyle(models.TextChoices):
        DRIVER = "driver", _("Driver")
        ANALYTICAL = "analytical", _("Analytical")
        EXPRESSIVE = "expressive", _("Expressive")
        AMIABLE = "amiable", _("Amiable")
        UNKNOWN = "unknown", _("Unknown")

    class Status(models.TextChoices):
        # Its own context: an active user is employed (在职), an active coach is valid (有效).
        ACTIVE = "active", pgettext_lazy("user status", "Active")
        LEAVING = "leaving", _("Leaving")
        DEPARTED = "departed", _("Departed")

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.REP)
    manager = models.ForeignKey(
        "self",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    selling_style = models.CharField(
        _("selling style"), max_length=16, choices=SellingStyle.choices, default=SellingStyle.UNKNOWN
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    departure_date = models.DateField(_("departure date"), null=True, blank=True)
    # Set by the flagging task when it has run for this departure; a periodic sweep enqueues
    # it again for leaving users still without it (the broker was down when they were marked).
    departure_flagged_at = models.DateTimeField(_("at-risk coaches flagged"), null=True, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: follow the browser."),
    )

    objects = CrmUserManager()

    class Meta:
        ordering = ["first_name", "last_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="departed") | Q(departure_date__isnull=False),
                name="user_departed_has_date",
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_rep(self) -> bool:
        return self.role == self.Role.REP

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def can_log_in(self) -> bool:
        return self.is_active and self.status != self.Status.DEPARTED


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app notice for one user (a deal sent back, a grant to approve, a handover)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    message = models.CharField(_("message"), max_length=500)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return self.message


class TerritoryQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def in_precedence(self):
        return self.order_by("order", "pk")

    def covering(self, account, product_line_ids=None):
        """Active territories whose rule matches the account, first by precedence.

        `product_line_ids` stands in for the account's product lines while it is not saved yet.
        """
        if product_line_ids is None:
            product_line_ids = account.product_lines.values("pk")
        rule = territory_rule(
            region=account.region_id,
            industry=account.industry_id,
            size_tier=account.size_tier,
            product_lines=product_line_ids,
        )
        return self.active().filter(rule).in_precedence()

    def covering_ref(self, depth: int = 1):
        """Active territories matching the account of an enclosing query, `depth` queries out."""
        product_lines = Account.product_lines.through.objects.filter(account_id=outer_ref("pk", depth + 1))
        rule = territory_rule(
            region=outer_ref("region_id", depth),
            industry=outer_ref("industry_id", depth),
            size_tier=outer_ref("size_tier", depth),
            product_lines=product_lines.values("productline_id"),
        )
        return self.active().filter(rule).in_precedence()


def territory_rule(*, region, industry, size_tier, product_lines) -> Q:
    """A territory matches when each of its four conditions is empty ("any") or equals the account's."""
    return (
        (Q(region__isnull=True) | Q(region_id=region))
        & (Q(industry__isnull=True) | Q(industry_id=industry))
        & (Q(size_tier="") | Q(size_tier=size_tier))
        & (Q(product_line__isnull=True) | Q(product_line_id__in=product_lines))
    )


def outer_ref(name: str, depth: int = 1):
    """A reference to a field of the query `depth` levels out (1 is plain OuterRef)."""
    ref = name
    for _level in range(depth):
        ref = models.OuterRef(ref)
    return ref


class Territory(models.Model):
    """A rule over region, product line, size tier and industry that routes new accounts to its members."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    # Precedence: the first active territory (lowest order) whose rule matches an account wins it.
    order = models.PositiveIntegerField(_("precedence"), unique=True)
    members = models.ManyToManyField(User, verbose_name=_("members"), blank=True, related_name="territories")
    region = models.ForeignKey(
        "accounts.Region",
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="territories",
    )
    product_line = models.ForeignKey(
        "accounts.ProductLine",
        verbose_name=_("product line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="territories",
    )
    size_tier = models.CharField(_("size tier"), max_length=8, choices=Account.SizeTier.choices, blank=True)
    industry = models.ForeignKey(
        "accounts.Industry",
        verbose_name=_("industry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="territories",
    )
    active = models.BooleanField(_("active"), default=True)
    # The round-robin cursor: the member who got the last routed account. Moved with
    # queryset.update() under a row lock, so it leaves no history row per account.
    last_assigned = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    history = HistoricalRecords(m2m_fields=[members], excluded_fields=["last_assigned"])
    objects = TerritoryQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")

    def __str__(self):
        return self.name

    def next_member(self, *, after_id: int | None, exclude: User | None = None, members=None) -> User | None:
        """The member who may take new work after `after_id`, in a fixed order (by id), wrapping.

        `members`: the territory's available members by id, when the caller read them already.
        """
        if members is None:
            members = self.members.available().order_by("pk")
        members = [m for m in members if exclude is None or m.pk != exclude.pk]
        later = [m for m in members if after_id is not None and m.pk > after_id]
        return (later or members or [None])[0]

    def matches(self, *, region_id, industry_id, size_tier: str, product_line_ids) -> bool:
        """The rule of `territory_rule`, for accounts already in memory (bulk work)."""
        return (
            self.region_id in (None, region_id)
            and self.industry_id in (None, industry_id)
            and self.size_tier in ("", size_tier)
            and (self.product_line_id is None or self.product_line_id in product_line_ids)
        )

    def rule_display(self) -> str:
        """The rule in words: "East · Key account · any industry · any product line"."""
        parts = [
            str(self.region) if self.region_id else _("any region"),
            str(self.product_line) if self.product_line_id else _("any product line"),
            self.get_size_tier_display() if self.size_tier else _("any size"),
            str(self.industry) if self.industry_id else _("any industry"),
        ]
        return " · ".join(str(p) for p in parts)


class TerritoryCoverage(models.Model):
    """A member of an active territory whose rule covers an account: derived data, kept by
    `team.services.coverage_refresh`.

    "The accounts my territories cover" is then an index lookup on the user, which PostgreSQL
    also estimates right (a rep in no territory has no rows), instead of every territory's rule
    tested against every account on every page.
    """

    # The leading column of the unique index, which serves the lookups by user.
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="coverage")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="coverage")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "account", "territory"], name="territory_covers_once"),
        ]

    def __str__(self):
        return f"{self.territory_id} covers {self.account_id} for {self.user_id}"
