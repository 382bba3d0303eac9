# An uploaded CSV file, kept for its uploader between the dry run and the confirmation.
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportBatchQuerySet(models.QuerySet):
    def of(self, user):
        return self.filter(user=user)


class ImportBatch(models.Model):
    """An uploaded CSV file kept, for its uploader only, between its dry run and its confirmation."""

    class Status(models.TextChoices):
        # A large file's dry run, by a background job.
        CHECKING = "checking", _("Checking")
        PENDING = "pending", _("Waiting for confirmation")
        # Confirmed, being imported by a background job (a large file); back to pending if refused.
        CONFIRMING = "confirming", _("Importing")
        IMPORTED = "imported", _("Imported")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_batches")
    kind = models.CharField(_("kind"), max_length=32)
    filename = models.CharField(_("file name"), max_length=200)
    # The decoded text, not a path: nothing the user sends decides where anything is stored.
    content = models.TextField()
    report = models.JSONField(default=dict)
    # The mapping step's choices: file header → column ("" ignores it), a value for the empty
    # cells of a column, and per list column {file value: the list's name}.
    columns = models.JSONField(default=dict, blank=True)
    defaults = models.JSONField(default=dict, blank=True)
    values = models.JSONField(default=dict, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    # When its background job (dry run or confirmation) was last queued: one lost is requeued.
    queued_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    imported_at = models.DateTimeField(_("imported"), null=True, blank=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("CSV import")
        verbose_name_plural = _("CSV imports")

    def __str__(self):
        return f"{self.filename} ({self.kind})"


class ImportCancel(models.Model):
    """The uploader asked the background job of a batch to stop: the job reads this row as it goes.

    Its own table, not a field of the batch nor a cache key: the job holds the batch row locked
    for its whole transaction (an update would wait for the end), and a cache may be cleared
    or absent; a committed row here is seen by the job's next read (PostgreSQL, read committed).
    No database foreign key either, for the same lock: its check would wait on the batch row.
    """

    batch = models.OneToOneField(
        ImportBatch, on_delete=models.CASCADE, db_constraint=False, related_name="cancel_request"
    )
    requested_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"cancel {self.batch_id}"


class ImportMapping(models.Model):
    """A mapping step's choices saved by name, to reuse for the next file of the same export."""

    kind = models.CharField(_("kind"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    columns = models.JSONField(default=dict, blank=True)
    defaults = models.JSONField(default=dict, blank=True)
    values = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("saved by")
    )
    updated_at = models.DateTimeField(_("saved"), auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("saved import mapping")
        verbose_name_plural = _("saved import mappings")
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="csvio_mapping_kind_name")]

    def __str__(self):
        return self.name
