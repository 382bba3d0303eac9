from django.shortcuts import get_object_or_404

from csvio.models import ImportBatch
from team.models import User


def import_batch_get_for_user(*, user: User, pk: int) -> ImportBatch:
    """An upload of the user's own, else 404: nobody sees or confirms another's file."""
    return get_object_or_404(ImportBatch.objects.of(user), pk=pk)


def import_report_rows(*, batch: ImportBatch, limit: int = 500) -> list[dict]:
    """The rows worth reading first: errors, then duplicates and updates, then created ones, at most `limit`."""
    order = {"error": 0, "duplicate": 1, "updated": 2, "created": 3}
    rows = sorted(batch.report.get("rows", []), key=lambda r: (order.get(r["outcome"], 9), r["line"]))
    return rows[:limit]
