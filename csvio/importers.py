"""The CSV import machinery every kind shares: read, dry run, confirm.

One `Importer` subclass per kind (accounts, contacts, coaches) says which columns it
reads and, for one row, what it would do (`plan`) as a callable that writes through the
kind's services. `run()` does the rest: reads BOM, `,`/`;`/tab separated files with headers in
any order, flags rows repeated within the file, and either reports (dry run: nothing is
written) or applies every row in one transaction (confirm: one bad row and nothing is kept).
"""

import csv
import datetime
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from coachcrm.bulk import RowErrors
from coachcrm.inputs import date_check, validate_single_line
from csvio import external_ids, layouts
from csvio.export import FORMULA_STARTS

# kind → importer class; a new kind is one line here and one class in its app's importers.py.
IMPORTERS = {
    "accounts": "accounts.importers.AccountImporter",
    "contacts": "accounts.importers.ContactImporter",
    "coaches": "coaches.importers.CoachImporter",
    "deals": "pipeline.importers.DealImporter",
}

CREATED, UPDATED, DUPLICATE, ERROR = "created", "updated", "duplicate", "error"
# The mapping step's choice "create this value" for a list value the file has and CoachCRM lacks.
NEW_VALUE = "__new__"
OUTCOMES = (CREATED, UPDATED, DUPLICATE, ERROR)
# Day first when a slashed date could be either; month first (Salesforce's US reports) when only it fits.
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y")
# A timestamp (HubSpot's `2023-02-14 10:12`, Salesforce's `2022-04-01T09:15:00.000Z`) is read as its date.
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{1,2}:\d{2}")
# SQLite allows a limited number of query parameters; look values up in slices.
_CHUNK = 500


def fold(value: str) -> str:
    """A cell compared as people mean it: case, accents, spaces and punctuation aside (`Säo-Paulo` = `sao paulo`)."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return " ".join("".join(ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch)).split())


def choice_names(choices: type[models.Choices]) -> dict[str, str]:
    """{folded value or label: label} of a TextChoices class, for the value mapping step."""
    names = {}
    for value, label in choices.choices:
        names.setdefault(fold(str(label)), str(label))
        names.setdefault(fold(str(value)), str(label))
    return names


def chunks(values):
    values = list(values)
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def importer_class(kind: str) -> type["Importer"]:
    if kind not in IMPORTERS:
        raise ValidationError(
            _("Unknown kind of import %(kind)s; choose one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(IMPORTERS)}
        )
    return import_string(IMPORTERS[kind])


class RowError(Exception):
    """A row that cannot be imported: the column at fault and why."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column, self.message = column, message


@dataclass
class Plan:
    """What a row would do; `apply` performs it through the services."""

    outcome: str
    key: str
    apply: Callable[[], object] | None = None
    detail: str = ""
    # For a new record: the arguments of the create service, so all are created in one bulk call.
    create: dict | None = None
    # For a known record: the row of the kind's bulk update service, so all are updated in one call.
    update: dict | None = None


@dataclass
class RowResult:
    line: int
    outcome: str
    label: str = ""
    column: str = ""
    detail: str = ""


@dataclass
class Report:
    committed: bool = False
    file_errors: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)
    # The mapping step: the layout proposed, file header → column, defaults, required columns
    # nobody mapped, and for each list column the file's distinct values with their match.
    layout: str = layouts.OWN
    mapping: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    missing_columns: list[str] = field(default_factory=list)
    values: dict[str, dict] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for row in self.rows:
            counts[row.outcome] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not self.file_errors and not any(r.outcome == ERROR for r in self.rows)

    def as_dict(self) -> dict:
        # Rows field by field rather than dataclasses.asdict, whose recursive deep copy of a
        # 10,000-row report cost more than checking the rows.
        return {
            "committed": self.committed,
            "file_errors": list(self.file_errors),
            "ignored_columns": list(self.ignored_columns),
            "layout": self.layout,
            "mapping": dict(self.mapping),
            "defaults": dict(self.defaults),
            "missing_columns": list(self.missing_columns),
            "values": self.values,
            "choices": self.choices,
            "rows": [dict(vars(row)) for row in self.rows],
            "counts": self.counts,
            "ok": self.ok,
        }


