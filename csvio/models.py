# An uploaded CSV file, kept for its uploader between the dry run and the confirmation.
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
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


class ExternalId(models.Model):
    """The id a record has in the system it was imported from (HubSpot Record ID, Salesforce Id).

    A second import of the same export finds its records by it and updates them instead of adding
    duplicates, and related files (contacts → accounts, deals → accounts) link by it. Generic (a
    content type and an id) because the records live in apps above this one; each model that has
    ids declares a `GenericRelation` named `external_ids` (deleted with the record, moved by a merge,
    see coachcrm.merge). Written only through csvio.external_ids.
    """

    class Source(models.TextChoices):
        HUBSPOT = "hubspot", _("HubSpot")
        SALESFORCE = "salesforce", _("Salesforce")
        COACHCRM = "coachcrm", _("CoachCRM")
        OTHER = "other", _("Other system")

    class Kind(models.TextChoices):
        ACCOUNT = "account", _("account")
        CONTACT = "contact", _("contact")
        OPPORTUNITY = "opportunity", _("opportunity")

    source = models.CharField(_("source system"), max_length=16, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    external_id = models.CharField(_("external id"), max_length=100)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["source", "external_id"]
        verbose_name = _("external id")
        verbose_name_plural = _("external ids")
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "external_id"], name="csvio_external_id_unique"),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="csvio_external_id_record")]

    def __str__(self):
        return _("%(source)s id %(id)s") % {"source": self.get_source_display(), "id": self.external_id}
