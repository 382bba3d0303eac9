# The menu built once per kind of request and the select renderer (issue 21, "Rendering").
from django.conf import settings
from django.utils import translation

from coachcrm.context_processors import navigation_for


def test_the_menu_is_built_once_per_role_and_language(rep, manager):
    assert navigation_for(rep) is navigation_for(rep)
    assert navigation_for(rep) is not navigation_for(manager)
    english = navigation_for(rep)
    with translation.override("zh-hans"):
        chinese = navigation_for(rep)
    assert [e.get("url") for e in chinese] == [e.get("url") for e in english]
    assert chinese[0]["label"] != english[0]["label"] == "Home"
    assert all(isinstance(e["label"], str) for e in english)


def _both(widget, name, value):
    from django.forms.renderers import DjangoTemplates

    from coachcrm.renderers import FastSelectRenderer

    return widget.render(name, value, renderer=FastSelectRenderer()), widget.render(
        name, value, renderer=DjangoTemplates()
    )


def test_the_select_renderer_writes_djangos_markup():
    from django import forms
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    choices = [
        ("", "---------"),
        ("a&b", 'Tom & "Jerry" <x>'),
        (3, gettext_lazy("Manager")),
        ("Group <1>", [("g1", "One"), ("g2", mark_safe("<b>Two</b>"))]),
    ]
    for widget in (
        forms.Select(
            choices=choices,
            attrs={"class": "form-select", "id": "id_x", "data-q": 'a"b', "required": True, "disabled": False},
        ),
        forms.SelectMultiple(choices=choices),
    ):
        for value in (None, "", "a&b", 3, ["g2", "a&b"], "true"):
            fast, django = _both(widget, "f<n>", value)
            assert fast == django


def test_the_filter_forms_render_as_with_djangos_renderer(rep, manager):
    import importlib
    import inspect

    import django_filters
    from django.forms.renderers import DjangoTemplates
    from django.test import RequestFactory

    from coachcrm.renderers import FastSelectRenderer

    checked = 0
    for app in ("accounts", "coaches", "pipeline", "csvio", "service_catalog", "agenda", "departures", "team"):
        try:
            module = importlib.import_module(f"{app}.filters")
        except ModuleNotFoundError:
            continue
        for filterset in vars(module).values():
            if not (isinstance(filterset, type) and issubclass(filterset, django_filters.FilterSet)):
                continue
            if filterset._meta.model is None:
                continue
            request = RequestFactory().get("/")
            request.user = manager
            extra = {"user": manager} if "user" in inspect.signature(filterset.__init__).parameters else {}
            form = filterset({}, queryset=filterset._meta.model.objects.all(), request=request, **extra).form
            for field in form:
                fast = field.field.widget.render(
                    field.html_name, field.value(), attrs={"id": field.auto_id}, renderer=FastSelectRenderer()
                )
                django = field.field.widget.render(
                    field.html_name, field.value(), attrs={"id": field.auto_id}, renderer=DjangoTemplates()
                )
                assert fast == django, (filterset, field.name)
                form.renderer = FastSelectRenderer()
                fast = field.label_tag()
                form.renderer = DjangoTemplates()
                assert fast == field.label_tag(), (filterset, field.name)
                checked += 1
    assert checked > 10


def test_the_input_and_label_renderers_write_djangos_markup():
    import datetime

    from django import forms
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    widgets = [
        forms.TextInput(attrs={"class": "form-control", "data-q": 'a"b<c>', "required": True, "disabled": False}),
        forms.NumberInput(attrs={"min": 2000, "step": 1}),
        forms.EmailInput(),
        forms.URLInput(),
        forms.PasswordInput(render_value=True),
        forms.HiddenInput(),
        forms.DateInput(),
        forms.DateTimeInput(),
        forms.TimeInput(),
        forms.SearchInput() if hasattr(forms, "SearchInput") else forms.TextInput(),
        forms.TextInput(attrs={"placeholder": gettext_lazy("Manager"), "title": mark_safe("<b>x</b>")}),
    ]
    values = (None, "", 'Tom & "Jerry" <x>', 3, 2.5, datetime.date(2026, 12, 1), datetime.time(9, 5), mark_safe("<i>"))
    for widget in widgets:
        for value in values:
            fast, django = _both(widget, "f<n>", value)
            assert fast == django, (widget, value)

    class Form(forms.Form):
        plain = forms.CharField(label="Name & <b>", required=False)
        lazy = forms.CharField(label=gettext_lazy("Manager"))
        safe = forms.CharField(label=mark_safe("<b>Bold</b>"), label_suffix=":")
        unlabelled = forms.CharField(label="", required=False)

    from django.forms.renderers import DjangoTemplates

    from coachcrm.renderers import FastSelectRenderer

    for auto_id in ("id_%s", False):
        for required_css_class in (None, "required"):
            form = Form(auto_id=auto_id)
            if required_css_class:
                form.required_css_class = required_css_class
            for field in form:
                for kwargs in ({}, {"attrs": {"class": "form-label", "data-x": "<&>"}}, {"tag": "legend"},
                               {"contents": "Other <text>"}):  # fmt: skip
                    form.renderer = FastSelectRenderer()
                    fast = field.label_tag(**kwargs)
                    form.renderer = DjangoTemplates()
                    assert fast == field.label_tag(**kwargs), (field.name, auto_id, kwargs)


def test_choice_label_is_get_foo_display_for_every_choice_and_language(db):
    from django.template import Context, Template

    from accounts.models import Account
    from coaches.models import Coach
    from pipeline.models import Opportunity
    from service_catalog.models import Grant
    from team.models import User

    template = Template("{% load crm %}{{ row|choice_label:name }}")
    checked, rendered = 0, set()
    for model, name in ((Account, "size_tier"), (Coach, "strength"), (Coach, "status"), (Opportunity, "status"),
                        (Grant, "status"), (User, "role")):  # fmt: skip
        field = model._meta.get_field(name)
        for language, _label in settings.LANGUAGES:
            with translation.override(language):
                # Every choice, and a value that is not one (Django shows the value itself).
                for value in [value for value, _label in field.flatchoices] + ["not-a-choice"]:
                    row = model(**{name: value})
                    expected = getattr(row, f"get_{name}_display")()
                    assert template.render(Context({"row": row, "name": name})) == str(
                        Template("{{ expected }}").render(Context({"expected": expected}))
                    ), (model, name, value, language)
                    checked += 1
                    rendered.add(expected)
    # Translated when rendered, in the reader's language (the cached mapping holds the lazy labels).
    assert checked > 40 and "Manager" in rendered and len(settings.LANGUAGES) > 1
    assert len(rendered) > checked / len(settings.LANGUAGES)


# The list rows that inline a partial instead of including it (an include costs ~10 us a row): the
# same markup as the partial, which the detail pages still include.
INLINED = [
    ("coaches/coach_list.html", "coaches/_health.html", {}),
    ("service_catalog/grant_list.html", "service_catalog/_status.html",
     {"{{ grant.get_status_display }}": '{{ grant|choice_label:"status" }}'}),
]  # fmt: skip


def test_the_inlined_row_partials_are_the_partials():
    from pathlib import Path

    templates = Path(settings.BASE_DIR) / "templates"
    for page, partial, replaced in INLINED:
        body = (templates / partial).read_text().removeprefix("{% load i18n %}")
        for old, new in replaced.items():
            body = body.replace(old, new)
        assert f"<td>{body}</td>" in (templates / page).read_text(), (page, partial)