class Importer:
    # Templates show the class itself (label, columns); they must not try to instantiate it.
    do_not_call_in_templates = True
    kind: str
    label: str
    list_url_name: str  # where a confirmed import sends the user
    # Canonical column names, required ones and other spellings seen in spreadsheets.
    columns: tuple[str, ...] = ()
    required: frozenset[str] = frozenset()
    aliases: dict[str, str] = {}

    # Columns whose cells must name a value of a list: column → {folded synonym: the list's name}.
    synonyms: dict[str, dict[str, str]] = {}
    # List columns whose cells hold several values (`Cloud|Support`).
    multi_value_columns: frozenset[str] = frozenset()
    # List columns an admin may add a value to from the mapping step (`value_create`).
    creatable_columns: frozenset[str] = frozenset()

    def __init__(self, *, user, values: dict[str, dict[str, str]] | None = None):
        self.user = user
        # The system the file's external ids belong to: `run` sets it from the layout detected.
        self.source = external_ids.source_for_layout(layouts.OWN)
        # The user's value mapping: column → {folded cell: the list's name}.
        self.values = {
            column: {fold(k): v for k, v in chosen.items() if v} for column, chosen in (values or {}).items()
        }
        self._choice_keys: dict[type[models.Choices], dict[str, str]] = {}
        self._dates: dict[tuple[str, bool], datetime.date | str] = {}

    def proposed_defaults(self) -> dict[str, str]:
        """Values proposed for required columns a file lacks (the user sees and may change them)."""
        return {}

    def value_choices(self) -> dict[str, dict[str, str]]:
        """After `prepare`: for each list column, {folded name: the name shown} of the values it takes."""
        return {}

    def resolve(self, column: str, value: str) -> str:
        """The list value a cell stands for: the user's mapping, else a synonym, else the cell itself."""
        key = fold(value)
        return self.values.get(column, {}).get(key) or self.synonyms.get(column, {}).get(key) or value

    def match(self, column: str, value: str, known: dict[str, str]) -> str:
        """The name in `known` a cell stands for, or "" when nothing matches."""
        return known.get(fold(self.resolve(column, value)), "")

    def lookup(self, row: dict, column: str, table: dict, *, required: bool = True):
        """The row of `table` (keyed by folded name) the cell stands for; None for an empty optional cell."""
        value = row.get(column, "").strip()
        if not value:
            if required:
                raise RowError(column, _("This column is required."))
            return None
        try:
            return table[fold(self.resolve(column, value))]
        except KeyError:
            raise RowError(
                column, _("Unknown value %(value)s: choose what it stands for on the mapping step.") % {"value": value}
            ) from None

    def value_create(self, column: str, name: str) -> str:
        """Add `name` to the list of a `creatable_columns` column (through the app's service); its stored name."""
        raise NotImplementedError

    def prepare(self, rows: list[dict]) -> None:
        """Load in bulk what `plan` looks up, so a dry run costs a few queries, not a few per row."""

    def plan(self, row: dict) -> Plan:
        raise NotImplementedError

    def create_many(self, creates: list[dict]) -> None:
        """Create the new records of the file at once, through the kind's bulk service."""
        raise NotImplementedError

    def update_many(self, updates: list[dict]) -> None:
        """Update the known records of the file at once, through the kind's bulk service.

        Raises `coachcrm.bulk.RowErrors` (a ValidationError by update index) for refused rows.
        """
        raise NotImplementedError

    def row_label(self, row: dict) -> str:
        return row.get(self.columns[0], "")

    # External ids (csvio.ExternalId) -----------------------------------------------------

    def external_id(self, row: dict, column: str = "external_id") -> str:
        """The row's id in the source system ("" when the file has none)."""
        try:
            return external_ids.external_id_check(row.get(column, ""))
        except ValidationError as error:
            raise RowError(column, " ".join(error.messages)) from None

    def external_ids_of(self, rows: list[dict], column: str = "external_id") -> set[str]:
        """The valid ids of a column, for `prepare` to look up at once (a bad one is its row's error)."""
        ids = set()
        for row in rows:
            try:
                ids.add(external_ids.external_id_check(row.get(column, "")))
            except ValidationError:
                continue
        return ids - {""}

    def external_label(self, external_id: str) -> str:
        return external_ids.external_id_label(self.source, external_id)

    def will_create(self, external_id: str) -> str:
        """The dry run's word for a new record with an id: `Will create (HubSpot 123).`"""
        if not external_id:
            return ""
        return _("Will create (%(id)s).") % {"id": self.external_label(external_id)}

    def will_update(self, record, external_id: str, changes) -> str:
        """The dry run's word for a known record: `Will update Cedar Health (HubSpot 123): region, notes.`"""
        if external_id:
            return _("Will update %(name)s (%(id)s): %(fields)s.") % {
                "name": record,
                "id": self.external_label(external_id),
                "fields": ", ".join(changes),
            }
        return _("Changes: %(fields)s.") % {"fields": ", ".join(changes)}

    # Shared cell helpers -----------------------------------------------------------------

    def choice(self, row: dict, column: str, choices: type[models.Choices], default: str) -> str:
        """A value of a TextChoices class given by its value or its label, in any case."""
        value = row.get(column, "").strip()
        if not value:
            return default
        value = self.resolve(column, value)
        if choices not in self._choice_keys:
            # Once per import, not per row: reading the labels translates every one of them.
            # The first choice whose value or label matches wins, as a scan in order would.
            keys: dict[str, str] = {}
            for choice_value, choice_label in choices.choices:
                keys.setdefault(fold(str(choice_value)), choice_value)
                keys.setdefault(fold(str(choice_label)), choice_value)
            self._choice_keys[choices] = keys
        try:
            return self._choice_keys[choices][fold(value)]
        except KeyError:
            allowed = ", ".join(str(v) for v in choices.values)
            raise RowError(
                column, _("%(value)s is not one of: %(allowed)s.") % {"value": value, "allowed": allowed}
            ) from None

    @staticmethod
    def fitting(model: type[models.Model], column: str, value: str) -> str:
        """The cell if the model's field of the same name accepts it (length, format)."""
        # New records are bulk-inserted without full_clean: a cell longer than its field would
        # pass the dry run and then fail in PostgreSQL at confirm time (SQLite would keep it).
        try:
            # The cells this is asked about are single-line fields (names, titles, phones).
            validate_single_line(value)
            model._meta.get_field(column).run_validators(value)
        except ValidationError as error:
            raise RowError(column, " ".join(error.messages)) from None
        return value

    @staticmethod
    def required_value(row: dict, column: str) -> str:
        value = row.get(column, "").strip()
        if not value:
            raise RowError(column, _("This column is required."))
        return value

    def date(self, row: dict, column: str, *, required: bool = True, past: bool = False) -> datetime.date | None:
        value = row.get(column, "").strip()
        if not value and not required:
            return None
        value = Importer.required_value(row, column)
        # A file repeats its dates (every row's "unknown, today" start date): each distinct cell
        # is read and checked once per import, and its answer (a date or why not) reused.
        key = (value, past)
        if key not in self._dates:
            self._dates[key] = _read_date(value, past=past)
        day = self._dates[key]
        if isinstance(day, str):
            raise RowError(column, day)
        return day

    @staticmethod
    def yes_no(row: dict, column: str) -> bool:
        """A yes/no cell; empty is no. English and the user's language are both understood."""
        value = row.get(column, "").strip().casefold()
        if value in ("", "no", "n", "false", "0", _("no").casefold()):
            return False
        if value in ("yes", "y", "true", "1", _("yes").casefold()):
            return True
        raise RowError(column, _("%(value)s is neither yes nor no.") % {"value": row[column]})


