# The writes of an import: keep the upload with its dry-run report, map it, then confirm it.
import datetime
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coachcrm import jobs
from csvio import importers
from csvio.models import ImportBatch, ImportCancel, ImportMapping
from team.models import User

logger = logging.getLogger(__name__)

# An upload nobody confirmed is dropped after this long.
PENDING_KEPT_FOR = datetime.timedelta(days=1)
# A batch checking or confirming for longer than this lost its job (a worker killed, a broker restarted).
CONFIRM_STALE_AFTER = datetime.timedelta(minutes=15)


def _importer(batch: ImportBatch, by: User) -> importers.Importer:
    return importers.importer_class(batch.kind)(user=by, values=batch.values)


def _dry_run(batch: ImportBatch, by: User, progress=None) -> None:
    report = importers.run(
        _importer(batch, by),
        batch.content,
        commit=False,
        columns=batch.columns,
        defaults=batch.defaults,
        progress=progress,
    )
    batch.report, batch.row_count = report.as_dict(), len(report.rows)


def _check(batch: ImportBatch, by: User) -> None:
    """Dry-run a batch now, or, for a large file, queue its dry run (saved either way)."""
    # Lines, not rows: a cheap count that a quoted cell with line breaks only overestimates.
    lines = batch.content.count("\n")
    if lines > settings.CSV_IMPORT_BACKGROUND_ROWS:
        batch.status, batch.row_count, batch.queued_at = ImportBatch.Status.CHECKING, lines, timezone.now()
        batch.save()
        _enqueue(batch.pk)
        return
    _dry_run(batch, by)
    batch.save()


