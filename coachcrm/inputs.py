# Sane ranges for what users type: dates within a window, amounts and quantities within bounds,
# single-line text without control characters. One set of checks, called by the services, so page,
# API, admin and import agree.
import datetime
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

EARLIEST_DATE = datetime.date(1950, 1, 1)
FUTURE_YEARS = 10
# Money in the CRM's currency: no deal, price or limit reaches a billion; beyond it is a typo.
MAX_AMOUNT = Decimal("999999999.99")
# Units of one thing in one go (a grant's quantity, an item's maximum per grant).
MAX_QUANTITY = 10_000
# CR and LF break e-mail headers and CSV rows, NUL breaks PostgreSQL text; no name needs any.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# The largest id a database key holds (a 64-bit signed integer): beyond it SQLite overflows.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A list filter by a record's id: a whole number in a key's range, else a 400 (never a server error)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def latest_date() -> datetime.date:
    """The last date anything may be planned for: today + FUTURE_YEARS years."""
    today = timezone.localdate()
    try:
        return today.replace(year=today.year + FUTURE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + FUTURE_YEARS, day=28)


def _short(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def date_check(value: datetime.date | None, *, field: str, past: bool = False) -> datetime.date | None:
    """Refuse a date before 1950 or after today + 10 years (after today for `past` facts)."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if past:
        if EARLIEST_DATE <= value <= timezone.localdate():
            return value
        message = _("Enter a date between %(earliest)s and today.") % {"earliest": _short(EARLIEST_DATE)}
    else:
        latest = latest_date()
        if EARLIEST_DATE <= value <= latest:
            return value
        message = _("Enter a date between %(earliest)s and %(latest)s.") % {
            "earliest": _short(EARLIEST_DATE),
            "latest": _short(latest),
        }
    raise ValidationError({field: ValidationError(message, code="date_out_of_range")})


def validate_single_line(value: str) -> None:
    """A Django validator: refuse line breaks and other control characters (CR, LF, TAB, NUL…)."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise ValidationError(_("Line breaks and control characters are not allowed here."), code="control_character")


def single_line_check(**fields: str | None) -> None:
    """Refuse control characters in each named single-line field, naming every offending field."""
    errors = {}
    for field, value in fields.items():
        try:
            validate_single_line(value)
        except ValidationError as error:
            errors[field] = error
    if errors:
        raise ValidationError(errors)


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip()).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        amount = None
    if amount is None or not amount.is_finite() or isinstance(value, bool):
        raise ValidationError(_("Enter an amount, e.g. 120.00."), code="invalid_amount")
    if amount < 0:
        raise ValidationError(_("The amount cannot be negative."), code="amount_out_of_range")
    if amount > MAX_AMOUNT:
        raise ValidationError(
            _("The amount is too large: at most %(max)s.")
            % {"max": formats.number_format(MAX_AMOUNT, 2, force_grouping=True)},
            code="amount_out_of_range",
        )
    return amount


def _quantity(value, minimum: int = 1) -> int:
    try:
        whole = int(value)
    except (TypeError, ValueError, OverflowError):
        whole = None
    if whole is None or isinstance(value, bool) or whole != value:
        raise ValidationError(_("The quantity must be a whole number, e.g. 2."), code="invalid_quantity")
    if whole < minimum:
        raise ValidationError(
            _("The quantity must be at least %(min)s.") % {"min": minimum}, code="quantity_out_of_range"
        )
    if whole > MAX_QUANTITY:
        raise ValidationError(
            _("The quantity must be at most %(max)s.")
            % {"max": formats.number_format(MAX_QUANTITY, force_grouping=True)},
            code="quantity_out_of_range",
        )
    return whole


def validate_amount(value) -> None:
    """A Django validator (model fields, so the admin and the API refuse too): 0 … MAX_AMOUNT."""
    if value is not None:
        _amount(value)


def validate_quantity(value) -> None:
    """A Django validator: a whole number from 1 to MAX_QUANTITY."""
    if value is not None:
        _quantity(value)


def amount_check(value, *, field: str) -> Decimal:
    """An amount of money, to the cent: refused when not a number, negative or over MAX_AMOUNT."""
    try:
        return _amount(value)
    except ValidationError as error:
        raise ValidationError({field: error}) from None


def quantity_check(value, *, field: str, minimum: int = 1) -> int:
    """A whole number of units, from `minimum` to MAX_QUANTITY."""
    try:
        return _quantity(value, minimum)
    except ValidationError as error:
        raise ValidationError({field: error}) from None