def _read_date(value: str, *, past: bool) -> datetime.date | str:
    """A date cell read (DATE_FORMATS, a timestamp's date) and range-checked, or the message saying why not."""
    if timestamp := _TIMESTAMP.match(value):
        value = timestamp.group(1)
    for date_format in DATE_FORMATS:
        try:
            day = datetime.datetime.strptime(value, date_format).date()
        except ValueError:
            continue
        try:
            return date_check(day, field="date", past=past)
        except ValidationError as error:
            return " ".join(error.messages)
    return _("%(value)s is not a date; write it as YYYY-MM-DD.") % {"value": value}


def read_rows(
    text: str,
    importer: Importer,
    report: Report,
    *,
    mapping: dict[str, str] | None = None,
    defaults: dict[str, str] | None = None,
) -> list[tuple[int, dict]]:
    """(line number, row by import column) for each non-empty row; file problems go on the report.

    `mapping` (file header → column, "" to ignore) is what the user chose on the mapping step;
    a header it does not name gets the proposed column. `defaults` fill a column's empty cells.
    """
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        report.file_errors.append(_("The file is empty."))
        return []
    except csv.Error as error:
        report.file_errors.append(_("The first line cannot be read: %(error)s") % {"error": error})
        return []
    headers = [raw.strip().strip("\ufeff") for raw in header]
    report.layout, proposed = layouts.propose(importer, [h for h in headers if h])
    chosen = {
        **proposed,
        **{h: c for h, c in (mapping or {}).items() if h in proposed and c in ("", *importer.columns)},
    }
    # The first column mapped to a target is read; a second one is ignored (and said so).
    seen: set[str] = set()
    names = []
    for raw in headers:
        name = chosen.get(raw, "")
        if name in seen:
            chosen[raw] = name = ""
        if name:
            seen.add(name)
        elif raw:
            report.ignored_columns.append(raw)
        names.append(name)
    report.mapping = {h: chosen.get(h, "") for h in headers if h}
    defaults = {c: v.strip() for c, v in (defaults or {}).items() if c in importer.columns and v and v.strip()}
    for column, value in importer.proposed_defaults().items():
        if column not in names and column not in defaults:
            defaults[column] = value
    report.defaults = defaults
    missing = [c for c in importer.columns if c in importer.required and c not in names and c not in defaults]
    if missing:
        report.missing_columns = missing
        report.file_errors.append(
            _("Missing column(s): %(columns)s. Choose the file's column for each, or a value for every row.")
            % {"columns": ", ".join(missing)}
        )
    # Read on with a column missing: the mapping step shows the file's values all the same.
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            row = {n: unguard(v.strip()) for n, v in zip(names, values, strict=False) if n}
            for column, value in defaults.items():
                if not row.get(column):
                    row[column] = value
            rows.append((reader.line_num, row))
    except csv.Error as error:
        report.file_errors.append(
            _("Line %(line)s cannot be read: %(error)s") % {"line": reader.line_num, "error": error}
        )
    return rows


