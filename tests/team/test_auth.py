import datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from team.models import User
from tests import factories

PUBLIC_URL_NAMES = {
    "login", "locked-out", "language-set", "health", "health-ready", "csp-report",
    "login-code", "admin-login",
    "password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete",
}  # fmt: skip


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + entry.name, entry


def _example_url(name, pattern):
    kwargs = dict.fromkeys(pattern.pattern.regex.groupindex, 1)
    return reverse(name, kwargs=kwargs)


@pytest.mark.django_db
def test_every_page_requires_login(client):
    checked = 0
    for name, pattern in _walk(get_resolver().url_patterns):
        if name in PUBLIC_URL_NAMES:
            continue
        url = _example_url(name, pattern)
        response = client.get(url)
        assert response.status_code in (302, 401, 403), f"{url} answered {response.status_code} anonymously"
        if response.status_code == 302:
            assert response.url.startswith(reverse("login")), url
        checked += 1
    assert checked >= 10


def test_login_page_logs_a_rep_in(client, rep):
    response = client.post(reverse("login"), {"username": rep.username, "password": "pw-for-tests"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_departed_user_cannot_log_in(client, rep):
    rep.status = User.Status.DEPARTED
    rep.departure_date = datetime.date(2026, 1, 1)
    rep.save()
    response = client.post(reverse("login"), {"username": rep.username, "password": "pw-for-tests"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_deactivated_user_cannot_log_in(client, rep):
    rep.is_active = False
    rep.save()
    client.post(reverse("login"), {"username": rep.username, "password": "pw-for-tests"})
    assert "_auth_user_id" not in client.session


def test_repeated_failed_logins_lock_the_user_out_with_a_message(client, rep, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("login"), {"username": rep.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": rep.username, "password": "pw-for-tests"})
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert "_auth_user_id" not in client.session


def test_navigation_shows_admin_link_only_to_admins(client, rep, admin_user):
    client.force_login(rep)
    assert reverse("admin:index").encode() not in client.get(reverse("home")).content
    client.force_login(admin_user)
    assert reverse("admin:index").encode() in client.get(reverse("home")).content


def test_admin_cannot_delete_users(client, admin_user):
    victim = factories.RepFactory()
    client.force_login(admin_user)
    response = client.post(reverse("admin:team_user_delete", args=[victim.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert User.objects.filter(pk=victim.pk).exists()


@pytest.mark.django_db
def test_health_answers_without_login_in_one_query(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(reverse("health"))
    assert response.content == b"ok"


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        ("rep", ["service_catalog:allowance", "pipeline:opportunity-board"], ["service_catalog:approval-list"]),
        ("manager", ["service_catalog:approval-list", "service_catalog:allowance"], ["service_catalog:item-list"]),
        ("admin", ["service_catalog:item-list", "service_catalog:approval-list"], ["service_catalog:allowance"]),
    ],
)
def test_navigation_shows_what_the_role_can_do(client, db, role, visible, hidden):
    user = factories.UserFactory(role=role)
    client.force_login(user)
    page = client.get(reverse("home")).content.decode()
    for name in visible:
        assert f'href="{reverse(name)}"' in page, name
    for name in hidden:
        assert f'href="{reverse(name)}"' not in page, name
