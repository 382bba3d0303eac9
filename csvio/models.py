# An uploaded CSV file, kept for its uploader between the dry run and the confirmation.
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportBatchQuerySet(models.QuerySet):
    def of(self, user):
        return self.filter(user=user)


class ImportBatch(models.Model):
    """An uploaded CSV file kept, for its uploader only, between its dry run and its confirmation."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        IMPORTED = "imported", _("Imported")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_batches")
    kind = models.CharField(_("kind"), max_length=32)
    filename = models.CharField(_("file name"), max_length=200)
    # The decoded text, not a path: nothing the user sends decides where anything is stored.
    content = models.TextField()
    report = models.JSONField(default=dict)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    imported_at = models.DateTimeField(_("imported"), null=True, blank=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("CSV import")

    def __str__(self):
        return f"{self.filename} ({self.kind})"
