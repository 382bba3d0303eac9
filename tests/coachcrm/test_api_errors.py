"""Under /api/ every error answers the JSON error format, Django's own included."""

import pytest
from django.test import Client
from django.urls import reverse


def test_a_deeply_nested_body_is_a_400_not_a_recursion_error(token_client, rep):
    body = "[" * 20000 + "]" * 20000
    response = token_client(rep).post(reverse("api:job-changes"), data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "too_deep"


def test_a_body_nested_past_the_limit_is_refused(token_client, rep):
    body = '{"changes": ' + "[" * 40 + "]" * 40 + "}"
    response = token_client(rep).post(reverse("api:job-changes"), data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "too_deep"


def test_a_too_large_body_is_a_json_413(token_client, rep, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = token_client(rep).post(
        reverse("api:job-changes"), data='{"changes": ["' + "x" * 2000 + '"]}', content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_malformed_json_and_a_wrong_media_type_answer_the_error_format(token_client, rep):
    client = token_client(rep)
    response = client.post(reverse("api:job-changes"), data="{nope", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")
    response = client.post(reverse("api:job-changes"), data="<x/>", content_type="application/xml")
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")


def test_a_wrong_method_is_a_json_405(token_client, rep):
    response = token_client(rep).delete(reverse("api:account-list"))
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_a_server_error_under_the_api_is_json(rep, monkeypatch):
    from accounts import selectors

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "account_list", broken)
    client = Client(raise_request_exception=False)
    client.force_login(rep)
    response = client.get(reverse("api:account-list"))
    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "detail": "Something went wrong on our side; it has been logged. Try again later.",
    }


def test_a_disallowed_host_under_the_api_is_json(db):
    response = Client().get("/api/v1/accounts/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize("path", ["/accounts/", "/no-such-page/"])
def test_pages_keep_their_html_errors(rep_client, path, settings):
    settings.API_MAX_BODY_BYTES = 10
    response = rep_client.post(path, {"name": "x" * 50})
    assert "application/json" not in response.get("Content-Type", "")


def test_unauthenticated_is_a_json_401(api_client):
    response = api_client.get(reverse("api:account-list"))
    assert response.status_code == 401
    assert set(response.json()) == {"code", "detail"}
