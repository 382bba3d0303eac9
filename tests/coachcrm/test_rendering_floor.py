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


# --- The fixed cost of every page (issue 21, fifth pass: the floor) ----------------------------

PK_URL_NAMES = [
    "accounts:account-detail",
    "accounts:contact-detail",
    "pipeline:opportunity-detail",
    "pipeline:opportunity-update",
    "coaches:coach-detail",
    "coaches:coach-verify",
    "service_catalog:grant-detail",
    "agenda:touch-create",
    "agenda:task-edit",
    "agenda:task-done",
]


def test_a_row_link_is_the_url_django_reverses():
    import pytest
    from django.urls import NoReverseMatch, reverse, set_script_prefix

    from coachcrm.links import reverse_pk

    for prefix in ("/", "/crm/", "/a b/"):
        set_script_prefix(prefix)
        try:
            for name in PK_URL_NAMES:
                for pk in (0, 1, 7, 42, 918273645, 10**12):
                    assert reverse_pk(name, pk) == reverse(name, args=[pk])
        finally:
            set_script_prefix("/")
    # What reverse refuses it still refuses: an unsaved record, a negative id, text.
    for pk in (None, -1, "x"):
        with pytest.raises(NoReverseMatch):
            reverse_pk("accounts:account-detail", pk)
    assert reverse_pk("accounts:account-detail", "12") == reverse("accounts:account-detail", args=["12"])


def test_the_pk_url_tag_writes_what_the_url_tag_writes():
    from django.template import engines

    engine = engines["django"]
    for name in PK_URL_NAMES:
        for pk in (3, 5):
            tag = "{% load crm %}" + "{% pk_url '" + name + "' pk %}"
            context = {"pk": pk}
            assert engine.from_string(tag).render(context) == engine.from_string("{% url '" + name + "' pk %}").render(
                context
            )


def test_the_models_links_are_their_detail_pages(rep):
    from django.urls import reverse

    from tests import factories

    account = factories.AccountFactory(owner=rep)
    contact = factories.ContactFactory()
    deal = factories.OpportunityFactory(account=account, owner=rep)
    assert account.get_absolute_url() == reverse("accounts:account-detail", args=[account.pk])
    assert contact.get_absolute_url() == reverse("accounts:contact-detail", args=[contact.pk])
    assert deal.get_absolute_url() == reverse("pipeline:opportunity-detail", args=[deal.pk])


def test_the_unread_badge_counts_what_the_orm_counts(rep, other_rep, django_assert_num_queries):
    from team import services
    from team.models import Notification

    def orm(user):
        return Notification.objects.filter(user=user).unread().count()

    assert rep.unread_notification_count() == orm(rep) == 0
    for i in range(3):
        services.notify(user=rep, message=f"n{i}", email=False)
    services.notify(user=other_rep, message="theirs", email=False)
    assert rep.unread_notification_count() == orm(rep) == 3
    services.notifications_mark_read(user=rep)
    assert rep.unread_notification_count() == orm(rep) == 0
    services.notify(user=rep, message="new", email=False)
    assert rep.unread_notification_count() == orm(rep) == 1
    assert other_rep.unread_notification_count() == orm(other_rep) == 1
    with django_assert_num_queries(1):
        rep.unread_notification_count()


# The markup base.html and includes/_language.html had before the tags `navigation` and `language_options`.
OLD_MENU = """{% for item in nav_items %}
        {% if item.children %}
        <li class="nav-item dropdown">
          <a class="nav-link dropdown-toggle text-nowrap" href="#" role="button" data-bs-toggle="dropdown" aria-expanded="false">{{ item.label }}</a>
          <ul class="dropdown-menu">
            {% for child in item.children %}<li><a class="dropdown-item{% if request.path == child.url %} active{% endif %}" href="{{ child.url }}">{{ child.label }}</a></li>{% endfor %}
          </ul>
        </li>
        {% else %}
        <li class="nav-item"><a class="nav-link text-nowrap{% if request.path == item.url %} active{% endif %}" href="{{ item.url }}">{{ item.label }}</a></li>
        {% endif %}
        {% endfor %}"""  # noqa: E501
