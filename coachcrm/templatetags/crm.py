# The crm template filters shared by every page: money and percent, choice labels, row links.
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.utils.choices import CallableChoiceIterator
from django.utils.encoding import force_str
from django.utils.formats import number_format
from django.utils.hashable import make_hashable
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, get_language_info

from coachcrm.links import reverse_pk

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
def pk_url(name: str, pk) -> str:
    """`{% url name pk %}` for a row's link to a page whose only argument is its `<int:pk>`: the same URL,
    the pattern reversed once per process (`coachcrm.links.reverse_pk`) instead of once per row."""
    return reverse_pk(name, pk)


# The menu's markup by (built menu, the link of the page shown, or None): each request of a kind
# renders the same menu (its links' `active` the only difference), so it is rendered once.
_NAVIGATION: dict[tuple, tuple[list, str]] = {}


@register.simple_tag(takes_context=True)
def navigation(context) -> str:
    """The menu's links (`includes/_nav.html` over `nav_items`, the one matching the path marked active).

    `nav_items` is one of the menus the context processor built once per role and language, so its
    markup is kept per menu and active link instead of rendered again on each page (~0.2 ms).
    """
    items = context.get("nav_items") or []
    request = context.get("request")
    path = getattr(request, "path", None)
    urls = {link["url"] for item in items for link in (item.get("children") or [item])}
    active = path if path in urls else None
    key = (id(items), active)
    kept = _NAVIGATION.get(key)
    if kept is None or kept[0] is not items:
        if len(_NAVIGATION) > 1000:  # menus that were not the built ones (a test's): never let it grow
            _NAVIGATION.clear()
        html = get_template("includes/_nav.html").render({"nav_items": items, "active": active})
        kept = _NAVIGATION[key] = (items, mark_safe(html))  # noqa: S308 - a template's autoescaped output
    return kept[1]


# The language switch's <option>s by active language: the same on every page.
_LANGUAGE_OPTIONS: dict[str, str] = {}


@register.simple_tag
def language_options() -> str:
    """Each language as an <option> named in itself, the active one selected (the language switch)."""
    current = get_language()
    html = _LANGUAGE_OPTIONS.get(current)
    if html is None:
        html = _LANGUAGE_OPTIONS[current] = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (code, mark_safe(" selected") if code == current else "", get_language_info(code)["name_local"])
                for code, _name in settings.LANGUAGES
            ),
        )
    return html


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
