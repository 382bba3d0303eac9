# The menu built once per kind of request and the select renderer (issue 21, "Rendering").
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
                checked += 1
    assert checked > 10
