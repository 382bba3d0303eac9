# Tasks: something a person has to do by a day, optionally about a coach, an account, a deal or a handover.

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coachcrm.models import DueQuerySet


class TaskQuerySet(DueQuerySet):
    open_q = Q(done_at__isnull=True)

    def done(self):
        return self.exclude(self.open_q)


class Task(models.Model):
    """Something to do by a day: a next step, a call to make, a handover to finish, a style to ask a coach for."""

    class Kind(models.TextChoices):
        TODO = "todo", _("to do")
        # Ask `coach` how `contact` buys (style_request): one open at a time per coach and person.
        STYLE_REQUEST = "style_request", _("style request")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TODO)
    subject = models.CharField(_("subject"), max_length=200)
    due_on = models.DateField(_("due"), default=timezone.localdate)
    due_time = models.TimeField(_("time"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="tasks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    coach = models.ForeignKey(
        "coaches.Coach", verbose_name=_("coach"), on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tasks",
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tasks",
    )
    handover = models.ForeignKey(
        "coaches.Handover",
        verbose_name=_("handover"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tasks",
    )
    contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # The due date a `task.due` webhook event went out for: a second run sends nothing, a task moved
    # to another day is announced again on that day, one the job missed is caught up within
    # TASK_DUE_CATCHUP_DAYS (agenda.services.tasks_due_emit).
    due_event_on = models.DateField(_("due event sent for"), null=True, blank=True, editable=False)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "due_time", "pk"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [models.Index(fields=["owner", "due_on"], condition=Q(done_at__isnull=True), name="task_open_due")]
        constraints = [
            # Asking twice while the first request is open is the same request (agenda.services.style_request).
            models.UniqueConstraint(
                fields=["coach", "contact"],
                condition=Q(kind="style_request", done_at__isnull=True),
                name="task_one_open_style_request",
            )
        ]

    def __str__(self):
        return self.subject

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return not self.is_done and self.due_on < timezone.localdate()


class DigestSent(models.Model):
    """The day a person got the daily digest: the key that makes a second run that day send nothing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_per_day")]

    def __str__(self):
        return f"{self.user_id} {self.day}"


class DigestOptOut(models.Model):
    """A person who asked not to get the daily digest."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_opt_out")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self):
        return str(self.user_id)


class Note(models.Model):
    """A free-text note on an account, a person or a deal, for its timeline."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("person"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("note"), max_length=2000)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        constraints = [
            # On exactly one record.
            models.CheckConstraint(
                condition=(
                    Q(account__isnull=False, contact__isnull=True, opportunity__isnull=True)
                    | Q(account__isnull=True, contact__isnull=False, opportunity__isnull=True)
                    | Q(account__isnull=True, contact__isnull=True, opportunity__isnull=False)
                ),
                name="note_on_one_record",
            )
        ]

    def __str__(self):
        return self.text[:60]
