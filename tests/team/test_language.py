import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from team import services


def test_user_set_language_remembers_the_choice(rep):
    services.user_set_language(user=rep, language="zh-hans")
    rep.refresh_from_db()
    assert rep.language == "zh-hans"


def test_user_set_language_refuses_an_unknown_code(rep):
    with pytest.raises(ValidationError, match="Unknown language"):
        services.user_set_language(user=rep, language="xx")
    rep.refresh_from_db()
    assert rep.language == ""


def test_language_switch_is_remembered_on_the_user_and_wins_over_the_browser(rep_client, rep):
    response = rep_client.post(reverse("language-set"), {"language": "zh-hans", "next": "/accounts/"})
    assert response.status_code == 302
    assert response.url == "/accounts/"
    rep.refresh_from_db()
    assert rep.language == "zh-hans"
    rep_client.cookies.clear()
    rep_client.force_login(rep)
    page = rep_client.get(reverse("home"), headers={"accept-language": "en"})
    assert page.headers["Content-Language"] == "zh-hans"


def test_browser_language_is_followed_when_the_user_has_no_choice(rep_client):
    page = rep_client.get(reverse("home"), headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert page.headers["Content-Language"] == "zh-hans"


def test_language_switch_before_login_sets_the_cookie(client, db):
    response = client.post(reverse("language-set"), {"language": "zh-hans", "next": "/login/"})
    assert response.cookies["django_language"].value == "zh-hans"


def test_language_switch_refuses_an_offsite_redirect(rep_client):
    response = rep_client.post(reverse("language-set"), {"language": "en", "next": "https://evil.example/"})
    assert response.url == "/"


def test_language_switch_requires_post(rep_client):
    assert rep_client.get(reverse("language-set")).status_code == 405