def sample_values(text: str, *, lines: int = 20) -> dict[str, str]:
    """The first non-empty cell of each column among the first lines, for the mapping step."""
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=max([",", ";", "\t"], key=first_line.count))
    samples: dict[str, str] = {}
    try:
        names = [h.strip() for h in next(reader)]
        for _index, values in zip(range(lines), reader, strict=False):
            for name, value in zip(names, values, strict=False):
                if value.strip() and name not in samples:
                    samples[name] = unguard(value.strip())[:60]
    except (StopIteration, csv.Error):
        pass
    return samples


# Magic numbers of files people upload by mistake instead of a CSV export.
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "xlsx",  # Excel workbook (and any zip)
    b"\xd0\xcf\x11\xe0": "xls",  # Excel 97-2003 workbook
    b"%PDF": "pdf",
}


def _nul_bytes_message() -> str:
    return _(
        "The file contains NUL bytes, so it is not a text CSV file (a binary file or a damaged export); "
        "save it again as CSV UTF-8."
    )


def decode(data: bytes) -> str:
    """Text from an uploaded file, or a ValidationError a user can act on.

    UTF-8 with or without BOM, UTF-16 with its BOM (Excel's "Unicode Text"), GB18030 (Excel on a
    Chinese Windows) and else Windows-1252, by detection. A workbook, a binary file or text with
    NUL bytes is refused: PostgreSQL cannot store a NUL, and a guess would import garbage.
    """
    for signature, kind in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            if kind in ("xlsx", "xls"):
                raise ValidationError(
                    _("This is an Excel workbook, not a CSV file: in Excel use Save as, CSV UTF-8, and upload that.")
                )
            raise ValidationError(
                _("This is not a CSV file (it looks like a %(kind)s); upload a CSV file.") % {"kind": kind.upper()}
            )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ValidationError(
                _("The file says it is UTF-16 but cannot be read as such; save it again as CSV UTF-8.")
            ) from None
    elif b"\x00" in data:
        raise ValidationError(_nul_bytes_message())
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = _decode_legacy(data)
    if "\x00" in text:
        raise ValidationError(_nul_bytes_message())
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > 8:
        raise ValidationError(_("This does not look like a text CSV file; upload a CSV file."))
    return text.lstrip("\ufeff")


