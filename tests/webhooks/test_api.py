"""The webhooks resource: admins only; the secret is shown once; the delivery log and redelivery."""

from django.urls import reverse

from webhooks import services
from webhooks.models import Webhook


def test_admin_registers_an_endpoint_and_sees_the_secret_once(token_client, admin_user):
    client = token_client(admin_user)
    response = client.post(
        reverse("api:webhook-list"),
        {"url": "https://93.184.216.34/hook", "events": ["coach.ended"], "description": "Slack"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    hook = Webhook.objects.get()
    assert response.json()["secret"] == hook.secret
    detail = client.get(reverse("api:webhook-detail", args=[hook.pk])).json()
    assert "secret" not in detail
    assert detail["events"] == ["coach.ended"]


def test_a_private_target_is_a_field_error(token_client, admin_user):
    response = token_client(admin_user).post(
        reverse("api:webhook-list"), {"url": "http://169.254.169.254/latest"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "private_address"
    assert "url" in response.json()["fields"]


def test_an_unknown_event_is_a_field_error(token_client, admin_user):
    response = token_client(admin_user).post(
        reverse("api:webhook-list"), {"url": "https://93.184.216.34/", "events": ["nope"]}, format="json"
    )
    assert response.status_code == 400
    assert "events" in response.json()["fields"]


def test_webhooks_are_for_admins_only(token_client, rep, manager):
    for user in (rep, manager):
        client = token_client(user)
        assert client.get(reverse("api:webhook-list")).status_code == 403
        response = client.post(reverse("api:webhook-list"), {"url": "https://93.184.216.34/"}, format="json")
        assert response.status_code == 403
    assert not Webhook.objects.exists()


def test_delivery_log_and_redeliver(receiver, token_client, admin_user, django_capture_on_commit_callbacks):
    hook = services.webhook_create(by=admin_user, url=receiver.url)
    receiver.codes = [500]
    with django_capture_on_commit_callbacks(execute=True):
        services.event_emit(event="coach.ended", data={"coach": 1})
    client = token_client(admin_user)
    [row] = client.get(reverse("api:webhook-deliveries", args=[hook.pk])).json()["results"]
    assert (row["status"], row["attempts"], row["response_code"]) == ("pending", 1, 500)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("api:webhook-redeliver", args=[hook.pk, row["id"]]))
    assert response.status_code == 202
    [row] = client.get(reverse("api:webhook-deliveries", args=[hook.pk])).json()["results"]
    assert (row["status"], row["attempts"], row["response_code"]) == ("delivered", 2, 200)
    # Another endpoint's delivery under this one is not found.
    other = services.webhook_create(by=admin_user, url=receiver.url)
    assert client.post(reverse("api:webhook-redeliver", args=[other.pk, row["id"]])).status_code == 404


def test_reactivating_a_disabled_endpoint_clears_its_failures(token_client, admin_user):
    hook = services.webhook_create(by=admin_user, url="https://93.184.216.34/")
    Webhook.objects.filter(pk=hook.pk).update(active=False, disabled_at="2026-01-01T00:00:00Z")
    response = token_client(admin_user).patch(reverse("api:webhook-detail", args=[hook.pk]), {"active": True})
    assert response.status_code == 200
    assert response.json()["disabled_at"] is None


def test_rotating_the_secret_shows_the_new_one_once_and_signs_with_it(
    receiver, token_client, admin_user, django_capture_on_commit_callbacks
):
    import json

    hook = services.webhook_create(by=admin_user, url=receiver.url)
    old = hook.secret
    response = token_client(admin_user).post(reverse("api:webhook-rotate-secret", args=[hook.pk]))
    assert response.status_code == 200, response.json()
    hook.refresh_from_db()
    assert response.json()["secret"] == hook.secret != old
    with django_capture_on_commit_callbacks(execute=True):
        services.event_emit(event="coach.ended", data={"coach": 1})
    headers, body = receiver.requests[0]
    timestamp = int(headers["X-CoachCRM-Timestamp"])
    assert headers["X-CoachCRM-Signature"] == services.signature(secret=hook.secret, timestamp=timestamp, body=body)
    assert json.loads(body)["data"] == {"coach": 1}


def test_only_an_admin_rotates_a_secret(token_client, admin_user, rep, manager):
    hook = Webhook.objects.create(url="https://93.184.216.34/", created_by=admin_user)
    for user in (rep, manager):
        response = token_client(user).post(reverse("api:webhook-rotate-secret", args=[hook.pk]))
        assert response.status_code == 403
        assert response.json()["code"]
    assert Webhook.objects.get().secret == hook.secret  # unchanged
