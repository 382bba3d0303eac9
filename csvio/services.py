# The writes of an import: keep the upload with its dry-run report, then confirm it.
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from csvio import importers
from csvio.models import ImportBatch
from team.models import User

# An upload nobody confirmed is dropped after this long.
PENDING_KEPT_FOR = datetime.timedelta(days=1)


@transaction.atomic
def import_batch_create(*, by: User, kind: str, filename: str, data: bytes) -> ImportBatch:
    """Keep an uploaded CSV file and dry-run it: the report says what confirming would do; nothing is written."""
    importer = importers.importer_class(kind)(user=by)
    if len(data) > settings.CSV_IMPORT_MAX_BYTES:
        raise ValidationError(
            {"file": _("The file is larger than %(mb)s MB; split it.") % {"mb": settings.CSV_IMPORT_MAX_BYTES // 2**20}}
        )
    try:
        text = importers.decode(data)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    report = importers.run(importer, text, commit=False)
    ImportBatch.objects.filter(
        user=by, status=ImportBatch.Status.PENDING, created_at__lt=timezone.now() - PENDING_KEPT_FOR
    ).delete()
    return ImportBatch.objects.create(
        user=by, kind=kind, filename=filename[:200], content=text, report=report.as_dict()
    )


@transaction.atomic
def import_batch_confirm(*, batch: ImportBatch, by: User) -> ImportBatch:
    """Import every row of a dry-run file, or none: a row refused now (data changed since) blocks all."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.user_id != by.pk:
        raise ValidationError(_("Only the person who uploaded a file can import it."))
    if batch.status != ImportBatch.Status.PENDING:
        raise ValidationError(_("This file was already imported."))
    report = importers.run(importers.importer_class(batch.kind)(user=by), batch.content, commit=True)
    batch.report = report.as_dict()
    if report.committed:
        batch.status, batch.imported_at, batch.content = ImportBatch.Status.IMPORTED, timezone.now(), ""
    batch.save()
    return batch