def _decode_legacy(data: bytes) -> str:
    """GB18030 when the bytes are Chinese text, else Windows-1252 (Excel's Western code page)."""
    # In Chinese text every non-ASCII character is a pair of bytes of 0x81-0xFE (GB2312's both
    # 0xA1-0xFE), so its runs of high bytes have even lengths; in Western text an accented letter
    # is one high byte between ASCII letters ("Müller"), which GB18030 would also decode, wrongly.
    runs = [len(run) for run in re.findall(rb"[\x80-\xff]+", data)]
    if runs and all(n % 2 == 0 for n in runs):
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            pass
    return data.decode("cp1252", errors="replace")


def unguard(value: str) -> str:
    """A cell as it was before the export's formula guard (`'+1 555 0100` → `+1 555 0100`)."""
    # csvio.export.safe_cell prefixes exactly these starts with a quote; a quote before anything
    # else was typed by someone and is kept.
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


# The mapping step lists at most this many distinct values of a column.
_MAX_VALUES = 200


def _found_values(importer: Importer, value_choices: dict, rows: list[dict]) -> dict[str, dict]:
    """For each list column: its distinct cells (first spelling, row count) with the value each matches."""
    found: dict[str, list[dict]] = {}
    for column, known in value_choices.items():
        counts: dict[str, list] = {}
        for row in rows:
            cell = row.get(column, "")
            cells = re.split(r"[|;]", cell) if column in importer.multi_value_columns else [cell]
            for value in (c.strip() for c in cells):
                if value:
                    counts.setdefault(fold(value), [value, 0])[1] += 1
        if counts:
            found[column] = {
                "choices": sorted(set(known.values()), key=str.casefold),
                "found": [
                    {"value": value, "rows": n, "match": importer.match(column, value, known)}
                    for value, n in sorted(counts.values(), key=lambda v: (-v[1], v[0]))[:_MAX_VALUES]
                ],
            }
    return found


class _Refused(Exception):
    pass


def _refuse(result: RowResult, error: ValidationError) -> None:
    result.outcome, result.detail = ERROR, " ".join(error.messages)
    if hasattr(error, "error_dict"):
        result.column = next(iter(error.error_dict))


class Cancelled(Exception):
    """The user cancelled a background import: everything it wrote is rolled back."""


def write_rows() -> int:
    """Rows per bulk write of a confirmation (`CSV_IMPORT_WRITE_ROWS`)."""
    return max(1, settings.CSV_IMPORT_WRITE_ROWS)


