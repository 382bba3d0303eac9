"""Security headers on pages, API and admin; the CSP report endpoint; the idle session timeout."""

import json
import logging

import pytest
import time_machine
from django.urls import reverse

from coachcrm.security import SESSION_SEEN_KEY

pytestmark = pytest.mark.django_db


def _csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split(" ", 1)[1] for part in header.split("; ")}


@pytest.mark.parametrize("url", ["/", "/accounts/", "/api/v1/accounts/", "/admin/", "/api/docs/"])
def test_signed_in_answers_carry_the_csp_permissions_policy_and_no_store(client, url):
    from tests import factories

    admin = factories.AdminFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.get(url)
    assert response.status_code == 200
    policy = _csp(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no nonce
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["report-uri"] == "/csp-report/"
    assert "camera=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["Cache-Control"] == "no-store, private"


def test_api_token_answer_is_never_cached(client, rep):
    credentials = {"username": rep.username, "password": "pw-for-tests"}
    response = client.post(reverse("api:auth-token"), credentials, content_type="application/json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"


def test_public_pages_carry_the_csp_and_permissions_policy_too(client):
    response = client.get(reverse("login"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]


def test_report_only_mode_sends_the_same_policy_as_report_only(client, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = None
    response = client.get(reverse("login"))
    assert "Content-Security-Policy" not in response
    assert "default-src 'self'" in response["Content-Security-Policy-Report-Only"]


def test_csp_report_is_logged_and_answered_204(client, caplog):
    report = {"csp-report": {"violated-directive": "script-src", "blocked-uri": "inline"}}
    with caplog.at_level(logging.WARNING, logger="coachcrm.security"):
        response = client.post(reverse("csp-report"), json.dumps(report), content_type="application/csp-report")
    assert response.status_code == 204
    assert "script-src" in caplog.text


def test_csp_report_refuses_get_and_survives_garbage(client):
    assert client.get(reverse("csp-report")).status_code == 405
    assert client.post(reverse("csp-report"), b"not json", content_type="application/json").status_code == 204


def test_idle_session_is_logged_out_after_session_idle_minutes(client, rep, settings):
    settings.SESSION_IDLE_MINUTES = 30
    with time_machine.travel("2026-06-01 09:00", tick=False) as clock:
        client.force_login(rep)
        assert client.get("/").status_code == 200
        assert SESSION_SEEN_KEY in client.session
        clock.shift(29 * 60)
        assert client.get("/").status_code == 200  # activity pushes the timeout back
        clock.shift(29 * 60)
        assert client.get("/").status_code == 200
        clock.shift(31 * 60)
        response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
