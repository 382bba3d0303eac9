# Users (role, manager, selling style, status, language) and their notifications.
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import connections, models, router
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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
        verbose_name = _("user")
        verbose_name_plural = _("users")
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

    def unread_notification_count(self) -> int:
        """How many of his notices are unread (the menu's badge): `notifications.unread().count()`.

        Every page shows it, so the count of `NotificationQuerySet.unread()` is compiled once per
        database (with a stand-in id, its one parameter) rather than by the ORM on each request
        (~0.3 ms of CPU a page): what `unread()` means is still said there only.
        """
        alias = router.db_for_read(Notification)
        if alias not in _UNREAD_COUNT_SQL:
            query = Notification.objects.filter(user_id=0).unread().order_by().values("pk").query
            sql, params = query.get_compiler(alias).as_sql()
            # The ORM's own SQL, counted; a definition with parameters of its own takes the ORM's path.
            _UNREAD_COUNT_SQL[alias] = f"SELECT COUNT(*) FROM ({sql}) unread" if list(params) == [0] else None  # noqa: S608
        sql = _UNREAD_COUNT_SQL[alias]
        if sql is None:
            return self.notifications.unread().count()
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [self.pk])
            return cursor.fetchone()[0]


# The badge's count, compiled once per database alias (see `User.unread_notification_count`).
_UNREAD_COUNT_SQL: dict[str, str | None] = {}


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


class EmailQuerySet(models.QuerySet):
    def due(self):
        """Waiting e-mails: never sent, or failed for a reason a later try may cure."""
        return self.filter(status=Email.Status.PENDING)


class Email(models.Model):
    """One outgoing e-mail (a notice, a password reset): sent by a job, its failure kept for the admins."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    recipient = models.EmailField(_("recipient"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    objects = EmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")

    def __str__(self):
        return f"{self.recipient}: {self.subject}"


class SecurityEventQuerySet(models.QuerySet):
    def sign_ins(self):
        """What a person checks on his profile: sign-ins, failed ones and lock-outs."""
        kinds = SecurityEvent.Kind
        return self.filter(kind__in=[kinds.LOGIN, kinds.LOGIN_FAILED, kinds.LOCKED_OUT, kinds.TOKEN_CREATED])


class SecurityEvent(models.Model):
    """One sign-in or change of sign-in security, with time, user and address (admins read them; pruned)."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("signed in")
        LOGIN_FAILED = "login_failed", _("sign-in failed")
        LOCKED_OUT = "locked_out", _("locked out")
        LOGOUT = "logout", _("signed out")
        PASSWORD_CHANGED = "password_changed", _("password changed")
        PASSWORD_RESET = "password_reset", _("password reset")
        MFA_ADDED = "mfa_added", _("second factor set up")
        MFA_REMOVED = "mfa_removed", _("second factor removed")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")

    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    # Null for a failed sign-in under a name nobody has; the name as typed is kept in `username`.
    user = models.ForeignKey(
        User, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL, related_name="security_events"
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    # Who did it when it is not the user himself (an admin resetting a second factor).
    by = models.ForeignKey(
        User, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="securityevent_user_time"),
            models.Index(fields=["kind", "-created_at"], name="securityevent_kind_time"),
            models.Index(fields=["created_at"], name="securityevent_time"),
        ]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.username}"
