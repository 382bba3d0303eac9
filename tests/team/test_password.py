"""Password reset by e-mail, password change on the profile; both end the other sessions and the API tokens."""

import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from knox.models import AuthToken

pytestmark = pytest.mark.django_db


def _reset_link(settings) -> str:
    body = mail.outbox[-1].body
    match = re.search(re.escape(settings.SITE_URL.rstrip("/")) + r"(/reset/[^/\s]+/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


@pytest.fixture
def request_reset(client, rep, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://crm.example.com"

    def ask(email=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("password_reset"), {"email": email or rep.email})

    return ask


def test_login_page_links_to_the_reset(client):
    assert reverse("password_reset") in client.get(reverse("login")).content.decode()


def test_reset_end_to_end_the_link_works_once(client, rep, settings, request_reset):
    AuthToken.objects.create(user=rep)
    response = request_reset()
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mail.outbox[0].to == [rep.email]
    assert mail.outbox[0].subject == "CoachCRM: choose a new password"
    link = _reset_link(settings)

    response = client.get(link, follow=True)  # Django swaps the token for a session key
    assert response.context["validlink"]
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "a-long-new-secret-42", "new_password2": "a-long-new-secret-42"})
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("a-long-new-secret-42")
    assert not AuthToken.objects.filter(user=rep).exists()

    client.logout()
    response = client.get(link, follow=True)
    assert not response.context["validlink"]


def test_reset_link_expires(client, rep, settings, request_reset):
    with time_machine.travel("2026-06-01 09:00", tick=False) as clock:
        request_reset()
        link = _reset_link(settings)
        clock.shift(settings.PASSWORD_RESET_TIMEOUT + 60)
        response = client.get(link, follow=True)
    assert not response.context["validlink"]


def test_reset_answers_the_same_for_an_unknown_address(client, request_reset):
    response = request_reset("nobody@example.com")
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_reset_refuses_a_weak_new_password(client, rep, settings, request_reset):
    request_reset()
    response = client.get(_reset_link(settings), follow=True)
    response = client.post(response.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]


def test_reset_is_rate_limited(client, rep, request_reset):
    for _ in range(5):
        assert request_reset().status_code == 302
    response = request_reset()
    assert response.status_code == 429
    assert len(mail.outbox) == 5


def test_reset_pages_are_in_chinese_too(client):
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("password_reset"))
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()


def test_password_change_on_the_profile_ends_other_sessions_and_tokens(client, rep):
    from django.test import Client

    elsewhere = Client()
    elsewhere.force_login(rep)
    AuthToken.objects.create(user=rep)
    client.force_login(rep)
    assert client.get(reverse("team:profile")).status_code == 200
    response = client.post(
        reverse("team:password-change"),
        {
            "old_password": "pw-for-tests",
            "new_password1": "a-long-new-secret-42",
            "new_password2": "a-long-new-secret-42",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200  # this session stays
    assert elsewhere.get(reverse("home")).status_code == 302  # the other one is logged out
    assert not AuthToken.objects.filter(user=rep).exists()


def test_password_change_refuses_a_wrong_old_password(client, rep):
    client.force_login(rep)
    response = client.post(
        reverse("team:password-change"),
        {"old_password": "wrong", "new_password1": "a-long-new-secret-42", "new_password2": "a-long-new-secret-42"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
