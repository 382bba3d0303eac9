# The crm template filters shared by every page: money and percent.
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.conf import settings
from django.utils.choices import CallableChoiceIterator
from django.utils.encoding import force_str
from django.utils.formats import number_format
from django.utils.hashable import make_hashable

register = template.Library()


@register.filter
def money(value, currency: str = "") -> str:
    """An amount in `currency` (the CRM's by default), grouped and with two decimals for the active locale."""
    if value is None or value == "":
        return "—"
    amount = number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{amount} {currency or settings.CRM_CURRENCY}"


@register.filter
def percent(value, decimals: int = 0) -> str:
    """A ratio (0.42) as a percentage (42%) for the active locale, rounded half up; empty stays a dash."""
    if value is None or value == "":
        return "—"
    # number_format truncates; round first (3 of 7 is 42.857…% → 43%, 0.125 → 13%, not 12%).
    # str() first: a float ratio such as 0.285 is 0.28499… in binary, and reads as the user means it.
    decimals = int(decimals)
    scaled = (Decimal(str(value)) * 100).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{number_format(scaled, decimal_pos=decimals, use_l10n=True)}%"


@register.simple_tag
def jobs_backlog() -> dict:
    """The outbox's backlog (`Job.objects.backlog()`), for the warning on the admin home page."""
    from coachcrm.models import Job

    return Job.objects.backlog()


# (model, field name) -> {value: label}, built once: a field's choices do not change while the
# process runs (a field whose choices are a callable is read each time, as Django does).
_CHOICE_LABELS: dict = {}


@register.filter
def choice_label(instance, field_name: str):
    """`instance.get_FOO_display()` for the rows of a list: `{{ account|choice_label:"size_tier" }}`.

    The same value (the label, translated when rendered, or the value itself when it is not among
    the choices), without Django's rebuilding `dict(make_hashable(field.flatchoices))` on each call
    (~40 us, 25 times a page).
    """
    key = (type(instance), field_name)
    known = _CHOICE_LABELS.get(key)
    if known is None:
        field = instance._meta.get_field(field_name)
        known = (field.attname, dict(make_hashable(field.flatchoices)))
        if not isinstance(field.choices, CallableChoiceIterator):
            _CHOICE_LABELS[key] = known
    attname, labels = known
    value = getattr(instance, attname)
    return force_str(labels.get(make_hashable(value), value), strings_only=True)
