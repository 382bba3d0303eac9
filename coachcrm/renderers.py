# The form renderer: Django's, with `<select>` written in Python instead of one template include
# per option (and one more per option for its attributes). A filter form's selects cost ~40
# includes a list page; the markup is byte for byte Django's (tests/coachcrm/test_rendering_floor.py).
from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


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


class FastSelectRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        if template_name == SELECT and "widget" in context:
            try:
                return mark_safe(render_select(context["widget"]))  # noqa: S308 - each piece escaped above
            except _Fallback:
                pass
        return super().render(template_name, context, request)
