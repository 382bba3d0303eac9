# Reads for the import report and the mapping step.
import logging

from django.core.cache import cache

from csvio import importers
from csvio.models import ImportBatch, ImportMapping
from csvio.services import progress_key

logger = logging.getLogger(__name__)


def import_report_rows(*, batch: ImportBatch, limit: int = 500) -> list[dict]:
    """The rows worth reading first: errors, then duplicates and updates, then created ones, at most `limit`."""
    order = {"error": 0, "duplicate": 1, "updated": 2, "created": 3}
    rows = sorted(batch.report.get("rows", []), key=lambda r: (order.get(r["outcome"], 9), r["line"]))
    return rows[:limit]


def import_batch_progress(*, batch: ImportBatch) -> dict:
    """Rows done, total and percent of a batch being imported in the background (0 done while the cache is down)."""
    try:
        progress = cache.get(progress_key(batch.pk))
    except Exception as error:
        logger.warning("Import %s: its progress is unknown, the cache is unreachable: %s", batch.pk, error)
        progress = None
    progress = progress or {"done": 0, "total": batch.row_count}
    total = progress["total"] or 1
    return {**progress, "percent": min(100, round(100 * progress["done"] / total))}


def import_mappings(*, kind: str):
    """The saved mappings of an import kind, by name."""
    return ImportMapping.objects.filter(kind=kind).order_by("name")


def import_samples(*, batch: ImportBatch) -> dict[str, str]:
    """An example cell of each column of a pending file, for the mapping step."""
    return importers.sample_values(batch.content) if batch.content else {}
