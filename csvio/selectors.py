# Reads for the import report.
from csvio.models import ImportBatch


def import_report_rows(*, batch: ImportBatch, limit: int = 500) -> list[dict]:
    """The rows worth reading first: errors, then duplicates and updates, then created ones, at most `limit`."""
    order = {"error": 0, "duplicate": 1, "updated": 2, "created": 3}
    rows = sorted(batch.report.get("rows", []), key=lambda r: (order.get(r["outcome"], 9), r["line"]))
    return rows[:limit]
