# The form renderer: Django's, with `<select>` written in Python instead of one template include
# per option (and one more per option for its attributes), and the `<input>`s and `<label>`s
# of the filter forms too (each a template with an include for its attributes: ~60 us apiece,
# a dozen a list page). The markup is byte for byte Django's (tests/coachcrm/test_rendering_floor.py).
from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"
LABEL = "django/forms/label.html"
# Django's input widgets whose template is only `{% include "django/forms/widgets/input.html" %}`.
INPUTS = frozenset(
    f"django/forms/widgets/{kind}.html"
    for kind in ("text", "number", "email", "url", "password", "hidden", "search", "tel", "date", "datetime", "time")
)


class _Fallback(Exception):
    """A value the template would localize: let Django's template render it."""


def _text(value) -> str:
    """`{{ value }}` for the text values a select holds."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        raise _Fallback
    return conditional_escape(value)


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}` (a safe value stays unescaped: the filter is is_safe)."""
    formatted = str(value)  # "%s" % value, for a tuple too once the filter has made it a str
    return formatted if isinstance(value, SafeData) else conditional_escape(formatted)


def _attrs(attrs) -> str:
    """django/forms/widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is not False:
            parts.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"')
    return "".join(parts)


def render_select(widget) -> str:
    html = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            html.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION:
                raise _Fallback
            value, attrs, label = _formatted(option["value"]), _attrs(option["attrs"]), _text(option["label"])
            html.append(f'\n  <option value="{value}"{attrs}>{label}</option>\n')
        if group_name:
            html.append("\n  </optgroup>")
    html.append("\n</select>")
    return "".join(html)


def render_input(widget) -> str:
    """django/forms/widgets/input.html."""
    value = widget["value"]
    value = "" if value is None else f' value="{_formatted(value)}"'
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def render_label(context) -> str:
    """django/forms/label.html."""
    label = _text(context["label"])
    if not context["use_tag"]:
        return label
    tag = _text(context["tag"])
    return f"<{tag}{_attrs(context['attrs'] or {})}>{label}</{tag}>"


class FastSelectRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        try:
            if template_name == SELECT and "widget" in context:
                return mark_safe(render_select(context["widget"]))  # noqa: S308 - each piece escaped above
            if template_name in INPUTS and "widget" in context:
                return mark_safe(render_input(context["widget"]))  # noqa: S308 - each piece escaped above
            if template_name == LABEL and "label" in context:
                return mark_safe(render_label(context))  # noqa: S308 - each piece escaped above
        except _Fallback:
            pass
        return super().render(template_name, context, request)
