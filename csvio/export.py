"""CSV downloads that a spreadsheet opens safely."""

import csv
from collections.abc import Iterable
from decimal import Decimal

from django.http import StreamingHttpResponse

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """The value as text, with a leading quote when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeWriter:
    """A csv.writer whose text cells get the formula guard; numbers (negative ones too) stay numbers."""

    def __init__(self, file):
        self._writer = csv.writer(file)

    def writerow(self, row):
        return self._writer.writerow(
            [cell if isinstance(cell, int | float | Decimal) else safe_cell(cell) for cell in row]
        )


class _Echo:
    def write(self, value):
        return value


def csv_response(*, filename: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """Stream rows as a UTF-8 CSV file with a BOM (so Excel reads accents), formulas neutralised."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([safe_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