def _write(importer: Importer, report: Report, creates: list[dict], updating: list[tuple], step) -> None:
    """The bulk services' writes, a slice of `write_rows()` at a time; refusals go on the report.

    Each slice costs the same few queries whatever the file's size, and between slices the
    progress is reported (and a cancel seen), so a 200,000-row file neither holds one giant
    statement nor stays deaf to its cancel button. Rows are already unique by key (the planning
    skipped repeats), so slicing refuses nothing a single call would have accepted.
    """
    size, total = write_rows(), len(creates) + len(updating)
    for start in range(0, len(creates), size):
        try:
            importer.create_many(creates[start : start + size])
        except ValidationError as error:
            report.file_errors.extend(error.messages)
            return
        except IntegrityError:
            # Someone created one of these records (same name or e-mail) between the checks
            # and the insert; the bulk service's savepoint undid its part.
            report.file_errors.append(
                _("Someone added some of these records while you imported; upload the file again to check it.")
            )
            return
        step(0.5 + 0.4 * min(1, (start + size) / total))
    for start in range(0, len(updating), size):
        chunk = updating[start : start + size]
        try:
            importer.update_many([update for _result, update in chunk])
        except RowErrors as error:
            # Each refused row on its own line, as if applied one by one.
            for index, row_error in error.rows.items():
                _refuse(chunk[index][0], row_error)
        except ValidationError as error:
            report.file_errors.extend(error.messages)
            return
        except IntegrityError:
            report.file_errors.append(
                _("Someone changed some of these records while you imported; upload the file again.")
            )
            return
        # Refused rows go on: the report lists every one, as if applied one by one.
        step(0.5 + 0.4 * min(1, (len(creates) + start + size) / total))


def run(
    importer: Importer,
    text: str,
    *,
    commit: bool,
    columns: dict[str, str] | None = None,
    defaults: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Plan every row; with `commit`, apply them all in one transaction or none at all.

    `progress(rows done)` is called now and then (planning is the first half, writing the second);
    it may raise `Cancelled`, which rolls back every write and propagates.
    """
    report = Report()
    rows = read_rows(text, importer, report, mapping=columns, defaults=defaults)
    importer.source = external_ids.source_for_layout(report.layout)
    total = len(rows)

    def step(fraction: float) -> None:
        if progress is not None:
            progress(int(total * fraction))

    if report.file_errors and not report.missing_columns:
        return report
    importer.prepare([row for _line, row in rows])
    known = importer.value_choices()
    report.choices = {column: sorted(set(names.values()), key=str.casefold) for column, names in known.items()}
    report.values = _found_values(importer, known, [row for _line, row in rows])
    if report.file_errors:
        return report
    planned: list[tuple[RowResult, Plan | None]] = []
    seen: dict[str, int] = {}
    for index, (line, row) in enumerate(rows):
        if index % 1000 == 0:
            # A dry run is all planning; a confirmation plans in its first half and writes in its second.
            step(index / total / (2 if commit else 1))
        result = RowResult(line=line, outcome=ERROR, label=importer.row_label(row))
        plan = None
        try:
            plan = importer.plan(row)
        except RowError as error:
            result.column, result.detail = error.column, error.message
        else:
            if plan.key and plan.key in seen:
                result.outcome = DUPLICATE
                result.detail = _("Same as line %(line)s; skipped.") % {"line": seen[plan.key]}
                plan = None
            else:
                seen[plan.key] = line
                result.outcome, result.detail = plan.outcome, plan.detail
        planned.append((result, plan))
        report.rows.append(result)
    if not commit or not report.ok:
        return report
    step(0.5)
    try:
        with transaction.atomic():
            creates = [plan.create for _result, plan in planned if plan is not None and plan.create is not None]
            updating = [(result, plan.update) for result, plan in planned if plan and plan.update is not None]
            _write(importer, report, creates, updating, step)
            step(0.9)
            for index, (result, plan) in enumerate(planned):
                if plan is None or plan.apply is None:
                    continue
                if index % 1000 == 0:
                    step(0.9 + index / total / 10)
                try:
                    plan.apply()
                except ValidationError as error:
                    _refuse(result, error)
            if not report.ok:
                # Roll every row back: a confirmed import is all or nothing.
                raise _Refused
    except _Refused:
        return report
    report.committed = True
    return report