OLD_LANGUAGES = (
    "{% load i18n %}{% get_current_language as current %}{% get_available_languages as languages %}"
    '{% for code, name in languages %}<option value="{{ code }}"{% if code == current %} selected{% endif %}>'
    "{% language code %}{{ code|language_name_local }}{% endlanguage %}</option>{% endfor %}"
)


def test_the_kept_menu_is_the_menu_the_loop_rendered(rep, manager, admin_user):
    from django.template import engines
    from django.test import RequestFactory

    engine = engines["django"]
    admin_user.is_staff = True
    for user in (rep, manager, admin_user):
        for language in ("en", "zh-hans"):
            with translation.override(language):
                items = navigation_for(user)
                urls = [link["url"] for item in items for link in item.get("children") or [item]]
                for path in (*urls, "/nowhere/", urls[3]):
                    context = {"nav_items": items, "request": RequestFactory().get(path)}
                    old = engine.from_string(OLD_MENU).render(context)
                    new = engine.from_string("{% load crm %}{% navigation %}").render(context)
                    assert new == old
                    assert (" active" in new) == (path in urls)


def test_the_language_options_are_the_options_the_loop_rendered():
    from django.template import engines

    engine = engines["django"]
    for language in ("en", "zh-hans"):
        with translation.override(language):
            old = engine.from_string(OLD_LANGUAGES).render({})
            assert engine.from_string("{% load crm %}{% language_options %}").render({}) == old
            assert f'value="{language}" selected' in old


def test_the_request_user_is_the_row_modelbackend_loads(rep, manager, django_assert_num_queries):
    import datetime

    from django.contrib.auth.backends import ModelBackend
    from django.utils import timezone

    from team.backends import CrmBackend
    from team.models import User

    rep.last_login = timezone.now().replace(microsecond=123456)
    rep.departure_date = datetime.date(2027, 1, 2)
    rep.is_staff = True
    rep.save()
    for user in (rep, manager):
        with django_assert_num_queries(1):
            kept = CrmBackend().get_user(user.pk)
        orm = ModelBackend().get_user(user.pk)
        assert type(kept) is User
        assert kept.pk == orm.pk
        for field in User._meta.concrete_fields:
            assert getattr(kept, field.attname) == getattr(orm, field.attname), field.name
            assert type(getattr(kept, field.attname)) is type(getattr(orm, field.attname)), field.name
        assert not kept._state.adding
        assert kept._state.db == orm._state.db
    assert CrmBackend().get_user(10**9) is None
    assert CrmBackend().get_user(str(rep.pk)).pk == rep.pk
    # The checks ModelBackend makes are still made: inactive or departed is nobody.
    User.objects.filter(pk=rep.pk).update(is_active=False)
    assert CrmBackend().get_user(rep.pk) is None
    User.objects.filter(pk=rep.pk).update(is_active=True, status=User.Status.DEPARTED)
    assert CrmBackend().get_user(rep.pk) is None


def test_a_keyed_get_is_the_orms_get(rep):
    import pytest
    from django.contrib.sessions.models import Session
    from django.test import Client
    from django.utils import timezone

    from coachcrm.keyed import KeyedGet

    client = Client()
    client.force_login(rep)
    key = client.session.session_key
    sessions = KeyedGet(Session, ("session_key__exact", "expire_date__gt"))
    now = timezone.now()
    kept = sessions.get(session_key=key, expire_date=now)
    orm = Session.objects.get(session_key=key, expire_date__gt=now)
    assert (kept.session_key, kept.session_data, kept.expire_date) == (
        orm.session_key,
        orm.session_data,
        orm.expire_date,
    )
    with pytest.raises(Session.DoesNotExist):
        sessions.get(session_key=key, expire_date=orm.expire_date)
    with pytest.raises(Session.DoesNotExist):
        sessions.get(session_key="nope", expire_date=now)
