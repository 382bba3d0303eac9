# The crm template filters shared by every page: money and percent.
from decimal import Decimal

from django import template
from django.conf import settings
from django.utils.formats import number_format

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
    """A ratio (0.42) as a percentage (42%) for the active locale; empty stays a dash."""
    if value is None or value == "":
        return "—"
    return f"{number_format(Decimal(value) * 100, decimal_pos=decimals, use_l10n=True)}%"


@register.simple_tag
def jobs_backlog() -> dict:
    """The outbox's backlog (`Job.objects.backlog()`), for the warning on the admin home page."""
    from coachcrm.models import Job

    return Job.objects.backlog()