@transaction.atomic
def import_batch_create(
    *, by: User, kind: str, filename: str, data: bytes, mapping: ImportMapping | None = None
) -> ImportBatch:
    """Keep an uploaded CSV file and dry-run it: the report says what confirming would do; nothing is written."""
    importers.importer_class(kind)
    if len(data) > settings.CSV_IMPORT_MAX_BYTES:
        raise ValidationError(
            {"file": _("The file is larger than %(mb)s MB; split it.") % {"mb": settings.CSV_IMPORT_MAX_BYTES // 2**20}}
        )
    if mapping is not None and mapping.kind != kind:
        raise ValidationError({"mapping": _("This saved mapping is for another kind of import.")})
    try:
        text = importers.decode(data)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    ImportBatch.objects.filter(
        user=by, status=ImportBatch.Status.PENDING, created_at__lt=timezone.now() - PENDING_KEPT_FOR
    ).delete()
    batch = ImportBatch(user=by, kind=kind, filename=filename[:200], content=text)
    if mapping is not None:
        batch.columns, batch.defaults, batch.values = mapping.columns, mapping.defaults, mapping.values
    _check(batch, by)
    return batch


@transaction.atomic
def import_batch_map(
    *,
    batch: ImportBatch,
    by: User,
    columns: dict[str, str],
    defaults: dict[str, str],
    values: dict[str, dict[str, str]],
    save_as: str = "",
) -> ImportBatch:
    """Change a pending file's column and value mapping and dry-run it again; optionally save the mapping by name."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    _check_pending(batch, by)
    importer = importers.importer_class(batch.kind)
    unknown = sorted({c for c in [*columns.values(), *defaults] if c and c not in importer.columns})
    if unknown:
        raise ValidationError(_("Unknown column(s) %(columns)s.") % {"columns": ", ".join(unknown)})
    batch.columns = {str(h): str(c) for h, c in columns.items()}
    batch.defaults = {c: str(v).strip() for c, v in defaults.items() if str(v).strip()}
    values = {c: {str(k): str(v) for k, v in chosen.items() if v} for c, chosen in values.items()}
    batch.values = _values_create(batch, by, importer, values)
    _check(batch, by)
    if save_as.strip():
        import_mapping_save(by=by, kind=batch.kind, name=save_as, batch=batch)
    return batch


def _values_create(batch: ImportBatch, by: User, importer, values: dict[str, dict[str, str]]) -> dict:
    """The list values the user chose to create (NEW_VALUE): created now, in the mapping's transaction."""
    maker = importer(user=by, values=batch.values)
    for column, chosen in values.items():
        for cell, target in chosen.items():
            if target != importers.NEW_VALUE:
                continue
            if column not in importer.creatable_columns:
                raise ValidationError(_("New values of %(column)s cannot be created here.") % {"column": column})
            chosen[cell] = maker.value_create(column, cell)
    return values


def import_mapping_save(*, by: User, kind: str, name: str, batch: ImportBatch) -> ImportMapping:
    """Save (or replace) a named mapping from a batch's choices, for the next file of that export."""
    name = name.strip()[:100]
    if not name:
        raise ValidationError({"save_as": _("Name the mapping.")})
    mapping, _created = ImportMapping.objects.update_or_create(
        kind=kind,
        name=name,
        defaults={"columns": batch.columns, "defaults": batch.defaults, "values": batch.values, "created_by": by},
    )
    return mapping


def _check_pending(batch: ImportBatch, by: User) -> None:
    if batch.user_id != by.pk:
        raise ValidationError(_("Only the person who uploaded a file can import it."))
    if batch.status == ImportBatch.Status.CHECKING:
        raise ValidationError(_("This file is still being checked."))
    if batch.status == ImportBatch.Status.CONFIRMING:
        raise ValidationError(_("This file is being imported."))
    if batch.status != ImportBatch.Status.PENDING:
        raise ValidationError(_("This file was already imported."))


@transaction.atomic
def import_batch_confirm(*, batch: ImportBatch, by: User) -> ImportBatch:
    """Import every row of a dry-run file, or none; a large file is handed to a background job."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    _check_pending(batch, by)
    # A file whose dry run refused rows is checked again here, at once: it will be refused, quickly.
    if batch.report.get("ok") and batch.row_count > settings.CSV_IMPORT_BACKGROUND_ROWS:
        batch.status, batch.queued_at = ImportBatch.Status.CONFIRMING, timezone.now()
        batch.save(update_fields=["status", "queued_at"])
        _enqueue(batch.pk)
        return batch
    return _apply(batch, by)


def _enqueue(batch_id: int, *, fresh: bool = True) -> None:
    # The one place imports enqueue: through the outbox (recorded with the batch's new status, sent
    # after the commit), so a broker outage delays the job rather than losing it. A new run starts
    # without the cancel of a job that died; a requeued one (`fresh=False`) keeps the user's cancel.
    if fresh:
        ImportCancel.objects.filter(batch_id=batch_id).delete()
    jobs.enqueue("csvio.import_batch_run", key=f"import-batch-run:{batch_id}", batch_id=batch_id)


BACKGROUND = (ImportBatch.Status.CHECKING, ImportBatch.Status.CONFIRMING)


def import_batch_run(*, batch_id: int) -> str:
    """The background dry run or confirmation of a batch; a second run, or one while another runs, changes nothing."""
    with transaction.atomic():
        # skip_locked: a job already working on this batch holds the lock; a requeued duplicate leaves.
        # Only the batch's row (`of`): with the user's joined row locked too, a second file of the
        # same user was skipped while the first one's job held that user row, and waited 15 minutes.
        batch = (
            ImportBatch.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=batch_id, status__in=BACKGROUND)
            .select_related("user")
            .first()
        )
        if batch is None:
            return "skipped"
        progress = _progress_reporter(batch.pk, batch.row_count)
        if batch.status == ImportBatch.Status.CONFIRMING:
            return _apply(batch, batch.user, progress=progress).status
        try:
            _dry_run(batch, batch.user, progress=progress)
        except importers.Cancelled:
            batch.report = {**importers.Report().as_dict(), "cancelled": True}
        batch.status = ImportBatch.Status.PENDING
        batch.save()
        _job_done(batch.pk)
        return batch.status


def _apply(batch: ImportBatch, by: User, progress=None) -> ImportBatch:
    try:
        report = importers.run(
            _importer(batch, by),
            batch.content,
            commit=True,
            columns=batch.columns,
            defaults=batch.defaults,
            progress=progress,
        )
    except importers.Cancelled:
        # Rolled back: the file waits, with its dry-run report, to be confirmed again or left.
        batch.status, batch.report = ImportBatch.Status.PENDING, {**batch.report, "cancelled": True}
        batch.save()
        _job_done(batch.pk)
        return batch
    batch.report = {**report.as_dict(), "cancelled": False}
    if report.committed:
        batch.status, batch.imported_at, batch.content = ImportBatch.Status.IMPORTED, timezone.now(), ""
    else:
        batch.status = ImportBatch.Status.PENDING
    batch.save()
    if progress is not None:
        # A background job's: a confirmation in the request has no progress nor cancel to clear.
        _job_done(batch.pk)
    return batch


def import_batch_cancel(*, batch: ImportBatch, by: User) -> None:
    """Ask the background job importing a batch to stop: it rolls back, and nothing of the file is written."""
    if batch.user_id != by.pk:
        raise ValidationError(_("Only the person who uploaded a file can cancel its import."))
    if batch.status not in BACKGROUND:
        raise ValidationError(_("This file is not being checked or imported."))
    ImportCancel.objects.get_or_create(batch_id=batch.pk)


def import_batches_resume() -> int:
    """Periodic: requeue the batches whose background job was lost; returns how many."""
    stale = ImportBatch.objects.filter(status__in=BACKGROUND, queued_at__lt=timezone.now() - CONFIRM_STALE_AFTER)
    ids = list(stale.values_list("pk", flat=True))
    for batch_id in ids:
        with transaction.atomic():
            ImportBatch.objects.filter(pk=batch_id).update(queued_at=timezone.now())
            _enqueue(batch_id, fresh=False)
    return len(ids)


# Progress lives in the cache, not the batch row: the job's transaction is open until the end,
# so a row update would not be seen by the page polling it. It is only a progress bar: with the
# cache down (Redis away) the import goes on without it, never fails for it.
def progress_key(batch_id: int) -> str:
    return f"csvio:progress:{batch_id}"


def _job_done(batch_id: int) -> None:
    try:
        cache.delete(progress_key(batch_id))
    except Exception as error:
        logger.warning("Import %s: its progress could not be cleared, the cache is unreachable: %s", batch_id, error)
    ImportCancel.objects.filter(batch_id=batch_id).delete()


def _progress_reporter(batch_id: int, total: int):
    cache_down = False

    def report(done: int) -> None:
        nonlocal cache_down
        if not cache_down:
            try:
                cache.set(progress_key(batch_id), {"done": done, "total": total}, timeout=3600)
            except Exception as error:
                # Once: each try at a Redis that is away costs its connect timeout.
                cache_down = True
                logger.warning("Import %s goes on without its progress, the cache is unreachable: %s", batch_id, error)
        if ImportCancel.objects.filter(batch_id=batch_id).exists():
            raise importers.Cancelled

    return report
