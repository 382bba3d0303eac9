# The kernel's models: the outbox of background jobs (coachcrm.jobs records and relays them), and
# the tables' data versions that keyed caches read (coachcrm.versions).
import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DueQuerySet(models.QuerySet):
    """Rows with a due day (`due_on`) that are open until someone finishes them: a task, a handover.

    A subclass says what open means (`open_q`)."""

    open_q: Q

    def open(self):
        return self.filter(self.open_q)

    def due_by(self, day: datetime.date):
        """Open rows due on or before the day (overdue ones included)."""
        return self.open().filter(due_on__lte=day)


class JobQuerySet(models.QuerySet):
    def unsent(self):
        return self.exclude(status=Job.Status.SENT)

    def backlog(self) -> dict:
        """For the admin: unsent (waiting or failed) and failed counts, the oldest unsent job's age, and
        `warn` when it has waited longer than JOBS_WARN_MINUTES (the broker or the worker is away)."""
        counts = self.aggregate(
            unsent=models.Count("pk", filter=~Q(status=Job.Status.SENT)),
            failed=models.Count("pk", filter=Q(status=Job.Status.FAILED)),
            oldest=models.Min("created_at", filter=~Q(status=Job.Status.SENT)),
        )
        oldest = counts.pop("oldest")
        age = timezone.now() - oldest if oldest else datetime.timedelta(0)
        counts["oldest_age"], counts["minutes"] = age, int(age.total_seconds() // 60)
        counts["warn"] = age > datetime.timedelta(minutes=settings.JOBS_WARN_MINUTES)
        return counts


class Job(models.Model):
    """A background job a write caused, recorded in the write's transaction and handed to Celery after it.

    Addressed by the task's registered name, so the kernel needs no domain import. `key` says
    what the job is about (`account-send-back:12`): while one job with a key is waiting, a
    second enqueue with that key joins it instead of adding another.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    task = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict)
    key = models.CharField(_("key"), max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=Q(status="pending"), name="job_one_pending_per_key"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="job_status_created")]

    def __str__(self) -> str:
        return f"{self.task} ({self.key})"


class TableVersion(models.Model):
    """How many committed transactions have written to a table: what a cached report is keyed by.

    Bumped after each commit that wrote to the table, whatever wrote it (a service, the Django
    admin, an import, a job, a bulk update): `coachcrm.versions` watches the statements themselves.
    """

    table = models.CharField(_("table"), max_length=63, primary_key=True)
    version = models.PositiveBigIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("table version")
        verbose_name_plural = _("table versions")

    def __str__(self) -> str:
        return f"{self.table} v{self.version}"
